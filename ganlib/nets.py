"""Generator and discriminator builders, from the image shape and a few knobs.

Every builder returns a functional `keras.Model`. A conditional network (num_classes set)
takes two inputs, `[noise_or_image, label]`, with labels shaped (batch, 1) of integer ids.
Discriminators end in one raw output (no sigmoid): the BCE loss works on logits because
`sigmoid` followed by `log` loses precision exactly where training needs it, and a WGAN
critic's output is a score, not a probability. Three options serve the tricks:
`weight_clip` clips every critic weight after each update (WGAN), `minibatch` = (kernels,
dimension) adds a minibatch-discrimination layer before the output, and `spectral_norm`
divides each layer's kernel by its largest singular value (Keras's SpectralNormalization),
so no layer can stretch its input by more than 1: a smoother D, without a penalty term.
A conditional D with `projection` also scores how well its features match the label's
learned embedding (the projection discriminator), on top of seeing the label at its input.
A generator with `code_classes` = K also gets InfoGAN's one-hot code, the argmax of its
first K noise values (`ganlib.tricks.latent_code`).

The two families:
- MLP (Goodfellow et al., 2014): fully connected layers on flattened images.
- Convolutional (DCGAN, Radford et al., 2015): the default is the official TensorFlow DCGAN
  tutorial's architecture for 28x28 digits, which grows with the image size.
"""

import math

import keras
from keras import layers

from ganlib.errors import GanlibError
from ganlib.tricks.latent_code import categorical_code
from ganlib.tricks.minibatch_discrimination import MinibatchDiscrimination
from ganlib.tricks.scheduled_dropout import ScheduledDropout
from ganlib.tricks.weight_clipping import weight_constraint

LEAKY_SLOPE = 0.2  # the DCGAN paper's LeakyReLU slope, used by both families


def _label_input():
    return keras.Input(shape=(1,), dtype="int32", name="label")


def _one_hot(label, num_classes):
    return layers.CategoryEncoding(num_classes, output_mode="one_hot", name="label_one_hot")(label)


def _join_label(x, inputs, num_classes, name):
    """Add a label input to `inputs` and concatenate its one-hot code onto `x`."""
    label = _label_input()
    inputs.append(label)
    return layers.Concatenate(name=name)([x, _one_hot(label, num_classes)])


def _join_code(noise, code_classes):
    """Noise, followed by the one-hot InfoGAN code it picks (when `code_classes` > 0)."""
    if not code_classes:
        return noise
    code = categorical_code(noise, code_classes)
    return layers.Concatenate(name="noise_and_code")([noise, code])


def _clipped(weight_clip):
    """Layer arguments that clip a critic layer's kernel and bias (nothing when 0)."""
    constraint = weight_constraint(weight_clip)
    return {"kernel_constraint": constraint, "bias_constraint": constraint} if constraint else {}


def _normalised(layer, spectral_norm):
    """The layer, wrapped in spectral normalisation when asked for."""
    return layers.SpectralNormalization(layer) if spectral_norm else layer


def _output(x, minibatch, weight_clip, spectral_norm=False, projection=None):
    """D's last layer: one raw output, after minibatch discrimination if asked for.

    `projection` = (label input, number of classes) adds the projection discriminator's
    label term (Miyato & Koyama 2018): logit = w.h + embed(y).h for D's features h. The
    label then speaks where D decides, not only at the input among 784 pixels.
    """
    if minibatch:
        kernels, kernel_dim = minibatch
        x = MinibatchDiscrimination(kernels, kernel_dim, weight_constraint(weight_clip),
                                    name="minibatch_discrimination")(x)
    # float32 even under mixed precision: the losses need the logit at full precision.
    logit = _normalised(layers.Dense(1, name="logit_unconditional" if projection else "logit",
                                     dtype="float32", **_clipped(weight_clip)), spectral_norm)(x)
    if not projection:
        return logit
    label, num_classes = projection
    embedding = layers.Embedding(num_classes, x.shape[-1], name="label_embedding",
                                 embeddings_constraint=weight_constraint(weight_clip))(label)
    embedding = layers.Flatten(name="label_embedding_flat")(embedding)
    label_term = layers.Dot(axes=1, name="label_projection", dtype="float32")([x, embedding])
    return layers.Add(name="logit", dtype="float32")([logit, label_term])


def mlp_generator(image_shape, latent_dim=100, num_classes=None, units=(256, 512, 1024),
                  code_classes=0):
    """MLP generator: noise (+ one-hot label) -> 256-512-1024 LeakyReLU -> tanh image."""
    noise = keras.Input(shape=(latent_dim,), name="noise")
    inputs, x = [noise], _join_code(noise, code_classes)
    if num_classes:
        x = _join_label(noise, inputs, num_classes, "noise_and_label")
    for width in units:
        x = layers.Dense(width)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Dense(math.prod(image_shape), activation="tanh", dtype="float32")(x)
    image = layers.Reshape(image_shape, name="image", dtype="float32")(x)
    name = "cgan_generator" if num_classes else "mlp_generator"
    return keras.Model(inputs if num_classes else noise, image, name=name)


