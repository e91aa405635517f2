"""One Keras model for every GAN family: a generator, a discriminator, and `train_step`.

Because training goes through `keras.Model.fit`, a GAN gets the progress bar, callbacks,
`History` and `tf.distribute` support for free. Each call of `train_step` plays one round
of the game (Goodfellow et al., 2014, Algorithm 1, with k = `critic_steps`):

1. `critic_steps - 1` discriminator updates, each on its own fresh real batch and noise
   (WGANs use 5: the critic should be near its optimum before G moves).
2. The last discriminator update and the generator update. `update` says how they share
   work:
   - "simultaneous" (default, as the TensorFlow DCGAN tutorial): one forward pass of G
     and D gives both losses, and both networks step from the same point of the game.
     This saves a whole D forward pass per step (about 8% of a DCGAN step on a CPU).
   - "alternating" (Algorithm 1 to the letter): D steps first, then G's loss is computed
     through the *updated* D. The generated batch is reused, so G runs forward once.

The pieces that vary between families are plugged in, each from its own module:
- `loss` (`ganlib.losses`): D's and G's losses, an optional gradient penalty, and what to
  log as "D(x)" / "D(G(z))";
- `policy` (`ganlib.tricks.update_policies`): which updates this step makes;
- `label_noise` (`ganlib.tricks.label_noise`): D's targets swapped at random;
- `diff_augment` (`ganlib.tricks.diff_augment`): random differentiable changes to every
  image D sees in training, real and generated alike;
- `code_reader` (`ganlib.tricks.latent_code`, InfoGAN): a head on D that must read back
  the category G's noise picked; its loss is added to both networks' losses.

The model counts its own steps (`step`), so a step in which G rests still counts, and
draws every random number of the step from stateless seeds (seed, step): the images and
noise arrive with the data (`ganlib.data.training_batches`), so a resumed or distributed
run is reproducible.
"""

import contextlib

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ganlib.knobs import UPDATES
from ganlib.losses import BinaryCrossEntropyLoss
from ganlib.tricks.diff_augment import DiffAugment
from ganlib.tricks.label_noise import LabelNoise, discriminator_targets
from ganlib.tricks.update_policies import AlwaysUpdate

# Each random draw of a step has its own stream, from (run seed, step, purpose, D update).
BOOST_DRAW, LABEL_FLIPS, PENALTY = 0, 1, 2
AUGMENT_REAL, AUGMENT_FAKE, AUGMENT_FOR_G = 3, 4, 5  # DiffAugment: one stream per D call


