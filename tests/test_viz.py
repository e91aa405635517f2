"""Pictures: grid layout, PNG writing, and a GIF that survives a damaged frame."""

import numpy as np
import pytest
from PIL import Image

from ganlib import viz


def test_grid_places_each_image_in_reading_order():
    images = np.stack([np.full((4, 4), value, np.uint8) for value in (10, 20, 30)])
    grid = viz.image_grid(images, columns=2, padding=1)
    assert grid.shape == (2 * 5 + 1, 2 * 5 + 1)
    assert grid[1, 1] == 10 and grid[1, 6] == 20 and grid[6, 1] == 30
    assert grid[6, 6] == 255  # the empty fourth cell stays white


def test_float_images_in_unit_range_become_uint8():
    grid = viz.image_grid(np.array([[[[-1.0], [1.0]]]]), padding=0)
    assert grid.tolist() == [[0, 255]]


def test_gif_skips_a_damaged_frame(tmp_path):
    frames = []
    for index in range(3):
        path = tmp_path / f"step_{index}.png"
        viz.save_png(str(path), np.full((8, 8), 60 * index, np.uint8))
        frames.append(str(path))
    (tmp_path / "step_1.png").write_bytes(b"half a PNG")
    skipped = viz.save_gif(frames, str(tmp_path / "progress.gif"))
    assert skipped == 1
    with Image.open(tmp_path / "progress.gif") as gif:
        assert gif.n_frames == 2


def test_history_step_records_are_window_means_not_keras_running_means(tmp_path):
    from ganlib.callbacks import HistoryLog

    # One epoch of per-step D losses, with more than two records in it: the third window
    # needs the running mean at step 4 (3.5), which differs from the second window's (4.0).
    losses = [4.0, 2.0, 6.0, 2.0, 1.0, 3.0, 5.0, 7.0]
    log = HistoryLog(str(tmp_path / "history.jsonl"), 2, 64, averaged=["d_loss"])
    log.on_epoch_begin(0)
    windows = []
    for k in range(1, len(losses) + 1):
        running_mean = sum(losses[:k]) / k  # what Keras hands the callback
        if k % 2 == 0:
            windows.append(log.window_means(k, {"d_loss": running_mean, "d_dropout": 0.5}))
    assert [w["d_loss"] for w in windows] == pytest.approx([3.0, 4.0, 2.0, 6.0])
    assert {w["d_dropout"] for w in windows} == {0.5}  # not a running mean: as logged
