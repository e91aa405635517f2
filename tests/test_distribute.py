"""MirroredStrategy over two logical CPU devices trains like a single device."""

import os
import subprocess
import sys
import textwrap

from conftest import ROOT

SCRIPT = textwrap.dedent("""
    import numpy as np
    from ganlib import train
    from ganlib.variants import Knobs
    train.split_cpu(2)  # before TensorFlow starts: two logical CPU devices
    results = {}
    for distribute in (None, "mirrored"):
        config = train.TrainConfig(
            "vanilla", out=f"{OUT}/{distribute}", limit=128, epochs=2, batch_size=32,
            deterministic=True, distribute=distribute, knobs=Knobs(latent_dim=16, d_dropout=0.0))
        result = train.train(config, verbose=0)
        results[distribute] = [np.asarray(v) for v in result.gan.generator.trainable_variables
                               + result.gan.discriminator.trainable_variables]
        print(distribute, "replicas:", result.gan.distribute_strategy.num_replicas_in_sync)
    worst = max(float(np.abs(a - b).max()) for a, b in zip(results[None], results["mirrored"]))
    moved = max(float(np.abs(a).max()) for a in results[None])
    print("max difference", worst, "max weight", moved)
""")


def test_mirrored_over_two_cpus_matches_single_device(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", f"OUT = {str(tmp_path)!r}\n" + SCRIPT],
                            env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "mirrored replicas: 2" in result.stdout
    print(result.stdout)
    worst = float(result.stdout.split("max difference ")[1].split()[0])
    # Each replica sees half of every global batch; the summed, rescaled gradients equal the
    # single-device ones up to float32 summation order over 8 Adam steps.
    assert worst < 1e-4, result.stdout
