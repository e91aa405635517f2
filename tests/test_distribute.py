"""MirroredStrategy over two logical CPU devices trains like a single device, tricks included.

The tricks that skip updates (a sleeping or monitored D, boost spells) gate them through
the learning rate rather than a `cond` around `apply_gradients`, which would fail under
`MirroredStrategy`; weight clipping runs as a variable constraint inside the optimizer.
"""

import os
import subprocess
import sys
import textwrap


from conftest import ROOT

SCRIPT = textwrap.dedent("""
    import numpy as np
    from ganlib import train
    from ganlib.knobs import Knobs
    train.split_cpu(2)  # before TensorFlow starts: two logical CPU devices
    for name, variant, knobs in CASES:
        results = {}
        for distribute in (None, "mirrored"):
            config = train.TrainConfig(
                variant, out=f"{OUT}/{name}-{distribute}", limit=192, epochs=2, batch_size=32,
                deterministic=True, distribute=distribute,
                knobs=Knobs(latent_dim=16, g_filters=0.25, d_filters=0.25, **knobs))
            result = train.train(config, verbose=0)
            results[distribute] = [np.asarray(v) for v in
                                   result.gan.generator.trainable_variables
                                   + result.gan.discriminator.trainable_variables]
            replicas = result.gan.distribute_strategy.num_replicas_in_sync
            largest_critic_weight = max(float(np.abs(np.asarray(v)).max())
                                        for v in result.gan.discriminator.trainable_variables)
            d_updated = np.mean([r.get("d_updated", 1.0) for r in result.history
                                 if r["kind"] == "epoch"])
        worst = max(float(np.abs(a - b).max())
                    for a, b in zip(results[None], results["mirrored"]))
        print(name, "replicas", replicas, "d_updated", d_updated, "largest_critic_weight",
              largest_critic_weight, "max difference", worst)
""")

CASES = [
    # (A plain run is the gated one's special case: the same step, every gate open.)
    # D sleeps 1 step in 3 and is also gated by its loss; labels are flipped per batch.
    ("gated", "vanilla", dict(d_dropout=0.0, sleep_discriminator=1, sleep_period=3,
                              policy="monitored", monitor_ratio=0.5, label_flip=0.2)),
    ("wgan", "wgan", dict(critic_steps=2)),
]


def test_mirrored_over_two_cpus_matches_single_device(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
    code = f"OUT = {str(tmp_path)!r}\nCASES = {CASES!r}\n" + SCRIPT
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    print(result.stdout)
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()
             if "max difference" in line}
    assert set(lines) == {name for name, _, _ in CASES}
    for name, words in lines.items():
        assert words[2] == "2", words  # really two replicas
        # Each replica sees half of every global batch; the summed, rescaled gradients equal
        # the single-device ones up to float32 summation order over a few updates. RMSProp's
        # first steps are about +-lr x sqrt(10) whatever a gradient's size, so where a
        # near-zero gradient's float32 sum changes sign, a WGAN weight moves ~3e-4 apart.
        assert float(words[-1]) < (1e-3 if name == "wgan" else 1e-4), words
    assert float(lines["gated"][4]) < 1  # D really rested on some steps ...
    assert float(lines["wgan"][6]) <= 0.01 + 1e-7  # ... and clipping held on both replicas

