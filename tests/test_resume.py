"""Kill a training process with SIGKILL mid-epoch, resume it, and get the same weights."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

from conftest import ROOT, TINY

# 256 images / batch 16 = 16 steps per epoch; 3 epochs; a checkpoint every 5 steps.
ARGS = ["dcgan", "--limit", "256", "--batch-size", "16", "--epochs", "3",
        "--checkpoint-every", "5", "--sample-every", "5", "--deterministic", "--seed", "11", *TINY]


def _train(out):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "ganlib.train", *ARGS, "--out", str(out)],
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


def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(tmp_path):
    killed, straight = tmp_path / "killed", tmp_path / "straight"
    process = _train(killed)
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

    resumed = _train(killed)
    output = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, output[1]
    assert f"resuming {killed} at step {step_at_kill}" in output[0]
    uninterrupted = _train(straight)
    assert uninterrupted.communicate(timeout=600) and uninterrupted.returncode == 0

    # Both networks, both optimizers (moments and step counters), BatchNorm statistics and
    # dropout RNG state: with deterministic ops and data/noise derived from (seed, step),
    # the resumed run is bit-identical to the uninterrupted one.
    resumed_arrays, straight_arrays = _arrays(killed), _arrays(straight)
    assert resumed_arrays.keys() == straight_arrays.keys()
    for key in straight_arrays:
        np.testing.assert_array_equal(resumed_arrays[key], straight_arrays[key], err_msg=key)
    history = [json.loads(line) for line in open(killed / "history.jsonl")]
    assert [r["step"] for r in history if r["kind"] == "epoch"] == [16, 32, 48]
    assert not list(killed.rglob(".tmp-*"))  # the resumed run cleared the kill's debris
    assert (killed / "progress.gif").stat().st_size > 0
