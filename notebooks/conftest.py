"""nbval runs the notebooks in quick mode: a few training steps each, not the full runs."""

import os

# The notebook kernels inherit this process's environment.
os.environ["GANLIB_QUICK"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# float32 on every CI machine, with or without native bfloat16 (--precision auto would differ).
os.environ["GANLIB_AUTO_PRECISION"] = "float32"
# No XLA compiling (seconds per model) for runs of a few steps; tests of XLA ask for --xla.
os.environ["GANLIB_XLA"] = "0"
