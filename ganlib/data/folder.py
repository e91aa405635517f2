"""Your own images: every picture under a folder, made square, resized and cached.

    python -m ganlib.train dcgan --dataset folder --data-dir my_photos/ --image-size 64

- Every file under the folder is tried (PNG, JPEG, GIF, BMP, WebP, TIFF: whatever Pillow
  reads); an animated GIF gives every frame. Unreadable files are skipped and named in
  one summary line; hidden files (a leading dot) are left alone.
- Colour: RGB (`channels=3`, transparent pixels composited on `background`, white by
  default) or grey (`channels=1`). 16-bit images are scaled to 8 bits.
- Shape: centre-cropped to a square, then resized to `image_size` x `image_size`.
- Labels: the first-level subfolder names become the classes (so cgan/cdcgan train on your
  own classes); images directly in the folder form one class named after it.
- Cache: the decoded array is saved under the user's cache folder, keyed by a hash of the
  file list (names, sizes, modification times) and the settings, so a second run starts in
  a second. Changing any file makes a new cache entry.
- Split: every tenth image is held out as "test"; "train" is the rest, "all" everything.
"""

import hashlib
import json
import os
import warnings

import numpy as np
from PIL import Image, ImageColor, ImageSequence

from ganlib.data.images import ImageData, first_line
from ganlib.errors import GanlibError
from ganlib.files import atomic_write

# Larger images are refused before they are decoded (a "decompression bomb" of 20,000 x
# 20,000 pixels would need gigabytes). 64 megapixels is far beyond any training image.
MAX_PIXELS = 64_000_000
CACHE_VERSION = 1  # bump when the decoding changes, so old caches are not reused


def cache_folder():
    """Where ganlib keeps decoded datasets: $XDG_CACHE_HOME/ganlib or ~/.cache/ganlib."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ganlib")


def parse_background(text):
    """'white', 'black', '#ff8800' or '255,136,0' -> an (R, G, B) tuple."""
    try:
        if "," in text:
            rgb = tuple(int(part) for part in text.split(","))
            if len(rgb) != 3 or not all(0 <= value <= 255 for value in rgb):
                raise ValueError
            return rgb
        return ImageColor.getrgb(text)[:3]
    except ValueError:
        raise GanlibError(f"--background '{text}' is not a colour; use a name (white), "
                          "#rrggbb or R,G,B with values 0..255") from None


def image_files(root):
    """Every non-hidden file under `root`, as sorted paths relative to it."""
    found = []
    for parent, folders, names in os.walk(root):  # symlinked folders are not followed
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        found += [os.path.relpath(os.path.join(parent, name), root)
                  for name in names if not name.startswith(".")]
    return sorted(found)


def decode_frames(path, image_size, channels, background):
    """All frames of one image file, prepared as uint8 arrays (size, size, channels)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ValueError(f"{image.width} x {image.height} pixels is too large "
                                 f"(more than {MAX_PIXELS // 1_000_000} megapixels)")
            return [prepare(frame, image_size, channels, background)
                    for frame in ImageSequence.Iterator(image)]


def prepare(frame, image_size, channels, background):
    """One decoded frame -> composited on `background`, centre-cropped, resized, uint8."""
    if frame.mode.startswith("I"):  # 16- or 32-bit grey: scale to 8 bits
        values = np.asarray(frame, dtype=np.float64)
        frame = Image.fromarray((values / 257 if values.max() > 255 else values)
                                .clip(0, 255).astype(np.uint8), "L")
    rgba = frame.convert("RGBA")
    canvas = Image.new("RGBA", rgba.size, (*background, 255))
    canvas.alpha_composite(rgba)
    picture = square_crop(canvas.convert("RGB"))
    picture = picture.resize((image_size, image_size), Image.LANCZOS)
    if channels == 1:
        return np.asarray(picture.convert("L"))[..., None]
    return np.asarray(picture)


def square_crop(picture):
    """The largest centred square of a picture."""
    side = min(picture.size)
    left, top = (picture.width - side) // 2, (picture.height - side) // 2
    return picture.crop((left, top, left + side, top + side))


