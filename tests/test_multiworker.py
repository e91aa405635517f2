"""`--distribute multiworker`: two worker processes on 127.0.0.1 train like one process,
only the chief writes the run folder, and a restart of both workers resumes them."""

import json
import os
import socket
import subprocess
import sys

import numpy as np

from conftest import ROOT, assert_clean_error, run_module

RUN = ["vanilla", "--limit", "192", "--batch-size", "32", "--deterministic", "--latent-dim",
       "16", "--d-dropout", "0", "--quiet"]


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _train_on_two_workers(out, epochs):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3",
               "TF_CONFIG": json.dumps(tf_config)}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "ganlib.train", *RUN, "--epochs", str(epochs), "--out",
             str(out), "--distribute", "multiworker"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
    return [stdout for stdout, _ in outputs]


def _weights(folder):
    with np.load(os.path.join(folder, "checkpoint.npz")) as stored:
        state = json.loads(str(stored["state"]))
        return state, [stored[name] for name in sorted(stored.files) if name != "state"]


def test_two_workers_match_one_process_and_resume_after_a_restart(tmp_path):
    out = tmp_path / "mw"
    _train_on_two_workers(out, epochs=1)
    first_state, _ = _weights(out)
    assert first_state["step"] == 6  # 192 images / batch 32
    # A restart of all workers with more epochs resumes both from their checkpoints.
    stdouts = _train_on_two_workers(out, epochs=2)
    assert all("resuming" in stdout and "at step 6" in stdout for stdout in stdouts)

    single = tmp_path / "single"
    result = run_module("ganlib.train", *RUN, "--epochs", 2, "--out", single)
    assert result.returncode == 0, result.stderr[-3000:]
    chief_state, chief = _weights(out)
    _, reference = _weights(single)
    assert chief_state["step"] == 12
    # The same global batches, split in two and summed again: equal up to float32 rounding.
    worst = max(float(np.abs(a.astype(float) - b.astype(float)).max())
                for a, b in zip(chief, reference))
    assert worst < 1e-4, worst
    # Only the chief writes the run folder; the other worker keeps its state beside it.
    assert (out / "generator.keras").is_file() and (out / "progress.gif").is_file()
    worker = tmp_path / "mw.worker-1"
    _, copy = _weights(worker)
    assert all(np.array_equal(a, b) for a, b in zip(chief, copy))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mw", "mw.worker-1", "single"]


def test_malformed_tf_config_is_one_clear_line(tmp_path, monkeypatch):
    from conftest import run_main

    cases = {None: "needs TF_CONFIG", "{not json": "not a valid cluster description",
             '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}':
                 "not a valid cluster description",
             '{"cluster": {"worker": ["no-port"]}, "task": {"type": "worker", "index": 0}}':
                 "host:port"}
    for tf_config, phrase in cases.items():
        # In-process: TF_CONFIG is checked before TensorFlow is asked for anything.
        if tf_config is None:
            monkeypatch.delenv("TF_CONFIG", raising=False)
        else:
            monkeypatch.setenv("TF_CONFIG", tf_config)
        result = run_main("ganlib.train", "dcgan", "--distribute", "multiworker",
                          "--out", tmp_path / "run")
        assert_clean_error(result, phrase)
        assert not (tmp_path / "run").exists()