def mlp_discriminator(image_shape, num_classes=None, units=(1024, 512, 256), dropout=0.3,
                      weight_clip=0.0, minibatch=None, spectral_norm=False, projection=False):
    """MLP discriminator: flattened image (+ one-hot label) -> 1024-512-256 -> one logit."""
    clip = _clipped(weight_clip)
    image = keras.Input(shape=image_shape, name="image")
    inputs, x = [image], layers.Flatten()(image)
    if num_classes:
        x = _join_label(x, inputs, num_classes, "image_and_label")
    for width in units:
        x = _normalised(layers.Dense(width, **clip), spectral_norm)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    logit = _output(x, minibatch, weight_clip, spectral_norm,
                    projection=(inputs[-1], num_classes) if projection and num_classes else None)
    name = "cgan_discriminator" if num_classes else "mlp_discriminator"
    return keras.Model(inputs if num_classes else image, logit, name=name)


def upsampling_stages(image_shape):
    """Stride-2 stages from a map of at most 8x8 up to the image (at least 2, as for 28 px)."""
    side, stages = min(image_shape[:2]), 0
    while side > 8 and side % 2 == 0:
        side //= 2
        stages += 1
    return max(2, stages)


def conv_generator(image_shape, latent_dim=100, num_classes=None, filters=1.0,
                   extra_conv_layers=0, code_classes=0):
    """DCGAN generator: Dense to a small feature map, then Conv2DTranspose up to the image.

    For 28x28x1 with the defaults this is exactly the TensorFlow tutorial's network:
    Dense 7x7x256 -> Conv2DTranspose 128 (stride 1) -> 64 (stride 2) -> 1 (stride 2, tanh),
    kernel 5, BatchNorm and LeakyReLU between. Larger images get as many stride-2 stages as
    it takes to start from a map of at most 8x8 (`upsampling_stages`: 32 px -> 2, 64 px ->
    3, 128 px -> 4), each doubling the width of the layers before it. Each extra conv layer
    adds one more stride-2 upsampling on top. With `code_classes` = K, G also gets the
    one-hot InfoGAN code argmax(z_1..z_K) (`ganlib.tricks.latent_code`).
    """
    height, width, channels = image_shape
    upsamplings = upsampling_stages(image_shape) + extra_conv_layers
    scale = 2 ** upsamplings
    if height % scale or width % scale:
        raise GanlibError(f"a DCGAN generator with {extra_conv_layers} extra conv layers needs "
                          f"image sides divisible by {scale}, got {height}x{width}; "
                          "change --g-extra-conv or resize the images")
    base = max(1, round(64 * filters))
    # Widths halve layer by layer: 256 for the first map, then 128, 64 at the defaults.
    first_map_width = base * 2 ** upsamplings
    widths = [base * 2 ** (upsamplings - 1 - i) for i in range(upsamplings)]

    noise = keras.Input(shape=(latent_dim,), name="noise")
    inputs, x = [noise], _join_code(noise, code_classes)
    if num_classes:
        x = _join_label(noise, inputs, num_classes, "noise_and_label")
    x = layers.Dense((height // scale) * (width // scale) * first_map_width, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Reshape((height // scale, width // scale, first_map_width))(x)
    # One stride-1 layer first (as in the tutorial), then the stride-2 upsamplings.
    for i, layer_width in enumerate(widths):
        strides = 1 if i == 0 else 2
        x = layers.Conv2DTranspose(layer_width, 5, strides=strides, padding="same",
                                   use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    image = layers.Conv2DTranspose(channels, 5, strides=2, padding="same", use_bias=False,
                                   activation="tanh", name="image", dtype="float32")(x)
    name = "cdcgan_generator" if num_classes else "dcgan_generator"
    return keras.Model(inputs if num_classes else noise, image, name=name)


def conv_discriminator(image_shape, num_classes=None, filters=1.0, extra_dense_layers=0,
                       dropout=0.3, scheduled_dropout=False, conv_layers=None,
                       weight_clip=0.0, minibatch=None, spectral_norm=False,
                       projection=False):
    """DCGAN discriminator: stride-2 convs (64, 128, ...) with LeakyReLU and Dropout -> logit.

    It has as many stride-2 convs as the generator has upsamplings (2 for 28 and 32 px, 3
    for 64 px, ...), so it looks at the image at the same scales G draws it.

    Conditional: the one-hot label is broadcast to H x W maps and stacked onto the image as
    extra channels, so every convolution sees the class. With `scheduled_dropout` the
    dropout layers read their rate from a variable (AD-GAN changes it during training).
    """
    height, width, _ = image_shape
    conv_layers = conv_layers or upsampling_stages(image_shape)
    base = max(1, round(64 * filters))
    clip = _clipped(weight_clip)
    image = keras.Input(shape=image_shape, name="image")
    inputs, x = [image], image
    if num_classes:
        label = _label_input()
        inputs.append(label)
        label_maps = layers.Reshape((1, 1, num_classes))(_one_hot(label, num_classes))
        label_maps = layers.UpSampling2D(size=(height, width), name="label_maps")(label_maps)
        x = layers.Concatenate(name="image_and_label_maps")([image, label_maps])
    for i in range(conv_layers):
        x = _normalised(layers.Conv2D(base * 2 ** i, 5, strides=2, padding="same", **clip),
                        spectral_norm)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
        if scheduled_dropout:
            x = ScheduledDropout(dropout)(x)
        elif dropout:
            x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    for _ in range(extra_dense_layers):
        x = _normalised(layers.Dense(base * 4, **clip), spectral_norm)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    logit = _output(x, minibatch, weight_clip, spectral_norm,
                    projection=(label, num_classes) if projection and num_classes else None)
    name = "cdcgan_discriminator" if num_classes else "dcgan_discriminator"
    return keras.Model(inputs if num_classes else image, logit, name=name)
