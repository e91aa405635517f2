"""ganlib: the small library behind the GAN tutorial notebooks.

Every notebook, `python -m ganlib.train`, `python -m ganlib.sample` and the tests call
this same code. Read the modules in the order knobs -> variants -> data -> nets ->
losses/ -> tricks/ -> gan -> callbacks.
"""

import os

# TensorFlow prints pages of start-up chatter at INFO level; learners need none of it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
