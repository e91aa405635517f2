"""Walk a generator's latent space: interpolations, class morphs and an ipywidgets explorer.

    explorer = LatentExplorer(generator, card)
    explorer                 # display it in a notebook; the picture follows the sliders

The explorer shows G(z) for a latent point z built from three controls:
- one slider per latent dimension (the first few of them): move z along that axis;
- "new random z": draw another starting point (the sliders jump to its coordinates);
- an interpolation slider t: walk from z towards a second random point z' (t = 0 is z,
  t = 1 is z'), along a great circle, since Gaussian noise lives near a sphere;
- for a conditional generator, a class selector.

Displayed, it also carries a PNG of its current picture: a reader of the saved notebook
who has not run it (or not trusted it) sees that picture instead of a line of text.
"""

import base64
import io
import math

import numpy as np

from ganlib.sample import generate_images


def slerp(start, end, t):
    """Spherical interpolation between two latent vectors (t = 0 gives start, 1 gives end)."""
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    cosine = np.dot(start, end) / (np.linalg.norm(start) * np.linalg.norm(end))
    angle = np.arccos(np.clip(cosine, -1.0, 1.0))
    if angle < 1e-6:  # (almost) the same direction: a straight line is the same path
        return ((1 - t) * start + t * end).astype(np.float32)
    return ((np.sin((1 - t) * angle) * start + np.sin(t * angle) * end) / np.sin(angle)
            ).astype(np.float32)


def interpolation(generator, start, end, steps=10, label=None):
    """Images along the path from latent `start` to `end` (for one label if conditional)."""
    noise = np.stack([slerp(start, end, t) for t in np.linspace(0, 1, steps)])
    labels = None if label is None else np.full((steps, 1), label, np.int32)
    return generate_images(generator, noise, labels)


def soft_label_generator(generator):
    """The same conditional generator, fed a class *vector* instead of a class id.

    The conditional builders turn the id into a one-hot vector and concatenate it with the
    noise (layer "noise_and_label"); this model takes that vector directly and shares every
    weight with `generator`, so a blend like 0.3 * one_hot(2) + 0.7 * one_hot(5) is allowed.
    """
    import keras

    names = [layer.name for layer in generator.layers]
    if "noise_and_label" not in names:
        raise ValueError("not a ganlib conditional generator (no 'noise_and_label' layer)")
    start = names.index("noise_and_label")
    noise = keras.Input(shape=generator.inputs[0].shape[1:], name="noise")
    num_classes = generator.layers[start].output.shape[-1] - noise.shape[-1]
    label_vector = keras.Input(shape=(num_classes,), name="label_vector")
    x = keras.layers.Concatenate()([noise, label_vector])
    for layer in generator.layers[start + 1:]:  # after the join, the network is one chain
        x = layer(x)
    return keras.Model([noise, label_vector], x, name=generator.name + "_soft_label")


def class_morph(generator, noise, from_label, to_label, steps=10, num_classes=10):
    """Images for one latent vector as the label blends from one class into another."""
    soft = soft_label_generator(generator)
    weights = np.linspace(0, 1, steps)[:, None]
    eye = np.eye(num_classes, dtype=np.float32)
    vectors = ((1 - weights) * eye[from_label] + weights * eye[to_label]).astype(np.float32)
    noise = np.repeat(np.asarray(noise, np.float32)[None], steps, axis=0)
    return np.asarray(soft([noise, vectors], training=False))


def png_bytes(image, scale=6):
    """One generated image (H, W, C) in [-1, 1] as PNG bytes, scaled up for the screen."""
    from PIL import Image

    from ganlib.data import to_uint8

    pixels = to_uint8(image)
    pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    picture = Image.fromarray(pixels)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


SLIDER_STEP = 0.1
PICTURE_PIXELS = 168  # the 28 px digits at 6x; larger images are shown at this size too


