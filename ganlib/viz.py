"""Pictures: sample grids, the training-progress GIF and loss curves."""

import numpy as np
from PIL import Image

from ganlib.data import to_uint8
from ganlib.files import atomic_write


def image_grid(images, columns=8, padding=2):
    """Tile images (N, H, W, C) in [-1, 1] or uint8 into one uint8 picture (rows x columns)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = to_uint8(images)
    if images.ndim == 3:
        images = images[..., None]
    count, height, width, channels = images.shape
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    grid = np.full((rows * (height + padding) + padding, columns * (width + padding) + padding,
                    channels), 255, np.uint8)
    for index, image in enumerate(images):
        top = padding + (index // columns) * (height + padding)
        left = padding + (index % columns) * (width + padding)
        grid[top:top + height, left:left + width] = image
    return grid[..., 0] if channels == 1 else grid


def save_png(path, picture, scale=1):
    """Write a uint8 picture (H, W) or (H, W, 3) as PNG, atomically, scaled up by `scale`."""
    image = Image.fromarray(picture)
    if scale != 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    atomic_write(path, lambda temp_path: image.save(temp_path, format="PNG"), suffix=".png")


def save_gif(frame_paths, path, seconds_per_frame=0.25, hold_last_seconds=2.0):
    """Join PNG frames into a looping GIF; the last frame stays up a little longer.

    Returns how many frames could not be read and were left out.
    """
    frames = []
    for frame_path in frame_paths:
        try:
            frames.append(Image.open(frame_path).convert("P"))
        except (OSError, ValueError):  # a damaged frame costs one frame, not the GIF
            pass
    if not frames:
        return len(frame_paths)
    durations = [int(seconds_per_frame * 1000)] * len(frames)
    durations[-1] = int(hold_last_seconds * 1000)
    atomic_write(path, lambda temp_path: frames[0].save(
        temp_path, format="GIF", save_all=True, append_images=frames[1:],
        duration=durations, loop=0), suffix=".gif")
    return len(frame_paths) - len(frames)


def thinned_gif(path, max_frames=40, seconds_per_frame=0.25, hold_last_seconds=2.0):
    """The bytes of a GIF keeping at most `max_frames` evenly spaced frames (first and last
    included): long runs save hundreds of frames, more than a page or a repository needs."""
    import io

    from PIL import ImageSequence

    with Image.open(path) as gif:
        frames = [frame.copy() for frame in ImageSequence.Iterator(gif)]
    keep = sorted(set(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).astype(int)))
    frames = [frames[i] for i in keep]
    durations = [int(seconds_per_frame * 1000)] * len(frames)
    durations[-1] = int(hold_last_seconds * 1000)
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=durations, loop=0)
    return buffer.getvalue()