def load_folder(split, data_dir, image_size=64, channels=3, background="white"):
    """The images under `data_dir` as ImageData (decoded once, then read from the cache)."""
    if data_dir is None:
        raise GanlibError("--dataset folder needs --data-dir PATH, the folder of your images")
    if not os.path.isdir(data_dir):
        raise GanlibError(f"--data-dir {data_dir} is not a folder; pass the folder that "
                          "holds your images")
    check_image_settings(image_size, channels)
    rgb = parse_background(background)
    files = image_files(data_dir)
    if not files:
        raise GanlibError(f"{data_dir} holds no files; put your images in it (subfolders "
                          "become classes)")
    key = _cache_key(data_dir, files, image_size, channels, rgb)
    cache_path = os.path.join(cache_folder(), "folders", key + ".npz")
    cached = _read_cache(cache_path)
    if cached is None:
        cached = _decode_all(data_dir, files, image_size, channels, rgb)
        _write_cache(cache_path, cached)
        how = "decoded now, cached for next time"
    else:
        how = "from the cache of an earlier run"
    images, labels, class_names = cached
    keep = split_mask(len(images), split)
    return ImageData("folder", images[keep], labels[keep], class_names,
                     f"{len(images):,} images in {data_dir} ({how})")


def check_image_settings(image_size, channels):
    """Refuse an image size or channel count the networks cannot use."""
    if channels not in (1, 3):
        raise GanlibError(f"--channels must be 1 (grey) or 3 (colour), got {channels}")
    if not 8 <= image_size <= 1024 or image_size % 4:
        raise GanlibError(f"--image-size must be a multiple of 4 between 8 and 1024 (the "
                          f"generator doubles its map at each stage), got {image_size}")


def split_mask(count, split):
    """Which of `count` images a split keeps: every tenth is held out as "test"."""
    held_out = np.arange(count) % 10 == 9
    mask = {"train": ~held_out, "test": held_out, "all": np.ones(count, bool)}[split]
    if not mask.any():
        raise GanlibError(f"the '{split}' split of this folder is empty ({count} images); "
                          "add images or use --split all")
    return mask


def _decode_all(root, files, image_size, channels, background):
    """Decode every file; skip and name the unreadable ones in one summary line."""
    top_folders = sorted({path.split(os.sep)[0] for path in files if os.sep in path})
    class_names = top_folders + ([os.path.basename(os.path.abspath(root))]
                                 if any(os.sep not in path for path in files) else [])
    images, labels, skipped = [], [], []
    for path in files:
        try:
            frames = decode_frames(os.path.join(root, path), image_size, channels, background)
        except Exception as error:  # Pillow raises many types for broken or foreign files
            reason = first_line(error).replace(f"'{os.path.join(root, path)}'", "").strip()
            skipped.append(f"{path} ({reason[:60]})")
            continue
        label = class_names.index(path.split(os.sep)[0] if os.sep in path else class_names[-1])
        images += frames
        labels += [label] * len(frames)
    if skipped:
        shown = ", ".join(skipped[:5]) + (f", and {len(skipped) - 5} more" if len(skipped) > 5
                                          else "")
        print(f"[ganlib] skipped {len(skipped)} of {len(files)} files that are not readable "
              f"images: {shown}")
    if not images:
        raise GanlibError(f"no readable image in {root} ({len(files)} files tried); it needs "
                          "PNG, JPEG, GIF, BMP or WebP images")
    used = sorted(set(labels))  # a class whose every file was unreadable is dropped
    renumber = {old: new for new, old in enumerate(used)}
    return (np.stack(images), np.array([renumber[label] for label in labels], np.int32),
            tuple(class_names[label] for label in used))


def _cache_key(root, files, image_size, channels, background):
    listing = []
    for path in files:
        try:
            status = os.stat(os.path.join(root, path))
            listing.append((path, status.st_size, status.st_mtime_ns))
        except OSError:  # a broken link: it will be skipped when decoded
            listing.append((path, -1, -1))
    text = json.dumps([CACHE_VERSION, os.path.abspath(root), listing, image_size, channels,
                       list(background)])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _read_cache(path):
    try:
        with np.load(path) as stored:
            return (stored["images"], stored["labels"],
                    tuple(json.loads(str(stored["class_names"]))))
    except Exception:  # missing or damaged: decode again
        return None


def _write_cache(path, arrays):
    images, labels, class_names = arrays
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)

        def write(temp_path):
            with open(temp_path, "wb") as file:
                np.savez(file, images=images, labels=labels,
                         class_names=np.array(json.dumps(list(class_names))))
        atomic_write(path, write, suffix=".npz")
    except (GanlibError, OSError) as error:  # no cache is only slower, never fatal
        print(f"[ganlib] note: could not cache the decoded images ({error}); the next run "
              "decodes them again")
