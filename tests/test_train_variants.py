"""All five variants train through the command line on MNIST and Fashion-MNIST, then sample."""

import json

import numpy as np
import pytest

from ganlib import data, sample, train
from ganlib.variants import VARIANTS

DATASETS = ["mnist"] + (["fashion_mnist"] if data.os.path.isdir(data.FASHION_MNIST_DIR) else [])


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("name", list(VARIANTS))
def test_variant_trains_and_samples(name, dataset, tmp_path):
    out = tmp_path / "run"
    code = train.main([name, "--dataset", dataset, "--out", str(out), "--limit", "96",
                       "--batch-size", "32", "--epochs", "2", "--sample-every", "2",
                       "--g-filters", "0.25", "--d-filters", "0.25", "--quiet"])
    assert code == 0
    card = json.loads((out / "generator.json").read_text())
    assert card["variant"] == name and card["dataset"] == dataset
    assert card["epochs"] == 2 and card["images_seen"] == 2 * 3 * 32
    assert card["data_source"] and card["wall_time_seconds"] > 0
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in history if r["kind"] == "epoch"] == [0, 1]
    if name == "adgan":
        assert [r["d_dropout"] for r in history if r["kind"] == "epoch"] == [0.5, 0.0]
    assert len(list((out / "samples").glob("*.png"))) >= 3 and (out / "progress.gif").exists()
    assert sample.main([name, "--model", str(out / "generator.keras"), "--num", "5",
                        "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (5, 28, 28)


def test_train_command_names_every_option_that_differs_from_the_defaults():
    from ganlib.train import TrainConfig, _train_command
    from ganlib.variants import Knobs

    config = TrainConfig("adgan", out="runs/x", learning_rate=1e-4,
                         knobs=Knobs(update="alternating", dropout_initial=0.4)).resolved()
    command = _train_command(config)
    assert "--learning-rate 0.0001" in command
    assert "--update alternating" in command and "--dropout-initial 0.4" in command
    assert "--latent-dim" not in command  # defaults stay out of the command
    from ganlib.train import parse_args

    parsed, _, _ = parse_args(command.split()[3:])
    assert parsed.resolved() == config
