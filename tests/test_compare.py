"""The tricks comparison: its arms, its fixed budget, and how the report summarises it."""

import json

import pytest

from conftest import assert_clean_error, run_module
from ganlib import compare
from ganlib.report import comparison_section


def test_every_arm_is_a_valid_training_command():
    from ganlib.train import parse_args

    for arm in compare.ARMS:
        config = parse_args(compare.train_arguments(arm, 1, 50_000, "runs/compare"))[0]
        resolved = config.resolved()
        # The same budget of real images shown to D, whatever the family.
        images = resolved.epochs * (5000 // resolved.images_per_step) * resolved.images_per_step
        assert abs(images - 50_000) <= 2_500, arm
        assert resolved.seed == 1 and resolved.split == "all"


def test_the_report_summarises_the_recorded_runs(tmp_path):
    path = tmp_path / "results.jsonl"
    lines = [dict(arm=arm, seed=seed, budget_images=50_000, images_seen=49_920,
                  fcd_over_floor=value, classifier_score=8.0, classes_covered=10)
             for arm, seed, value in [("baseline", 0, 5.0), ("baseline", 1, 6.0),
                                      ("wgan_gp", 0, 3.0), ("wgan_gp", 1, 3.2),
                                      ("hinge", 0, 5.4), ("hinge", 1, 6.6)]]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"arm": "cut sh')
    summary = compare.summary(compare.recorded(path))  # a cut-off last line is skipped
    assert summary["baseline"]["fcd_over_floor"] == pytest.approx((5.5, 0.5))
    text = comparison_section(path)
    assert "| baseline | `the DCGAN as it is` | 2 | 49,920 | 5.50 +- 0.50 |" in text
    assert "beats the baseline by more than both spreads: `wgan_gp`." in text
    assert "python -m ganlib.compare --images 50000" in text
    assert comparison_section(tmp_path / "none.jsonl") is None


def test_bad_arguments_are_refused(tmp_path):
    results = tmp_path / "r.jsonl"
    for arguments, phrase in ((["--arms", "baseline,magic"], "unknown arm 'magic'"),
                              (["--seeds", "one"], "--seeds"), (["--images", "0"], "--images")):
        assert_clean_error(run_module("ganlib.compare", *arguments, "--results", results),
                           phrase)
    assert not results.exists()


def test_sigterm_stops_a_comparison_with_a_checkpoint_and_the_rerun_continues(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import ROOT

    arguments = [sys.executable, "-m", "ganlib.compare", "--arms", "baseline", "--seeds", "0",
                 "--images", "5000", "--runs", str(tmp_path / "runs"),
                 "--results", str(tmp_path / "results.jsonl")]
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    process = subprocess.Popen(arguments, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    first_grid = tmp_path / "runs" / "baseline-seed0" / "samples" / "step_0000000.png"
    deadline = time.time() + 300
    while not first_grid.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.5)
    time.sleep(3)  # a few training steps
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 143, stderr[-2000:]
    assert "terminated: checkpoint written at step" in stderr
    assert (tmp_path / "runs" / "baseline-seed0" / "checkpoint.npz").is_file()
    assert not (tmp_path / "results.jsonl").exists()  # an unfinished run is not recorded
    finished = subprocess.run(arguments, env=env, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr[-2000:]
    (line,) = compare.recorded(tmp_path / "results.jsonl")
    assert line["arm"] == "baseline" and line["images_seen"] == 4992
