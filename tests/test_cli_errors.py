"""Every user mistake: one 'error:' line saying what and how to fix, exit 2, nothing lost."""

import hashlib
import os

import numpy as np
import pytest

from conftest import TINY, assert_clean_error, run_main, run_module
from ganlib.errors import GanlibError


def test_unknown_variant_lists_the_known_ones():
    for module in ("ganlib.sample", "ganlib.train"):
        error = assert_clean_error(run_main(module, "stylegan"), "unknown variant 'stylegan'")
        assert "vanilla, cgan, dcgan, cdcgan, adgan, wgan, wgan_gp, cwgan_gp" in error


def test_unknown_dataset(tmp_path):
    assert_clean_error(run_main("ganlib.train", "dcgan", "--dataset", "cifar100",
                                  "--out", tmp_path / "run"), "unknown dataset")


def test_missing_and_corrupt_model_files(tmp_path):
    assert_clean_error(run_main("ganlib.sample", "dcgan", "--model", tmp_path / "none.keras"),
                       "no model file")
    corrupt = tmp_path / "corrupt.keras"
    corrupt.write_bytes(b"PK\x03\x04 definitely not a whole zip archive")
    assert_clean_error(run_main("ganlib.sample", "dcgan", "--model", corrupt),
                       "not a keras model file")
    import zipfile

    foreign = tmp_path / "foreign.keras"  # a whole zip archive, but not a Keras model
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert_clean_error(run_main("ganlib.sample", "dcgan", "--model", foreign), "cannot load")


def test_variant_without_a_shipped_model_points_at_the_train_command():
    error = assert_clean_error(run_main("ganlib.sample", "vanilla", "--dataset", "fashion_mnist"),
                               "no shipped vanilla generator")
    assert "python -m ganlib.train vanilla" in error


def test_label_errors(tiny_cgan_run, tmp_path):
    model = tiny_cgan_run / "generator.keras"
    assert_clean_error(run_main("ganlib.sample", "cgan", "--model", model, "--label", "3"),
                       "label 3", "1, 4, 7")
    assert_clean_error(run_main("ganlib.sample", "cgan", "--model", model, "--label", "42"),
                       "label 42")
    assert_clean_error(run_main("ganlib.sample", "dcgan", "--label", "3"),
                       "only for conditional")


