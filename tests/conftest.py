"""Shared fixtures: real data (the offline MNIST sample or Keras's MNIST), tiny trained runs."""

import os
import subprocess
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# float32 on every CI machine, with or without native bfloat16 (--precision auto would differ).
os.environ["GANLIB_AUTO_PRECISION"] = "float32"
# No XLA compiling (seconds per model) for runs of a few steps; tests of XLA ask for --xla.
os.environ["GANLIB_XLA"] = "0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Small networks and few images: every test trains in seconds on two CPU cores.
TINY = ["--g-filters", "0.25", "--d-filters", "0.25", "--quiet"]


def run_module(module, *args, cwd=None, timeout=600, tf_log_level="3"):
    """Run `python -m module args` the way a user would; return the CompletedProcess.

    tf_log_level=None leaves TF_CPP_MIN_LOG_LEVEL unset, as in a user's fresh shell.
    """
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": tf_log_level}
    if tf_log_level is None:
        del env["TF_CPP_MIN_LOG_LEVEL"]
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=cwd or ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)


def run_main(module, *args, cwd=None):
    """`python -m module args` run in this process (no new interpreter, no TensorFlow start-up).

    For the commands' error paths, which stop before any training: the same `main(argv)` the
    console runs, its stdout and stderr captured, an escaped exception printed as the
    traceback a user would see. Returns a CompletedProcess like `run_module`.
    """
    import contextlib
    import importlib
    import io
    import traceback

    stdout, stderr = io.StringIO(), io.StringIO()
    before = os.getcwd()
    try:
        os.chdir(cwd or ROOT)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = importlib.import_module(module).main([str(arg) for arg in args])
            except SystemExit as exit_:  # argparse's own errors
                code = exit_.code if isinstance(exit_.code, int) else 1
            except Exception:  # noqa: BLE001 - shown to the test as the user would see it
                traceback.print_exc()
                code = 1
    finally:
        os.chdir(before)
    return subprocess.CompletedProcess([module, *map(str, args)], code or 0,
                                       stdout.getvalue(), stderr.getvalue())


def assert_clean_error(result, *phrases):
    """A user error: non-zero exit, one 'error:' line naming the problem, no traceback."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr
    for phrase in phrases:
        assert phrase.lower() in error_lines[0].lower(), error_lines[0]
    return error_lines[0]


def dataset_available(name):
    """True when this machine can load the dataset (MNIST always: the offline sample)."""
    from ganlib.data import load_dataset
    from ganlib.errors import GanlibError

    try:
        load_dataset(name, "test", limit=1, verbose=False)
        return True
    except GanlibError:
        return False


NEEDS_FASHION = ("Fashion-MNIST is not on this machine: install Debian's "
                 "dataset-fashion-mnist (.ci/run does) or go online once")


def small_knobs(**changes):
    """Knobs of a small, fast network: a quarter of the reference widths, 16 latent dims."""
    from ganlib.knobs import Knobs

    return Knobs(latent_dim=16, g_filters=0.25, d_filters=0.25, **changes)




def compiled_gan(name, data, knobs=None, seed=0):
    """A compiled GAN of variant `name` with the variant's own optimizers."""
    import keras

    from ganlib.optimizers import OptimizerSettings, compile_gan
    from ganlib.variants import build_gan, get_variant

    keras.utils.set_random_seed(seed)
    variant = get_variant(name)
    gan = build_gan(variant, data.image_shape, data.num_classes, knobs or small_knobs(),
                    seed=seed)
    return compile_gan(gan, OptimizerSettings.for_variant(variant))


def batches(gan, data, batch_size, epochs, seed=0):
    """The real training stream for `gan` over `epochs` epochs."""
    from ganlib.data import training_batches

    return training_batches(data, batch_size, gan.latent_dim, gan.critic_steps, seed, 0, epochs)


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST training images the machine can reach (full or the offline sample)."""
    from ganlib.data import load_dataset

    return load_dataset("mnist")


@pytest.fixture(scope="session")
def tiny_cgan_run(tmp_path_factory):
    """A conditional GAN trained for a few steps on digits 1, 4 and 7 (a real run folder)."""
    from ganlib import train

    out = tmp_path_factory.mktemp("runs") / "cgan-147"
    code = train.main(["cgan", "--out", str(out), "--classes", "1,4,7", "--limit", "240",
                       "--epochs", "1", "--batch-size", "40", "--sample-every", "2",
                       "--checkpoint-every", "3", "--quiet"])
    assert code == 0
    return out
