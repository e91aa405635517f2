"""The benchmark prints its numbers: a BCE and a WGAN family beside the TensorFlow baseline.

(Each measurement starts its own process; every variant trains in test_train_variants.)"""

import json

from conftest import run_module


def test_bench_measures_variants_and_the_baseline():
    # The WGAN families' bench rows are the same code path with critic_steps = 5.
    result = run_module("ganlib.bench", "--variants", "dcgan", "--steps", "2",
                        "--warmup", "1", "--batch-size", "16", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert set(report["results"]) == {"dcgan", "tf_tutorial_dcgan", "dcgan_alternating"}
    for measured in report["results"].values():
        assert measured["images_per_second"] > 0 and measured["peak_memory_mb"] > 100


def test_time_to_quality_races_both_recipes_and_prints_the_bar(tmp_path):
    """A quick race (a few hundred digits, a lax bar): the command's whole path runs."""
    import contextlib
    import io

    from ganlib import bench

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):  # in-process: TensorFlow is already up
        code = bench.main(["--quality", "--threshold", "1000", "--limit", "256", "--every",
                           "1", "--runs", str(tmp_path / "runs"), "--json"])
    assert code == 0
    output = printed.getvalue()
    report = json.loads(output[output.index("{\n"):])
    assert set(report) == {"ganlib", "tf_tutorial"}
    for race in report.values():
        assert race["reached"] and race["images_to_bar"] == race["curve"][0]["images_seen"]
        assert race["curve"][0]["fcd_over_floor"] > 1  # a one-epoch model is far from real
    # The tutorial's batch is 256 (one step per epoch here), ganlib's 64 (four steps).
    assert report["tf_tutorial"]["images_to_bar"] == 256
    assert report["ganlib"]["images_to_bar"] == 256
    from conftest import run_main

    bad = run_main("ganlib.bench", "--quality", "--threshold", "0", "--runs", tmp_path / "b")
    assert bad.returncode == 2 and "--threshold must be positive" in bad.stderr


def test_the_input_pipeline_is_timed_alone():
    from ganlib.bench import measure_input_pipeline

    measured = measure_input_pipeline(steps=5, warmup=2, batch_size=16)
    assert measured["images_per_second"] > 0 and measured["step_ms"] > 0
