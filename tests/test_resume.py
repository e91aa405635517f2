"""Kill a training process with SIGKILL mid-epoch, resume it, and get the same weights.

Two runs: the DCGAN (XLA-compiled, as by default), and a WGAN-GP with the boost policy, whose step also holds random
interpolation weights, random label swaps and a spell state that must survive the kill.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ROOT, TINY

# Both runs: 16 steps per epoch, 3 epochs, a checkpoint every 5 steps.
COMMON = ["--batch-size", "16", "--epochs", "3", "--checkpoint-every", "5",
          "--sample-every", "5", "--deterministic", "--seed", "11", *TINY]
RUNS = {
    # The DCGAN as users train it: an XLA-compiled step (the suite's default is --no-xla).
    "dcgan": ["dcgan", "--limit", "256", "--xla"],
    # 1,280 images / (16 x 5 critic batches) = 16 steps. The boost thresholds are raised
    # so that spells and swapped labels happen within these 48 steps.
    "wgan_gp_boost": ["wgan_gp", "--limit", "1280", "--policy", "boost", "--boost-g-only",
                      "0.05", "--boost-d-only", "0.15", "--boost-swap", "0.9",
                      "--boost-spell", "4"],
}


def _train(out, run, *extra):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "ganlib.train", *RUNS[run], *COMMON, *extra, "--out", str(out)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _checkpoint_step(out):
    try:
        with np.load(out / "checkpoint.npz") as stored:
            return json.loads(str(stored["state"]))["step"]
    except (OSError, ValueError, KeyError):
        return None  # not written yet


def _arrays(out):
    with np.load(out / "checkpoint.npz") as stored:
        return {key: stored[key] for key in stored.files if key != "state"}


@pytest.mark.parametrize("run", list(RUNS))
def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(tmp_path, run):
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    process = _train(killed, run)
    deadline = time.time() + 300
    # Wait for a checkpoint inside epoch 2 (steps 17..31), then kill without warning.
    while time.time() < deadline and not (_checkpoint_step(killed) or 0) > 16:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    step_at_kill = _checkpoint_step(killed)
    assert step_at_kill is not None and 16 < step_at_kill < 48 and step_at_kill % 16
    assert not os.path.exists(killed / "generator.keras")  # it really died mid-run
    (killed / "samples" / ".tmp-left-by-a-kill.png").write_bytes(b"half a PNG")

    resumed = _train(killed, run)
    output = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, output[1]
    # Printed relative to the folder the command ran in (this one), not as an absolute path.
    assert f"resuming {os.path.relpath(killed)} at step {step_at_kill}" in output[0]
    uninterrupted = _train(straight, run)
    assert uninterrupted.communicate(timeout=600) and uninterrupted.returncode == 0

    # Both networks, both optimizers (moments and step counters), BatchNorm statistics,
    # dropout RNG state, the model's step and the boost spell: with deterministic ops and
    # data, noise and the tricks' draws derived from (seed, step), the resumed run is
    # bit-identical to the uninterrupted one.
    resumed_arrays, straight_arrays = _arrays(killed), _arrays(straight)
    assert resumed_arrays.keys() == straight_arrays.keys()
    for key in straight_arrays:
        np.testing.assert_array_equal(resumed_arrays[key], straight_arrays[key], err_msg=key)
    history = [json.loads(line) for line in open(killed / "history.jsonl")]
    assert [r["step"] for r in history if r["kind"] == "epoch"] == [16, 32, 48]
    assert not list(killed.rglob(".tmp-*"))  # the resumed run cleared the kill's debris
    assert (killed / "progress.gif").stat().st_size > 0
    if run == "wgan_gp_boost":  # the tricks really ran: swapped labels and resting networks
        epochs = [r for r in history if r["kind"] == "epoch"]
        assert all(r["gradient_penalty"] > 0 for r in epochs)
        assert max(r["d_labels_swapped"] for r in epochs) > 0
        assert min(min(r["d_updated"], r["g_updated"]) for r in epochs) < 1


def test_sigterm_writes_a_checkpoint_at_the_current_step_and_exits_143(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "ganlib.train", "dcgan", "--limit", "256",
               "--batch-size", "16", "--checkpoint-every", "7", "--out", str(out), *TINY]
    process = subprocess.Popen([*command, "--epochs", "50"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and not (_checkpoint_step(out) or 0) >= 7:
        time.sleep(0.05)
    time.sleep(0.5)  # a few steps past the periodic checkpoint
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-2000:]
    assert "Traceback" not in stderr
    step = int(stderr.split("checkpoint written at step ")[1].split(";")[0])
    assert _checkpoint_step(out) == step and step >= 7  # no finished step was lost
    assert not os.path.exists(out / "generator.keras")  # the run is not finished
    # 16 steps per epoch: finish the epoch the stop fell in.
    resumed = subprocess.run([*command, "--epochs", str(step // 16 + 1)], env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"at step {step}" in resumed.stdout


def test_a_second_training_on_the_same_folder_is_refused_until_the_first_dies(tmp_path):
    from conftest import assert_clean_error, run_main, run_module

    out = tmp_path / "run"
    long_run = ("--epochs", "1000")  # it is killed below, long before the end
    first = _train(out, "dcgan", *long_run)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and _checkpoint_step(out) is None:
            time.sleep(0.05)
        # In-process: the folder's lock is checked before any training starts.
        second = run_main("ganlib.train", *RUNS["dcgan"], *COMMON, *long_run, "--out", out)
        error = assert_clean_error(second, "being trained right now", f"process {first.pid}")
        assert "choose another --out" in error
    finally:
        first.send_signal(signal.SIGKILL)  # its lock dies with it
        first.wait()
    # Resume for two epochs past the last checkpoint (16 steps per epoch), not the 1000.
    epochs = str(_checkpoint_step(out) // 16 + 2)
    third = run_module("ganlib.train", *RUNS["dcgan"], *COMMON, "--epochs", epochs, "--out", out)
    assert third.returncode == 0, third.stderr[-2000:]
    assert "resuming" in third.stdout


def test_a_kill_at_any_moment_loses_less_than_one_checkpoint_interval(tmp_path):
    """Grids are written after the checkpoint of their step, so after a kill the newest grid
    is never a whole interval past the checkpoint: at most `every - 1` steps are redone."""
    import random

    out, every = tmp_path / "run", 3
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "ganlib.train", "dcgan", "--limit", "256", "--epochs", "40",
               "--batch-size", "16", "--checkpoint-every", str(every), "--sample-every", "1",
               "--out", str(out), *TINY]
    rng = random.Random(7)
    for _ in range(3):
        start = _checkpoint_step(out) or 0
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        deadline = time.time() + 300
        while time.time() < deadline and (_checkpoint_step(out) or 0) <= start:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 1.5))  # anywhere: mid-step, mid-write, mid-grid
        process.send_signal(signal.SIGKILL)
        process.wait()
        grids = [int(name.name[5:12]) for name in (out / "samples").glob("step_*.png")]
        saved = _checkpoint_step(out)
        assert saved is not None and max(grids) - saved < every, (max(grids), saved)
