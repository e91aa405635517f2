"""Damaged files and odd values: one clear line and a non-zero exit, never a traceback."""

import gzip
import hashlib
import json
import os
import shutil
import struct

import numpy as np
import pytest

from conftest import ROOT, TINY, assert_clean_error, run_main, run_module


@pytest.fixture
def run_copy(tiny_cgan_run, tmp_path):
    """A private copy of a finished tiny run, free to damage."""
    copy = tmp_path / "run"
    shutil.copytree(tiny_cgan_run, copy)
    return copy


def _resume(run):
    return run_module("ganlib.train", "cgan", "--out", run, "--classes", "1,4,7", "--limit",
                      "240", "--epochs", "1", "--batch-size", "40", "--sample-every", "2",
                      "--checkpoint-every", "3", "--quiet")


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damage(path, how):
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["truncated", "flipped byte"])
def test_a_damaged_checkpoint_falls_back_to_the_previous_one(run_copy, damage):
    import numpy as np

    checkpoint, previous = run_copy / "checkpoint.npz", run_copy / "checkpoint.previous.npz"
    with np.load(previous) as stored:  # the run kept the checkpoint before its last one
        previous_step = json.loads(str(stored["state"]))["step"]
    _damage(checkpoint, damage)
    result = _resume(run_copy)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "warning: checkpoint" in result.stdout and "unreadable" in result.stdout
    # Printed relative to the folder the command ran in (the repository root here).
    shown = os.path.relpath(run_copy, ROOT)
    assert f"resuming {shown} at step {previous_step}" in result.stdout


@pytest.mark.parametrize("damage", ["truncated", "flipped byte"])
def test_two_damaged_checkpoints_are_named_not_a_traceback(run_copy, damage):
    checkpoint, previous = run_copy / "checkpoint.npz", run_copy / "checkpoint.previous.npz"
    _damage(checkpoint, damage)
    _damage(previous, damage)
    before = _digest(checkpoint), _digest(previous)
    assert_clean_error(_resume(run_copy), "both unreadable")
    assert (_digest(checkpoint), _digest(previous)) == before  # left for the user to inspect


def test_a_config_that_is_not_an_object_is_named(run_copy):
    (run_copy / "config.json").write_text("[]")
    assert_clean_error(_resume(run_copy), "config.json", "not a run's options")


def test_a_damaged_history_line_never_blocks_a_resume(run_copy):
    history = run_copy / "history.jsonl"
    good = history.read_text().splitlines()
    history.write_text("\n".join([good[0], '{"kind": "step", "step": 3, oops}', *good[1:]])
                       + "\n")
    result = _resume(run_copy)
    assert result.returncode == 0, result.stderr[-2000:]
    records = [json.loads(line) for line in history.read_text().splitlines()]
    assert [r["step"] for r in records] == [json.loads(line)["step"] for line in good]


@pytest.mark.parametrize("content", [b"", b"just some text\n"])
def test_a_file_that_is_not_a_keras_model(tmp_path, content):
    fake = tmp_path / "model.keras"
    fake.write_bytes(content)
    assert_clean_error(run_main("ganlib.sample", "dcgan", "--model", fake),
                       "not a keras model file")


def test_a_classifier_is_not_a_generator(tmp_path):
    from conftest import ROOT

    classifier = f"{ROOT}/trained_models/classifier_mnist.keras"
    for module in ("ganlib.sample", "ganlib.evaluate"):
        assert_clean_error(run_main(module, "dcgan", "--model", classifier),
                           "not a generator")


@pytest.mark.parametrize("arguments,phrase", [
    (["ganlib.sample", "dcgan", "--seed", "-1"], "--seed"),
    (["ganlib.evaluate", "dcgan", "--seed", "-1"], "--seed"),
    (["ganlib.sample", "dcgan", "--std", "nan"], "--std"),
    (["ganlib.sample", "dcgan", "--std", "inf"], "--std"),
    (["ganlib.sample", "dcgan", "--mean", "nan"], "--mean"),
    (["ganlib.ship", "runs/none", "--num", "0"], "--num"),
])
def test_odd_numbers_are_refused(arguments, phrase, tmp_path):
    assert_clean_error(run_module(*arguments, cwd=tmp_path), phrase)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_train_refuses_a_negative_seed_and_empty_classes(tmp_path):
    from ganlib import train
    from ganlib.errors import GanlibError

    for argv, phrase in ((["dcgan", "--seed", "-1"], "--seed"),
                         (["dcgan", "--classes", ""], "--classes")):
        with pytest.raises(GanlibError, match=phrase):
            train.parse_args([*argv, "--out", str(tmp_path / "r")])[0].resolved()
    assert_clean_error(run_main("ganlib.train", "dcgan", "--seed", "-1", "--out",
                                  tmp_path / "r", *TINY), "--seed")


def _write_idx(path, array):
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I",
                                                                      *array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


def test_idx_files_whose_counts_differ_are_refused(tmp_path):
    from ganlib.data import load_dataset
    from ganlib.errors import GanlibError

    rng = np.random.default_rng(0)
    for prefix, count in (("train", 20), ("t10k", 10)):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz",
                   rng.integers(0, 255, (count, 28, 28)))
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz",
                   rng.integers(0, 10, count + (3 if prefix == "train" else 0)))
    with pytest.raises(GanlibError, match="20 images but 23 labels"):
        load_dataset("fashion_mnist", data_dir=str(tmp_path), verbose=False)


def test_report_names_a_card_without_its_metrics(tmp_path):
    from conftest import ROOT

    models = tmp_path / "models"
    shutil.copytree(f"{ROOT}/trained_models", models,
                    ignore=shutil.ignore_patterns("*.keras", "*.gif"))
    card = json.loads((models / "dcgan_mnist.json").read_text())
    del card["metrics"]["novelty"]
    (models / "dcgan_mnist.json").write_text(json.dumps(card))
    assert_clean_error(run_main("ganlib.report", "--out", tmp_path / "report", "--models",
                                  models), "dcgan_mnist.json", "metrics.novelty", "re-ship")


def test_fashion_mnist_missing_everywhere_is_one_clear_line(tmp_path, monkeypatch):
    """No Debian package and only the empty folder a failed Keras download leaves behind."""
    from ganlib import data
    from ganlib.data import keras_cache, mnist
    from ganlib.errors import GanlibError

    (tmp_path / "keras" / "fashion-mnist").mkdir(parents=True)
    monkeypatch.setattr(keras_cache, "KERAS_CACHE", str(tmp_path / "keras"))
    monkeypatch.setattr(mnist, "FASHION_MNIST_DIR", str(tmp_path / "not-installed"))
    try:  # Keras really tries its download: offline (as here and in CI) it fails
        data.load_dataset("fashion_mnist", verbose=False)
    except GanlibError as error:
        message = str(error)
    else:
        pytest.skip("this machine is online: Keras downloaded Fashion-MNIST")
    assert "apt-get install dataset-fashion-mnist" in message and "--data-dir" in message
    assert "\n" not in message

