"""One Keras model for every GAN family: a generator, a discriminator, and `train_step`.

Because training goes through `keras.Model.fit`, a GAN gets the progress bar, callbacks,
`History` and `tf.distribute` support for free. Each call of `train_step` plays one round
of the game on one batch (Goodfellow et al., 2014, Algorithm 1):

1. Discriminator update(s): push D(x) up on real images and D(G(z)) down on generated ones.
   `discriminator_steps > 1` repeats this with fresh noise (as WGAN's critic does).
2. Generator update: push D(G(z)) up, through the *updated* discriminator.

The generated batch of the last discriminator update is reused for the generator update
(as the PyTorch DCGAN example does), so the generator runs forward once per step.

The noise arrives with the data (see `ganlib.data.training_batches`): it is a pure
function of (seed, epoch, batch), which makes resumed and distributed runs reproducible.
"""

import keras
import tensorflow as tf
from keras import ops

from ganlib.losses import BinaryCrossEntropyLoss


class GAN(keras.Model):
    """A generator and a discriminator trained against each other by `fit`."""

    def __init__(self, generator, discriminator, latent_dim, num_classes=None, loss=None,
                 discriminator_steps=1, **kwargs):
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.loss_function = loss or BinaryCrossEntropyLoss()
        self.discriminator_steps = discriminator_steps
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.real_score_tracker = keras.metrics.Mean(name="d_real")  # mean D(x)
        self.fake_score_tracker = keras.metrics.Mean(name="d_fake")  # mean D(G(z))
        # Both networks are built functional models already; without this, Keras would try
        # to build the GAN by calling it on a data batch (a dict it cannot feed to call()).
        self.built = True

    @property
    def conditional(self):
        """True when both networks also take the class label."""
        return bool(self.num_classes)

    @property
    def noise_draws(self):
        """Latent batches one training step consumes: one per discriminator update."""
        return self.discriminator_steps

    @property
    def metrics(self):
        # Listing the trackers here makes Keras reset them at the start of every epoch.
        return [self.d_loss_tracker, self.g_loss_tracker,
                self.real_score_tracker, self.fake_score_tracker]

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        """Attach one optimizer per network and build their state (needed to restore it)."""
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)

    def call(self, inputs, training=False):
        """Generate images: inputs are noise, or [noise, labels] for a conditional GAN."""
        return self.generator(inputs, training=training)

    def generate(self, noise, labels=None, training=False):
        """G(z) or G(z, y)."""
        inputs = [noise, labels] if self.conditional else noise
        return self.generator(inputs, training=training)

    def discriminate(self, images, labels=None, training=False):
        """D's logits for images (and their labels, for a conditional GAN)."""
        inputs = [images, labels] if self.conditional else images
        return self.discriminator(inputs, training=training)

    def train_step(self, data):
        real_images, noise = data["images"], data["noise"]
        labels = ops.expand_dims(data["labels"], -1)
        for draw in range(self.discriminator_steps - 1):
            fake_images = self.generate(noise[:, draw], labels, training=True)
            self._discriminator_update(real_images, fake_images, labels)

        with tf.GradientTape() as generator_tape:
            fake_images = self.generate(noise[:, -1], labels, training=True)
            with generator_tape.stop_recording():
                self._discriminator_update(real_images, fake_images, labels)
            fake_logits = self.discriminate(fake_images, labels, training=True)
            g_loss = self.loss_function.generator_loss(fake_logits)
            scaled_loss = g_loss / self.distribute_strategy.num_replicas_in_sync
        gradients = generator_tape.gradient(scaled_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(gradients, self.generator.trainable_variables))
        self.g_loss_tracker.update_state(g_loss)
        return {metric.name: metric.result() for metric in self.metrics}

    def _discriminator_update(self, real_images, fake_images, labels):
        """One gradient step of D on a real batch and a (fixed) generated batch."""
        fake_images = ops.stop_gradient(fake_images)
        batch_size = ops.shape(real_images)[0]
        with tf.GradientTape() as tape:
            # One call on real and fake together: one big batch runs faster on a CPU.
            # (Fine while D has no BatchNorm, which would mix real and fake statistics.)
            logits = self.discriminate(ops.concatenate([real_images, fake_images], 0),
                                       ops.concatenate([labels, labels], 0), training=True)
            real_logits, fake_logits = logits[:batch_size], logits[batch_size:]
            d_loss = self.loss_function.discriminator_loss(real_logits, fake_logits)
            # Under tf.distribute gradients are summed over replicas: dividing by their
            # number makes the update that of the mean loss over the global batch.
            scaled_loss = d_loss / self.distribute_strategy.num_replicas_in_sync
        gradients = tape.gradient(scaled_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(gradients, self.discriminator.trainable_variables))
        self.d_loss_tracker.update_state(d_loss)
        self.real_score_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.fake_score_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
