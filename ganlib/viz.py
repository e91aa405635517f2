"""Pictures: sample grids, the training-progress GIF and MP4 (step-labelled), plots."""

import os

import numpy as np
from PIL import Image, ImageDraw, ImageFont

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


def upscaled(picture, scale):
    """A uint8 picture made `scale` times larger with sharp pixels (nearest neighbour)."""
    return np.repeat(np.repeat(picture, scale, axis=0), scale, axis=1)


def grid_scale(image_side):
    """How much to enlarge a grid of images `image_side` px wide: small digits 2x, else 1x."""
    return 2 if image_side < 48 else 1


def save_png(path, picture, scale=1):
    """Write a uint8 picture (H, W) or (H, W, 3) as PNG, atomically, scaled up by `scale`."""
    image = Image.fromarray(picture)
    if scale != 1:
        image = image.resize((image.width * scale, image.height * scale), Image.NEAREST)
    atomic_write(path, lambda temp_path: image.save(temp_path, format="PNG"), suffix=".png")


def step_of(frame_path):
    """The training step in a grid's file name (samples/step_0001200.png -> 1200), or None."""
    stem = os.path.splitext(os.path.basename(frame_path))[0]
    return int(stem[5:]) if stem.startswith("step_") and stem[5:].isdigit() else None


