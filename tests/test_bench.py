"""The benchmark prints its numbers: a BCE and a WGAN family beside the TensorFlow baseline.

(Each measurement starts its own process; every variant trains in test_train_variants.)"""

import json

from conftest import run_module


def test_bench_measures_variants_and_the_baseline():
    result = run_module("ganlib.bench", "--variants", "dcgan,wgan_gp", "--steps", "2",
                        "--warmup", "1", "--batch-size", "16", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert set(report["results"]) == {"dcgan", "wgan_gp", "tf_tutorial_dcgan",
                                      "dcgan_alternating"}
    for measured in report["results"].values():
        assert measured["images_per_second"] > 0 and measured["peak_memory_mb"] > 100