def on_slider_grid(value, step=SLIDER_STEP, low=-3.0, high=3.0):
    """`value` clipped to the slider's range and snapped to its step, as the browser computes it.

    The browser's slider (noUiSlider) works in percent of its range and reports
    low + percent * (high - low) / 100, so 0.1 comes back as 0.10000000000000009. It sends
    any value that differs from its own back to the kernel, and when a new view does that
    right after the kernel has moved on (Run All, then `slider.value = 2.5`), the old value
    wins. A value computed here the browser's way is never sent back.
    """
    span = high - low
    percent_step = step * 100 / span
    percent = (float(np.clip(value, low, high)) - low) * 100 / span
    # JavaScript's Math.round: halves round up (Python's round would go to even).
    percent = math.floor(percent / percent_step + 0.5) * percent_step
    return percent * span / 100 + low


class LatentExplorer:
    """ipywidgets controls over a generator's latent space; display the object itself."""

    def __init__(self, generator, card, dimensions=8, seed=0, class_names=None):
        import ipywidgets as widgets

        self.generator = generator
        self.latent_dim = card["latent_dim"]
        self.classes = card.get("classes") if card.get("num_classes") else None
        self.rng = np.random.default_rng(seed)
        self.slider_count = min(dimensions, self.latent_dim)
        self.start = self._random_start()
        self.end = self.rng.standard_normal(self.latent_dim).astype(np.float32)
        # A fixed square box: in a row beside the sliders the picture would otherwise
        # stretch to the sliders' height.
        side = f"{PICTURE_PIXELS}px"
        self.image = widgets.Image(format="png", layout=widgets.Layout(
            width=side, height=side, min_width=side, object_fit="contain"))
        self.sliders = [
            widgets.FloatSlider(value=on_slider_grid(self.start[i]), min=-3.0, max=3.0,
                                step=SLIDER_STEP, description=f"z[{i}]",
                                continuous_update=True)
            for i in range(self.slider_count)]
        self.interpolation_slider = widgets.FloatSlider(
            value=0.0, min=0.0, max=1.0, step=0.05, description="z -> z'")
        self.new_z_button = widgets.Button(description="new random z")
        controls = [self.new_z_button, self.interpolation_slider]
        self.class_selector = None
        if self.classes:
            names = class_names or card.get("class_names") or [str(k) for k in self.classes]
            self.class_selector = widgets.Dropdown(
                options=[(str(names[k]), k) for k in self.classes], value=self.classes[0],
                description="class")
            controls.append(self.class_selector)
        self._moving_sliders = False  # True while new_random_z sets them all at once
        for control in self.sliders + [self.interpolation_slider, self.class_selector]:
            if control is not None:
                control.observe(lambda change: self._moving_sliders or self.update(),
                                names="value")
        self.new_z_button.on_click(lambda button: self.new_random_z())
        picture_and_sliders = widgets.HBox([self.image, widgets.VBox(self.sliders)],
                                           layout=widgets.Layout(align_items="flex-start"))
        self.widget = widgets.VBox([picture_and_sliders, widgets.HBox(controls)])
        self.update()

    def _random_start(self):
        """A random latent point whose slider coordinates sit on the sliders' grid."""
        z = self.rng.standard_normal(self.latent_dim).astype(np.float32)
        for i in range(self.slider_count):
            z[i] = on_slider_grid(z[i])
        return z

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus a PNG of its picture for readers without a kernel."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        data["text/plain"] = "latent-space explorer: run the notebook to move its sliders"
        return bundle

    def latent(self):
        """The latent point the controls describe now."""
        z = self.start.copy()
        for i, slider in enumerate(self.sliders):
            z[i] = slider.value
        return slerp(z, self.end, self.interpolation_slider.value)

    def label(self):
        """The selected class id (None for an unconditional generator)."""
        return None if self.class_selector is None else self.class_selector.value

    def render(self):
        """G(z) for the current controls, as a float image in [-1, 1]."""
        label = self.label()
        labels = None if label is None else np.array([[label]], np.int32)
        return generate_images(self.generator, self.latent()[None], labels)[0]

    def update(self):
        """Redraw the picture from the controls."""
        self.image.value = png_bytes(self.render())

    def new_random_z(self):
        """Draw a new start point and move the sliders to its coordinates."""
        self.start = self._random_start()
        self._moving_sliders = True
        try:
            for i, slider in enumerate(self.sliders):
                slider.value = on_slider_grid(self.start[i])
        finally:
            self._moving_sliders = False
        self.update()  # one redraw, not one per slider