def with_caption(picture, text):
    """The picture with a white band on top holding `text` (e.g. the training step)."""
    font = ImageFont.load_default(size=max(10, min(16, picture.width // 16)))
    band = font.getbbox("Ag")[3] + 6
    captioned = Image.new("RGB", (picture.width, picture.height + band), "white")
    captioned.paste(picture.convert("RGB"), (0, band))
    ImageDraw.Draw(captioned).text((4, 3), text, fill="black", font=font)
    return captioned


def training_frames(frame_paths):
    """The saved sample grids as pictures captioned with their step; unreadable ones skipped."""
    frames = []
    for frame_path in frame_paths:
        try:
            with Image.open(frame_path) as picture:
                step = step_of(frame_path)
                frames.append(with_caption(picture, f"step {step:,}") if step is not None
                              else picture.convert("RGB"))
        except (OSError, ValueError):  # a damaged frame costs one frame, not the GIF
            pass
    return frames


def save_gif(frame_paths, path, seconds_per_frame=0.25, hold_last_seconds=2.0):
    """Join the training grids into a looping GIF, each labelled with its step; the last
    frame stays up a little longer. Returns how many frames could not be read."""
    frames = training_frames(frame_paths)
    if frames:
        _gif_of_pictures(frames, path, seconds_per_frame, hold_last_seconds)
    return len(frame_paths) - len(frames)


def save_training_animations(frame_paths, gif_path, video_path):
    """The training grids, step-labelled, as a GIF and an MP4 (each grid decoded once)."""
    frames = training_frames(frame_paths)
    if frames:
        _gif_of_pictures(frames, gif_path, 0.25, 2.0)
        save_mp4(frames, video_path)


def _gif_of_pictures(pictures, path, seconds_per_frame, hold_last_seconds):
    _write_gif([picture.convert("P", palette=Image.ADAPTIVE) for picture in pictures], path,
               seconds_per_frame, hold_last_seconds)


def save_mp4(pictures, path, frames_per_second=8, hold_last_seconds=2.0):
    """Write pictures (PIL images or uint8 arrays) as an H.264 MP4 video.

    The encoder is the ffmpeg binary that the `imageio-ffmpeg` wheel carries. H.264 wants
    even sides, so frames are padded with white to the next even size.
    """
    import imageio.v2 as imageio

    arrays = [np.asarray(picture) for picture in pictures]
    arrays = [np.repeat(a[..., None], 3, -1) if a.ndim == 2 else a[..., :3] for a in arrays]
    height = max(a.shape[0] for a in arrays) + max(a.shape[0] for a in arrays) % 2
    width = max(a.shape[1] for a in arrays) + max(a.shape[1] for a in arrays) % 2
    padded = [np.pad(a, ((0, height - a.shape[0]), (0, width - a.shape[1]), (0, 0)),
                     constant_values=255) for a in arrays]
    padded += [padded[-1]] * int(hold_last_seconds * frames_per_second)

    def write(temp_path):
        with imageio.get_writer(temp_path, format="FFMPEG", mode="I", fps=frames_per_second,
                                codec="libx264", pixelformat="yuv420p", macro_block_size=1,
                                ffmpeg_log_level="error") as writer:
            for frame in padded:
                writer.append_data(frame)
    atomic_write(path, write, suffix=".mp4")


def save_image_gif(pictures, path, scale=4, seconds_per_frame=0.4):
    """Write uint8 pictures (N, H, W) or (N, H, W, 3) as a looping GIF, one frame each."""
    frames = []
    for picture in pictures:
        image = Image.fromarray(picture)
        frames.append(image.resize((image.width * scale, image.height * scale), Image.NEAREST)
                      .convert("P"))
    _write_gif(frames, path, seconds_per_frame, seconds_per_frame)


def _write_gif(frames, path, seconds_per_frame, hold_last_seconds):
    durations = [int(seconds_per_frame * 1000)] * len(frames)
    durations[-1] = int(hold_last_seconds * 1000)
    atomic_write(path, lambda temp_path: frames[0].save(
        temp_path, format="GIF", save_all=True, append_images=frames[1:],
        duration=durations, loop=0), suffix=".gif")


def thinned_gif(path, max_frames=40, seconds_per_frame=0.25, hold_last_seconds=2.0,
                max_side=None):
    """The bytes of a GIF keeping at most `max_frames` evenly spaced frames (first and last
    included): long runs save hundreds of frames, more than a page or a repository needs.
    With `max_side`, larger frames are shrunk to fit (colour grids of 64 px images)."""
    import io

    from PIL import ImageSequence

    with Image.open(path) as gif:
        frames = [frame.copy() for frame in ImageSequence.Iterator(gif)]
    keep = sorted(set(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).astype(int)))
    frames = [frames[i] for i in keep]
    if max_side and max(frames[0].size) > max_side:
        factor = max_side / max(frames[0].size)
        size = (round(frames[0].width * factor), round(frames[0].height * factor))
        frames = [frame.convert("RGB").resize(size, Image.LANCZOS)
                  .convert("P", palette=Image.ADAPTIVE) for frame in frames]
    durations = [int(seconds_per_frame * 1000)] * len(frames)
    durations[-1] = int(hold_last_seconds * 1000)
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=durations, loop=0)
    return buffer.getvalue()


def save_discriminator_plot(path, pictures, fake_scores, real_scores, score_name, columns=8):
    """Plot D's score on each generated image, and the spread of its scores on real ones.

    Left: the generated images, each titled with D's score. Right: the scores of the
    generated and of the real images side by side, so a reader sees where D puts each.
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, works on a server
    import matplotlib.pyplot as plt

    count = len(pictures)
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    figure = plt.figure(figsize=(columns * 1.1 + 4.5, max(rows * 1.2, 3.5)))
    grid = figure.add_gridspec(rows, columns + 4)
    for index, picture in enumerate(pictures):
        axis = figure.add_subplot(grid[index // columns, index % columns])
        axis.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=255)
        axis.set_title(f"{fake_scores[index]:.2f}", fontsize=8)
        axis.axis("off")
    spread = figure.add_subplot(grid[:, columns + 1:])
    spread.boxplot([real_scores, fake_scores], showfliers=False)
    jitter = np.random.default_rng(0).uniform(-0.12, 0.12, (2, max(len(real_scores), count)))
    spread.scatter(1 + jitter[0, :len(real_scores)], real_scores, s=8, alpha=0.5, label="real")
    spread.scatter(2 + jitter[1, :count], fake_scores, s=8, alpha=0.5, label="generated")
    spread.set_xticks([1, 2], ["real", "generated"])
    spread.set_ylabel(score_name)
    spread.set_title("D's verdict")
    figure.suptitle(f"the discriminator's {score_name} on each generated image")

    def write(temp_path):
        figure.savefig(temp_path, format="png", dpi=100, bbox_inches="tight")
    try:
        atomic_write(path, write, suffix=".png")
    finally:
        plt.close(figure)
