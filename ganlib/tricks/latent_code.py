r"""InfoGAN's categorical code (Chen et al. 2016): a discrete choice G must make visible.

MNIST is ten separate families of shapes, but G's noise z is one connected cloud. A
continuous G must then draw *something* for the z between two families, and those
in-between samples (a 4 that is half 9) are what the precision metric counts against an
unconditional DCGAN. A cDCGAN avoids this because its label is discrete.

InfoGAN gives an unconditional G a discrete input of its own, with no labels from the
data: a code c, uniform over K categories, and a loss that makes c readable from G's
image. An extra head Q on D's features guesses c from G(z, c), and both G and Q minimise

    L_code = lambda * cross_entropy(c, Q(G(z, c)))

(a lower bound on the mutual information between c and the image). To make Q's job
possible, G learns to draw the K categories as clearly different images; on digits they
usually become the digit classes.

Here c is read from the noise itself: c = argmax(z_1, ..., z_K), which is uniform over
the K categories when z ~ N(0, I). So the shipped generator still takes plain noise (the
sampler, the evaluator and the latent explorer need nothing new), and moving one of the
first K sliders past the others switches the category. Inside G, a frozen Dense layer
picks z_1..z_K and scales them by `SHARPNESS`, and a softmax turns that into the one-hot
code: built-in Keras layers only, so the saved generator loads anywhere.
"""

import keras
import numpy as np
from keras import layers, ops

# softmax(SHARPNESS * z) is one-hot unless the two largest of z_1..z_K are within a few
# times 1 / SHARPNESS of each other: measured for K = 10, 0.15% of samples at 1e4, so 1e6
# (float32 still resolves z to about 1e-7 at this scale).
SHARPNESS = 1e6


def categorical_code(noise, classes):
    """The one-hot code argmax(z_1..z_K) as a layer output, from G's noise input."""
    latent_dim = noise.shape[-1]
    pick = layers.Dense(classes, use_bias=False, trainable=False, dtype="float32",
                        name="code_scores")
    scores = pick(noise)
    selection = np.zeros((latent_dim, classes), "float32")
    selection[np.arange(classes), np.arange(classes)] = SHARPNESS
    pick.set_weights([selection])
    return layers.Softmax(name="categorical_code", dtype="float32")(scores)


def code_of(noise, classes):
    """The category each noise vector picks: argmax of its first `classes` values."""
    return ops.argmax(noise[:, :classes], axis=-1)


class CodeReader:
    """Q: a head on D's per-image features that guesses G's code, and its loss."""

    def __init__(self, discriminator, classes, weight=1.0):
        self.classes = int(classes)
        self.weight = float(weight)
        features = discriminator_features(discriminator)
        # One forward pass of D gives both its logit and the features Q reads.
        self.discriminator_and_features = keras.Model(
            discriminator.inputs, [discriminator.outputs[0], features],
            name="discriminator_and_features")
        self.head = layers.Dense(self.classes, dtype="float32", name="code_head")
        self.head.build((None, features.shape[-1]))

    @property
    def variables(self):
        """The head's weights (D's own are D's): trained with D, saved in checkpoints."""
        return self.head.variables

    @property
    def trainable_variables(self):
        """What D's optimizer updates besides D."""
        return self.head.trainable_variables

    def __call__(self, inputs, training=False):
        """(D's logits, Q's code logits) for D's inputs."""
        logits, features = self.discriminator_and_features(inputs, training=training)
        return logits, self.head(features)

    def cross_entropy(self, code_logits, noise):
        """The mean cross-entropy of Q's guess against the code in the noise (ln K at
        chance, 0 when Q reads every code); the losses add `weight` times it."""
        targets = code_of(noise, self.classes)
        return ops.mean(keras.losses.sparse_categorical_crossentropy(
            targets, code_logits, from_logits=True))


def discriminator_features(discriminator):
    """D's per-image features: the input of its minibatch layer, else of its last layer.

    Q must judge each image alone, so it reads D's features *before* minibatch
    discrimination mixes in the rest of the batch.
    """
    names = {layer.name for layer in discriminator.layers}
    if "minibatch_discrimination" in names:
        return discriminator.get_layer("minibatch_discrimination").input
    return discriminator.layers[-1].input
