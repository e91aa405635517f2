"""Start TensorFlow without its C++ start-up log, for the notebooks and the commands.

On a CPU machine TensorFlow's first import prints a few lines from C++ (oneDNN notes, CUDA
probing, an `E0000 ... cuInit` "error" that only means there is no GPU) before its log
level applies. A learner's first command should print what it did, not that.
"""

import os
import sys


def import_tensorflow_quietly():
    """Import TensorFlow with file descriptor 2 pointed at /dev/null for its start-up only.

    Those lines come from C++, straight to the descriptor, so Python's `sys.stderr` cannot
    catch them. Python errors still raise as usual, and stderr is back once TensorFlow has
    started.
    """
    # The log level itself (3: no C++ notes after start-up) is set by ganlib/__init__.py,
    # which runs before this module.
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices()  # the device probe logs here
    finally:
        os.dup2(saved, 2)
        os.close(saved)
