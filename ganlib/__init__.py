"""ganlib: the small library behind the GAN tutorial notebooks.

Every notebook, `python -m ganlib.train`, `python -m ganlib.sample` and the tests call
this same code. Read the modules in the order knobs -> variants -> data -> nets ->
losses/ -> tricks/ -> gan -> callbacks.
"""

import os

# TensorFlow's C++ side logs start-up chatter (INFO) and, while training on a CPU, graph
# optimiser notes at ERROR level ("remapper failed", "oneDNN supports DT_INT32 only ...")
# that change nothing; learners need none of it. Real failures still raise in Python.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"
