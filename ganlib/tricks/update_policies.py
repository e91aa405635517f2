"""Update policies: which of D's and G's updates a training step actually makes.

- `always` (default): both networks update every step.
- `monitored`: D updates only while D_loss > R x G_loss (R = 0.8): a D that is already
  winning rests until the generator catches up.
- `boost`: each step draws k ~ U(0, 1). Outside a spell, k < 0.0001 starts a spell of 100
  generator-only steps, 0.0001 <= k < 0.001 a spell of 100 discriminator-only steps, and
  k >= 0.93 trains D on this step with its real/fake labels swapped. Random jolts that
  can shake a game out of a rut.
- `--sleep-discriminator N` (with any policy): D rests for the last N steps of every
  sleep period (default period 5N): e.g. N = 20 gives 80 steps awake, 20 asleep.

How a step is skipped, and why that way: the compiled step must run the same graph every
time. Wrapping `apply_gradients` in a `cond` breaks `tf.distribute.MirroredStrategy`
("merge_call called while defining a new graph"). Instead a resting network's learning
rate is set to 0 for that step: its weights stay exactly where they are, while Adam still
folds the step's gradient into its moment estimates (so on waking up, its momentum reflects
the recent gradients rather than stale ones) and counts the step. The decision variables
are all-reduced across replicas, so every replica makes the same choice.

All random draws are stateless functions of (seed, step), and the boost spell in progress
is kept in variables that the checkpoint saves, so a resumed run is bit-identical.
"""

import keras
import tensorflow as tf
from keras import ops

NO_SPELL, GENERATOR_ONLY, DISCRIMINATOR_ONLY = 0, 1, 2


class StepPlan:
    """This step's decisions: gates (1.0 = update, 0.0 = rest) and D's label swap."""

    def __init__(self, d_gate, g_gate, swap_labels):
        self.d_gate, self.g_gate, self.swap_labels = d_gate, g_gate, swap_labels


class AlwaysUpdate:
    """Both networks update every step, except while D sleeps (if asked to)."""

    name = "always"
    reads_losses = False  # only `monitored` needs G's loss at each D update

    def __init__(self, sleep_steps=0, sleep_period=0):
        self.sleep_steps = int(sleep_steps)
        self.sleep_period = int(sleep_period or 5 * sleep_steps)
        self.variables = []  # state to checkpoint

    @property
    def gates_updates(self):
        """True when some steps skip an update (the step then sets learning rates)."""
        return bool(self.sleep_steps)

    def begin_step(self, step, seed):
        """The plan for `step` before any loss is known."""
        return StepPlan(self.discriminator_awake(step), ops.ones(()), ops.zeros((), "bool"))

    def discriminator_awake(self, step):
        """1.0 unless `step` falls in the last `sleep_steps` of a sleep period."""
        if not self.sleep_steps:
            return ops.ones(())
        position = ops.mod(step, self.sleep_period)
        return ops.cast(position < self.sleep_period - self.sleep_steps, "float32")

    def discriminator_gate(self, plan, d_loss, g_loss):
        """Final D gate once this update's losses are known (only `monitored` looks)."""
        return plan.d_gate

    def end_step(self, plan):
        """Advance any state the policy keeps."""


class MonitoredUpdate(AlwaysUpdate):
    """D updates only while D_loss > ratio x G_loss."""

    name = "monitored"
    reads_losses = True

    def __init__(self, ratio=0.8, **sleep):
        super().__init__(**sleep)
        self.ratio = float(ratio)

    @property
    def gates_updates(self):
        return True

    def discriminator_gate(self, plan, d_loss, g_loss):
        context = tf.distribute.get_replica_context()
        if context is not None:  # the same decision on every replica
            d_loss, g_loss = (context.all_reduce(tf.distribute.ReduceOp.MEAN, value)
                              for value in (d_loss, g_loss))
        return plan.d_gate * ops.cast(d_loss > self.ratio * g_loss, "float32")


class BoostUpdate(AlwaysUpdate):
    """Random generator-only and discriminator-only spells, and steps with swapped labels."""

    name = "boost"

    def __init__(self, g_only=1e-4, d_only=1e-3, swap=0.93, spell=100, **sleep):
        super().__init__(**sleep)
        self.g_only, self.d_only, self.swap, self.spell = g_only, d_only, swap, int(spell)
        # Checkpointed: the spell in progress and how many of its steps are left.
        self.spell_kind = keras.Variable(NO_SPELL, dtype="int64", trainable=False,
                                         aggregation="only_first_replica", name="spell_kind")
        self.spell_left = keras.Variable(0, dtype="int64", trainable=False,
                                         aggregation="only_first_replica", name="spell_left")
        self.variables = [self.spell_kind, self.spell_left]

    @property
    def gates_updates(self):
        return True

    @staticmethod
    def draw(seed):
        """This step's k ~ U(0, 1), from the step's stateless seed."""
        return tf.random.stateless_uniform([], seed=seed)

    def begin_step(self, step, seed):
        k = self.draw(seed)
        spell_kind, spell_left = self.spell_kind.value, self.spell_left.value
        in_spell = spell_left > 0
        start_g = ops.logical_and(ops.logical_not(in_spell), k < self.g_only)
        start_d = ops.logical_and(ops.logical_not(in_spell),
                                  ops.logical_and(k >= self.g_only, k < self.d_only))
        kind = ops.where(in_spell, spell_kind,
                         ops.where(start_g, GENERATOR_ONLY,
                                   ops.where(start_d, DISCRIMINATOR_ONLY, NO_SPELL)))
        left = ops.where(in_spell, spell_left,
                         ops.where(ops.logical_or(start_g, start_d), self.spell, 0))
        self.spell_kind.assign(kind)
        self.spell_left.assign(left)
        swap = ops.logical_and(ops.logical_not(in_spell), k >= self.swap)
        d_gate = self.discriminator_awake(step) * ops.cast(kind != GENERATOR_ONLY, "float32")
        g_gate = ops.cast(kind != DISCRIMINATOR_ONLY, "float32")
        return StepPlan(d_gate, g_gate, swap)

    def end_step(self, plan):
        left = ops.maximum(self.spell_left.value - 1, 0)
        self.spell_left.assign(left)
        self.spell_kind.assign(ops.where(left > 0, self.spell_kind.value, NO_SPELL))


def make_policy(knobs):
    """The update policy for resolved knobs."""
    sleep = dict(sleep_steps=knobs.sleep_discriminator, sleep_period=knobs.sleep_period)
    if knobs.policy == "monitored":
        return MonitoredUpdate(knobs.monitor_ratio, **sleep)
    if knobs.policy == "boost":
        return BoostUpdate(knobs.boost_g_only, knobs.boost_d_only, knobs.boost_swap,
                           knobs.boost_spell, **sleep)
    return AlwaysUpdate(**sleep)
