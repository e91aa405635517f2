"""All five variants train through the command line on MNIST and Fashion-MNIST, then sample."""

import json
import os

import numpy as np
import pytest

from ganlib import sample, train
from ganlib.data.mnist import FASHION_MNIST_DIR
from ganlib.variants import VARIANTS

DATASETS = ["mnist"] + (["fashion_mnist"] if os.path.isdir(FASHION_MNIST_DIR) else [])


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_trains_and_samples(name, dataset, tmp_path):
    out = tmp_path / "run"
    code = train.main([name, "--dataset", dataset, "--out", str(out), "--limit", "96",
                       "--batch-size", "16", "--epochs", "2", "--sample-every", "2",
                       "--g-filters", "0.25", "--d-filters", "0.25", "--quiet"])
    assert code == 0
    card = json.loads((out / "generator.json").read_text())
    assert card["variant"] == name and card["dataset"] == dataset
    # Each step shows D one batch per critic update: 96 // (16 x 5) = 1 step per epoch for
    # the WGANs, 96 // 16 = 6 for the others.
    critic_steps = VARIANTS[name].critic_steps
    assert card["critic_steps"] == critic_steps
    assert card["epochs"] == 2 and card["images_seen"] == 2 * (96 // (16 * critic_steps)) * 16 * critic_steps
    assert card["data_source"] and card["wall_time_seconds"] > 0
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in history if r["kind"] == "epoch"] == [0, 1]
    if name == "adgan":
        assert [r["d_dropout"] for r in history if r["kind"] == "epoch"] == [0.5, 0.0]
    assert len(list((out / "samples").glob("*.png"))) >= 2 and (out / "progress.gif").exists()
    assert sample.main([name, "--model", str(out / "generator.keras"), "--num", "5",
                        "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (5, 28, 28)


@pytest.mark.parametrize("name,changes,knobs,expected", [
    ("adgan", dict(learning_rate=1e-4), dict(update="alternating", dropout_initial=0.4),
     ["--learning-rate 0.0001", "--update alternating", "--dropout-initial 0.4"]),
    ("dcgan", dict(d_learning_rate=4e-4, patience=3),
     dict(label_flip=0.05, minibatch_discrimination=True, policy="boost"),
     ["--d-learning-rate 0.0004", "--patience 3", "--label-flip 0.05",
      "--minibatch-discrimination", "--policy boost"]),
    ("wgan_gp", dict(optimizer="rmsprop"), dict(critic_steps=3, gradient_penalty=5.0),
     ["--optimizer rmsprop", "--critic-steps 3", "--gradient-penalty 5.0"]),
])
def test_train_command_names_every_option_that_differs_from_the_defaults(
        name, changes, knobs, expected):
    from ganlib.knobs import Knobs
    from ganlib.run_folder import train_command
    from ganlib.train import TrainConfig

    config = TrainConfig(name, out="runs/x", knobs=Knobs(**knobs), **changes).resolved()
    command = train_command(config)
    for part in expected:
        assert part in command
    # Defaults stay out of the command, the variant's own ones included.
    assert "--latent-dim" not in command and "--loss" not in command
    from ganlib.train import parse_args

    parsed, _, _ = parse_args(command.split()[3:])
    assert parsed.resolved() == config