def test_output_that_cannot_be_written(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")
    assert_clean_error(run_main("ganlib.sample", "dcgan", "--out", blocker / "x.png"),
                       "cannot write")
    assert_clean_error(run_main("ganlib.sample", "dcgan", "--out", tmp_path / "x.jpg"),
                       ".png", ".npy")
    assert_clean_error(run_main("ganlib.train", "vanilla", "--out", blocker / "run"),
                       "cannot write to folder")
    assert blocker.read_text() == "keep me"


def test_resuming_with_other_fixed_options_is_refused(tiny_cgan_run):
    before = _digest(tiny_cgan_run / "checkpoint.npz")
    assert_clean_error(run_main("ganlib.train", "dcgan", "--out", tiny_cgan_run),
                       "holds a run with variant='cgan'")
    assert _digest(tiny_cgan_run / "checkpoint.npz") == before


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    run = tmp_path / "run"
    common = ["vanilla", "--out", run, "--limit", "128", "--batch-size", "32", *TINY]
    assert run_module("ganlib.train", *common, "--epochs", "1").returncode == 0
    good = _digest(run / "checkpoint.npz")
    # An absurd learning rate blows the weights up to inf within a step or two.
    result = run_module("ganlib.train", *common, "--epochs", "3", "--learning-rate", "1e30")
    assert_clean_error(result, "nan", "last good checkpoint (step 4)", "lower --learning-rate")
    assert _digest(run / "checkpoint.npz") == good
    with np.load(run / "checkpoint.npz") as stored:
        assert all(np.isfinite(stored[key]).all() for key in stored.files
                   if key != "state" and stored[key].dtype.kind == "f")


def test_bad_numbers_are_refused(tmp_path):
    assert_clean_error(run_main("ganlib.sample", "dcgan", "--num", "0"), "--num")
    assert_clean_error(run_main("ganlib.train", "dcgan", "--epochs", "0",
                                  "--out", tmp_path / "r"), "--epochs")
    assert_clean_error(run_main("ganlib.train", "dcgan", "--classes", "one,two",
                                  "--out", tmp_path / "r"), "--classes")
    assert_clean_error(run_main("ganlib.train", "dcgan", "--generator-loss", "hinge",
                                  "--out", tmp_path / "r"), "--generator-loss", "minimax")
    assert_clean_error(run_main("ganlib.train", "adgan", "--dropout-initial", "1.5",
                                  "--out", tmp_path / "r"), "--dropout-initial")
    assert not os.path.exists(tmp_path / "r" / "checkpoint.npz")


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Each new option's bad values, and the tricks that mean nothing with the chosen loss.
BAD_TRICKS = [
    (["dcgan", "--label-flip", "1"], "--label-flip", "[0, 1)"),
    (["dcgan", "--label-flip", "-0.1"], "--label-flip"),
    (["dcgan", "--label-flip", "nan"], "--label-flip"),
    (["wgan", "--critic-steps", "0"], "--critic-steps", "between 1 and 100"),
    (["wgan", "--weight-clip", "-0.01"], "--weight-clip"),
    (["wgan", "--weight-clip", "0"], "lipschitz", "--weight-clip"),
    (["wgan_gp", "--gradient-penalty", "-1"], "--gradient-penalty", "0 or more"),
    (["wgan_gp", "--weight-clip", "0.01"], "not both"),
    (["wgan_gp", "--label-smoothing", "0.1"], "--label-smoothing needs --loss bce"),
    (["wgan", "--label-flip", "0.05"], "--label-flip needs --loss bce or hinge"),
    (["dcgan", "--loss", "hinge", "--policy", "monitored"], "--policy monitored"),
    (["dcgan", "--loss", "l2"], "--loss", "bce or wasserstein or hinge"),
    (["dcgan", "--policy", "sometimes"], "--policy"),
    (["dcgan", "--boost-g-only", "1.5"], "--boost-g-only"),
    (["dcgan", "--boost-d-only", "0.00001"], "--boost-d-only"),
    (["dcgan", "--boost-spell", "0"], "--boost-spell"),
    (["dcgan", "--sleep-discriminator", "5", "--sleep-period", "5"], "--sleep-period"),
    (["dcgan", "--monitor-ratio", "0"], "--monitor-ratio"),
    (["dcgan", "--minibatch-kernels", "0"], "--minibatch-kernels"),
    (["dcgan", "--minibatch-kernel-dim", "0"], "--minibatch-kernel-dim"),
    (["dcgan", "--boost-swap", "1.5"], "--boost-swap"),
    (["dcgan", "--sleep-discriminator", "-1"], "--sleep-discriminator"),
    (["dcgan", "--latent-dim", "999999999"], "--latent-dim", "between 1 and 10000"),
    (["wgan", "--critic-steps", "101"], "--critic-steps", "between 1 and 100"),
    (["dcgan", "--g-filters", "1e-9"], "--g-filters"),
    (["dcgan", "--d-learning-rate", "0"], "--d-learning-rate", "positive"),
    (["dcgan", "--g-learning-rate", "nan"], "--g-learning-rate"),
    (["dcgan", "--beta-1", "5"], "--beta-1"),
    (["dcgan", "--beta-2", "1"], "--beta-2"),
    (["dcgan", "--optimizer", "sgd"], "--optimizer"),
    (["dcgan", "--patience", "0"], "--patience", "at least 1"),
    (["wgan", "--spectral-norm"], "--weight-clip and --spectral-norm"),
    (["dcgan", "--projection"], "--projection needs labels"),
    (["cdcgan", "--info-code", "10"], "--info-code", "real labels already"),
    (["dcgan", "--info-code", "1"], "--info-code", "between 2 and --latent-dim"),
    (["dcgan", "--info-weight", "0"], "--info-weight", "positive"),
    (["dcgan", "--ema", "1"], "--ema", "[0, 1)"),
    (["dcgan", "--diff-augment", "rotate"], "--diff-augment"),
    (["dcgan", "--diff-augment", "color"], "needs colour images"),
    (["dcgan", "--image-size", "64"], "fixed size"),
    (["dcgan", "--dataset", "folder"], "needs --data-dir"),
    (["dcgan", "--dataset", "pokemon", "--image-size", "30"], "multiple of 4"),
    (["dcgan", "--dataset", "pokemon", "--background", "plaid"], "not a colour"),
]


@pytest.mark.parametrize("arguments", BAD_TRICKS, ids=lambda case: " ".join(case[0]))
def test_bad_trick_options_are_refused_before_training(arguments, tmp_path):
    argv, *phrases = arguments
    from ganlib import train

    # In-process: the same parse and checks as the command line, without its start-up.
    with pytest.raises(GanlibError) as error:
        train.parse_args([*argv, "--out", str(tmp_path / "r")])[0].resolved()
    for phrase in phrases:
        assert phrase.lower() in str(error.value).lower(), str(error.value)


def test_bad_trick_options_exit_cleanly_from_the_command_line(tmp_path):
    result = run_main("ganlib.train", "wgan_gp", "--label-smoothing", "0.1",
                        "--out", tmp_path / "r")
    assert_clean_error(result, "--label-smoothing needs --loss bce")
    assert not (tmp_path / "r").exists()


def test_option_checks_do_not_start_tensorflow():
    code = ("import sys\nfrom ganlib import train\n"
            "config = train.parse_args(['wgan_gp', '--patience', '3'])[0].resolved()\n"
            "print(config.knobs.critic_steps, 'tensorflow' in sys.modules)")
    import subprocess
    import sys

    from conftest import ROOT

    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.stdout.split() == ["5", "False"], result.stderr


def test_bad_precision_judge_and_classifier_options_are_one_line(tmp_path, capsys):
    from ganlib import classifier, evaluate, train

    with pytest.raises(GanlibError, match="--precision must be one of"):
        train.TrainConfig("dcgan", str(tmp_path / "r"), precision="float8").resolved()
    assert classifier.main(["folder", "--data-dir", str(tmp_path)]) == 2
    assert "pass --out" in capsys.readouterr().err
    assert evaluate.main(["dcgan", "--classifier", str(tmp_path / "missing.keras")]) == 2
    assert "no classifier for mnist" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_a_closed_output_pipe_ends_a_command_quietly(tmp_path):
    """`python -m ganlib.train ... | head -1`: no traceback, the shell's SIGPIPE code, files whole."""
    import json
    import subprocess
    import sys

    from conftest import ROOT

    run = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "ganlib.train", "vanilla", "--out", str(run), "--epochs", "3",
         "--limit", "256", "--seed", "0"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first_line = process.stdout.readline()  # what `head -1` reads before it exits
    process.stdout.close()
    stderr = process.stderr.read()
    assert process.wait(timeout=600) == 141, stderr
    assert first_line.strip()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    config = json.loads((run / "config.json").read_text())
    assert config["variant"] == "vanilla"
    for line in (run / "history.jsonl").read_text().splitlines():
        json.loads(line)  # every line the run wrote is a whole record


def test_every_command_turns_ganlib_errors_into_one_line_and_exit_2(capsys):
    import importlib
    import pkgutil

    import ganlib
    from ganlib import cli

    commands = [name for _, name, _ in pkgutil.walk_packages(ganlib.__path__, "ganlib.")
                if hasattr(importlib.import_module(name), "main")]
    assert {"ganlib.train", "ganlib.sample", "ganlib.compare", "ganlib.data.__main__"} <= set(
        commands)
    for name in commands:
        main = importlib.import_module(name).main
        assert hasattr(main, "__wrapped__"), f"{name}.main lacks @cli.reports_errors"

    @cli.reports_errors
    def failing_main(argv=None):
        raise GanlibError("no such thing; pass another")

    assert failing_main([]) == cli.EXIT_USER_ERROR == 2
    assert capsys.readouterr().err == "error: no such thing; pass another\n"