class GAN(keras.Model):
    """A generator and a discriminator trained against each other by `fit`."""

    def __init__(self, generator, discriminator, latent_dim, num_classes=None, loss=None,
                 critic_steps=1, update="simultaneous", policy=None, label_noise=None,
                 diff_augment=None, ema_decay=0.0, code_reader=None, seed=0, **kwargs):
        super().__init__(**kwargs)
        if update not in UPDATES:
            raise ValueError(f"update must be one of {UPDATES}, got {update!r}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.loss_function = loss or BinaryCrossEntropyLoss()
        self.critic_steps = int(critic_steps)
        self.update = update
        self.policy = policy or AlwaysUpdate()
        self.label_noise = label_noise or LabelNoise()
        self.diff_augment = diff_augment or DiffAugment()
        self.ema_decay = float(ema_decay)  # G's optimizer keeps a moving average of G
        self.code_reader = code_reader
        self.seed = int(seed)
        # The global step: G may rest on some steps, so its optimizer cannot count them.
        self.step = keras.Variable(0, dtype="int64", trainable=False,
                                   aggregation="only_first_replica", name="step")
        # The learning rates the optimizers return to when a resting network wakes up.
        self.d_learning_rate = keras.Variable(0.0, trainable=False,
                                              aggregation="only_first_replica", name="d_lr")
        self.g_learning_rate = keras.Variable(0.0, trainable=False,
                                              aggregation="only_first_replica", name="g_lr")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self._logged()}
        # Both networks are built functional models already; without this, Keras would try
        # to build the GAN by calling it on a data batch (a dict it cannot feed to call()).
        self.built = True

    def _logged(self):
        names = ["d_loss", "g_loss", "d_real", "d_fake"]  # d_real: mean D(x) (see losses)
        if self.loss_function.penalised:
            names.append("gradient_penalty")
        if self.policy.gates_updates:
            names += ["d_updated", "g_updated"]  # share of steps each network moved
        if self.label_noise.flip_probability or self.policy.name == "boost":
            names.append("d_labels_swapped")  # share of D's targets swapped
        if self.code_reader:
            names.append("code_loss")  # how badly Q reads G's code (ln K at chance)
        return names

    @property
    def conditional(self):
        """True when both networks also take the class label."""
        return bool(self.num_classes)

    @property
    def discriminator_trainables(self):
        """What D's optimizer updates: D's weights, and InfoGAN's code head if there is one."""
        extra = self.code_reader.trainable_variables if self.code_reader else []
        return self.discriminator.trainable_variables + extra

    @property
    def code_variables(self):
        """The InfoGAN code head's weights (empty without --info-code), for checkpoints."""
        return list(self.code_reader.variables) if self.code_reader else []

    @property
    def state_variables(self):
        """The model's own training state (step counter, policy state) for checkpoints."""
        return [self.step] + list(self.policy.variables)

    @property
    def metrics(self):
        # Listing the trackers here makes Keras reset them at the start of every epoch.
        return list(self.trackers.values())

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        """Attach one optimizer per network and build their state (needed to restore it)."""
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        d_optimizer.build(self.discriminator_trainables)
        g_optimizer.build(self.generator.trainable_variables)
        self.set_learning_rates(float(d_optimizer.learning_rate.numpy()),
                                float(g_optimizer.learning_rate.numpy()))

    def set_learning_rates(self, d_learning_rate, g_learning_rate):
        """Set both networks' learning rates (e.g. a resumed run with a new --learning-rate)."""
        self.d_learning_rate.assign(d_learning_rate)
        self.g_learning_rate.assign(g_learning_rate)
        self.d_optimizer.learning_rate.assign(d_learning_rate)
        self.g_optimizer.learning_rate.assign(g_learning_rate)

    def call(self, inputs, training=False):
        """Generate images: inputs are noise, or [noise, labels] for a conditional GAN."""
        return self.generator(inputs, training=training)

    def generate(self, noise, labels=None, training=False):
        """G(z) or G(z, y)."""
        inputs = [noise, labels] if self.conditional else noise
        return self.generator(inputs, training=training)

    @contextlib.contextmanager
    def averaged_generator(self):
        """Inside this block G holds the moving average of its weights (with --ema), so
        grids, evaluations and the saved generator use it; training resumes unchanged."""
        # Before G's first update the average is not started yet: use G as it is.
        if not self.ema_decay or int(self.g_optimizer.iterations.numpy()) == 0:
            yield self.generator
            return
        weights = self.generator.trainable_variables
        current = [np.asarray(variable) for variable in weights]
        self.g_optimizer.finalize_variable_values(weights)  # copies the averages in
        try:
            yield self.generator
        finally:
            for variable, value in zip(weights, current):
                variable.assign(value)

    def keep_averaged_weights(self):
        """At the end of a run: G keeps the moving average of its weights for good (--ema)."""
        if self.ema_decay and int(self.g_optimizer.iterations.numpy()) > 0:
            self.g_optimizer.finalize_variable_values(self.generator.trainable_variables)

    def discriminate(self, images, labels=None, training=False, augment_seed=None,
                     read_code=False):
        """D's raw outputs for images (and their labels, for a conditional GAN).

        With DiffAugment on, a training call passes `augment_seed` and D sees the images
        randomly changed (the same kinds of change for real and generated ones). With
        `read_code` (InfoGAN) it returns (D's outputs, Q's code logits) from one pass.
        """
        if self.diff_augment and augment_seed is not None:
            images = self.diff_augment(images, augment_seed)
        inputs = [images, labels] if self.conditional else images
        if read_code:
            return self.code_reader(inputs, training=training)
        return self.discriminator(inputs, training=training)

    def _judge(self, images, labels, step, purpose, draw):
        """A training-time D call, with its own DiffAugment draw."""
        return self.discriminate(images, labels, training=True,
                                 augment_seed=self._seed(step, purpose, draw))

    def _judge_fake(self, fake_images, noise, labels, step, purpose, draw):
        """D's logits for generated images, and the weighted InfoGAN code loss (0 if off)."""
        if not self.code_reader:
            return self._judge(fake_images, labels, step, purpose, draw), 0.0
        logits, code_logits = self.discriminate(
            fake_images, labels, training=True, augment_seed=self._seed(step, purpose, draw),
            read_code=True)
        cross_entropy = self.code_reader.cross_entropy(code_logits, noise)
        self.trackers["code_loss"].update_state(cross_entropy)
        return logits, self.code_reader.weight * cross_entropy

    # ---- the training step -------------------------------------------------------------

    def train_step(self, data):
        # images: (batch, critic_steps, H, W, C), one fresh real batch per D update;
        # labels: (batch, critic_steps); noise: (batch, critic_steps, latent_dim).
        images, labels, noise = data["images"], data["labels"], data["noise"]
        step = ops.convert_to_tensor(self.step.value)  # read once, before the step changes it
        plan = self.policy.begin_step(step, self._seed(step, BOOST_DRAW))
        for draw in range(self.critic_steps):
            real_images, latent, label = images[:, draw], noise[:, draw], labels[:, draw:draw + 1]
            if draw < self.critic_steps - 1:  # the extra critic updates come first
                fake_images = self.generate(latent, label, training=True)
                self._discriminator_update(real_images, fake_images, latent, label, plan,
                                           step, draw)
            elif self.update == "simultaneous":
                self._simultaneous_update(real_images, latent, label, plan, step, draw)
            else:
                self._alternating_update(real_images, latent, label, plan, step, draw)
        self.policy.end_step(plan)
        self.step.assign_add(1)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def _simultaneous_update(self, real_images, noise, labels, plan, step, draw):
        """D and G step from one forward pass: both gradients at the same point."""
        with tf.GradientTape() as generator_tape, tf.GradientTape() as discriminator_tape:
            fake_images = self.generate(noise, labels, training=True)
            real_logits = self._judge(real_images, labels, step, AUGMENT_REAL, draw)
            fake_logits, code_loss = self._judge_fake(fake_images, noise, labels, step,
                                                      AUGMENT_FAKE, draw)
            g_loss = self.loss_function.generator_loss(fake_logits)
            # (Both tapes record D's loss, but only G's is differentiated for G.)
            d_loss, penalty = self._discriminator_loss(
                real_images, fake_images, labels, real_logits, fake_logits, plan, step, draw)
            # Inside the tapes: what each network minimises, InfoGAN's code loss included.
            d_objective, g_objective = d_loss + code_loss, g_loss + code_loss
        d_gate = self.policy.discriminator_gate(plan, d_loss, g_loss)
        self._apply(self.d_optimizer, discriminator_tape, d_objective,
                    self.discriminator_trainables, self.d_learning_rate, d_gate)
        self._apply(self.g_optimizer, generator_tape, g_objective,
                    self.generator.trainable_variables, self.g_learning_rate, plan.g_gate)
        self._track(d_loss, real_logits, fake_logits, penalty, d_gate)
        self._track_generator(g_loss, plan.g_gate)

    def _alternating_update(self, real_images, noise, labels, plan, step, draw):
        """D steps first; then G's loss goes through the updated D."""
        with tf.GradientTape() as generator_tape:
            fake_images = self.generate(noise, labels, training=True)
            with generator_tape.stop_recording():
                self._discriminator_update(real_images, fake_images, noise, labels, plan,
                                           step, draw)
            fake_logits, code_loss = self._judge_fake(fake_images, noise, labels, step,
                                                      AUGMENT_FOR_G, draw)
            g_loss = self.loss_function.generator_loss(fake_logits)
            g_objective = g_loss + code_loss
        self._apply(self.g_optimizer, generator_tape, g_objective,
                    self.generator.trainable_variables, self.g_learning_rate, plan.g_gate)
        self._track_generator(g_loss, plan.g_gate)

    def _discriminator_update(self, real_images, fake_images, noise, labels, plan, step,
                              draw):
        """One gradient step of D on a real batch and a (fixed) generated batch."""
        fake_images = ops.stop_gradient(fake_images)
        with tf.GradientTape() as tape:
            # Two calls of the same batch size rather than one on real+fake concatenated:
            # every D call in the step then has one shape, so oneDNN reuses one set of
            # kernels (measured ~4% faster per step on a 2-core CPU), and a D with
            # BatchNorm would never mix real and fake statistics.
            real_logits = self._judge(real_images, labels, step, AUGMENT_REAL, draw)
            fake_logits, code_loss = self._judge_fake(fake_images, noise, labels, step,
                                                      AUGMENT_FAKE, draw)
            d_loss, penalty = self._discriminator_loss(
                real_images, fake_images, labels, real_logits, fake_logits, plan, step, draw)
            d_objective = d_loss + code_loss
        # `monitored` compares D's loss with G's at this same point of the game.
        g_loss = (self.loss_function.generator_loss(fake_logits)
                  if self.policy.reads_losses else None)
        d_gate = self.policy.discriminator_gate(plan, d_loss, g_loss)
        self._apply(self.d_optimizer, tape, d_objective, self.discriminator_trainables,
                    self.d_learning_rate, d_gate)
        self._track(d_loss, real_logits, fake_logits, penalty, d_gate)

    def _discriminator_loss(self, real_images, fake_images, labels, real_logits, fake_logits,
                            plan, step, draw):
        """D's whole loss (targets, tricks and penalty), the one place it is computed.

        Returns (loss including the penalty, the penalty alone).
        """
        real_targets = fake_targets = None
        if "d_labels_swapped" in self.trackers:
            flips = self.label_noise.flips(ops.shape(real_logits)[0],
                                           self._seed(step, LABEL_FLIPS, draw))
            flips = ops.logical_xor(flips, plan.swap_labels)  # boost swaps the whole batch
            real_targets, fake_targets = discriminator_targets(
                self.loss_function.real_target, flips)
            self.trackers["d_labels_swapped"].update_state(ops.mean(ops.cast(flips, "float32")))
        d_loss = self.loss_function.discriminator_loss(real_logits, fake_logits,
                                                       real_targets, fake_targets)
        penalty = self.loss_function.penalty(
            lambda images, labels: self.discriminate(images, labels, training=True),
            real_images, ops.stop_gradient(fake_images), labels,
            self._seed(step, PENALTY, draw))
        return d_loss + penalty, penalty

    def _apply(self, optimizer, tape, loss, variables, learning_rate, gate):
        # Under tf.distribute gradients are summed over replicas: scaling by 1 / replicas
        # makes the update that of the mean loss over the global batch.
        scale = ops.convert_to_tensor(1.0 / self.distribute_strategy.num_replicas_in_sync,
                                      loss.dtype)
        gradients = tape.gradient(loss, variables, output_gradients=scale)
        if self.policy.gates_updates:
            # A resting network gets learning rate 0 (see ganlib.tricks.update_policies).
            optimizer.learning_rate.assign(learning_rate * gate)
        optimizer.apply_gradients(zip(gradients, variables))

    def _track(self, d_loss, real_logits, fake_logits, penalty, d_gate):
        self.trackers["d_loss"].update_state(d_loss)
        self.trackers["d_real"].update_state(ops.mean(self.loss_function.scores(real_logits)))
        self.trackers["d_fake"].update_state(ops.mean(self.loss_function.scores(fake_logits)))
        if "gradient_penalty" in self.trackers:
            self.trackers["gradient_penalty"].update_state(penalty)
        if "d_updated" in self.trackers:
            self.trackers["d_updated"].update_state(d_gate)

    def _track_generator(self, g_loss, g_gate):
        self.trackers["g_loss"].update_state(g_loss)
        if "g_updated" in self.trackers:
            self.trackers["g_updated"].update_state(g_gate)

    def _seed(self, step, purpose, draw=0):
        """A stateless seed for one random draw of one step: the same on every resume."""
        seed = tf.stack([tf.constant(self.seed, tf.int64), step])
        seed = tf.random.experimental.stateless_fold_in(seed, purpose)
        return tf.random.experimental.stateless_fold_in(seed, draw)
