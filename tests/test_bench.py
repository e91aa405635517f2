"""The benchmark prints a number for every variant and the TensorFlow-tutorial baseline."""

import json

from conftest import run_module


def test_bench_measures_every_variant_and_the_baseline():
    result = run_module("ganlib.bench", "--steps", "2", "--warmup", "1", "--batch-size", "16",
                        "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert set(report["results"]) == {"vanilla", "cgan", "dcgan", "cdcgan", "adgan",
                                      "tf_tutorial_dcgan", "dcgan_alternating"}
    for measured in report["results"].values():
        assert measured["images_per_second"] > 0 and measured["peak_memory_mb"] > 100
