"""Training speed and memory of every variant, beside a plain TensorFlow baseline.

    python -m ganlib.bench                      # all variants + baseline, 40 timed steps
    python -m ganlib.bench --variants dcgan --steps 100 --repeats 3 --json
    python -m ganlib.bench --quality             # images and seconds to a fixed FCD bar

Each measurement runs in its own process (so peak memory is that model's alone), trains on
the real MNIST images for `--warmup` steps (tracing, oneDNN kernel selection) and then
times `--steps` steps. The baseline is the official TensorFlow DCGAN tutorial's training
loop (float32): two `GradientTape`s in one `tf.function`, the same network, data and batch
size. Absolute speed differs several-fold between CPUs, so compare DCGAN to the baseline
*ratio* measured in the same run, not images/s measured on different machines.

The `dcgan` row is the DCGAN as `python -m ganlib.train` runs it on this machine: in the
precision `--precision auto` picks (bfloat16 where it measured faster) and with
XLA where it pays (see `ganlib.precision`). Beside it, `dcgan_with_xla` or
`dcgan_without_xla` flips that XLA choice, and `dcgan_alternating` adds `--update
alternating` (one more discriminator pass per step). `--bfloat16` adds the DCGAN in the
other precision (`dcgan_float32` or `dcgan_bfloat16`), with its own XLA choice.

`--tuning` adds what else a 2-core CPU might leave on the table: `dcgan_deterministic`
(with the op determinism and the single inter-op thread that `ganlib.train --deterministic`
sets for bit-exact resumes: what exactness costs), `dcgan_one_thread` (one thread per op:
what the second core buys) and `input_pipeline` (the training stream alone, no model: can
data keep up?).
Layout is not a knob here: TensorFlow's CPU convolutions take channels-last (NHWC) only.
Images/s counts the real images D sees, so a WGAN step (5 critic updates, each on its own
batch, and one generator update) counts 5 batches; "step ms" is the time of a whole step.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

from ganlib import cli
from ganlib.errors import GanlibError
from ganlib.quiet import import_tensorflow_quietly
from ganlib.variants import VARIANTS

BASELINE = "tf_tutorial_dcgan"
# Rows of the DCGAN with one setting changed from what `ganlib.train` picks: name -> setting.
DCGAN_ROWS = {
    "dcgan_alternating": {"update": "alternating"},  # one more D pass per step: its price
    "dcgan_float32": {"precision": "float32"},  # --bfloat16: the precision auto did not pick
    "dcgan_bfloat16": {"precision": "bfloat16"},
    "dcgan_with_xla": {"xla": True},  # the XLA choice flipped: what it buys or costs
    "dcgan_without_xla": {"xla": False},
}
DETERMINISTIC = "dcgan_deterministic"  # --tuning: with ganlib.train --deterministic
ONE_THREAD = "dcgan_one_thread"  # --tuning: one intra-op thread
INPUT_PIPELINE = "input_pipeline"  # --tuning: the data stream alone
TUNING = (DETERMINISTIC, ONE_THREAD, INPUT_PIPELINE)


def _peak_memory_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def default_settings():
    """(precision, xla) as `python -m ganlib.train` picks them on this machine."""
    from ganlib.precision import resolve, xla_pays
    from ganlib.train import default_xla

    precision = resolve("auto")
    xla = default_xla()
    return precision, xla_pays(precision) if xla is None else xla


def measure_variant(name, steps, warmup, batch_size, update="simultaneous",
                    precision=None, xla=None):
    """Train `name` on MNIST with `GAN.fit`; return steady-state speed and peak memory.

    `precision` and `xla` None: as `python -m ganlib.train` would pick them here.
    """
    import keras

    from ganlib.precision import apply, xla_pays

    chosen_precision, chosen_xla = default_settings()
    precision = precision or chosen_precision
    if xla is None:  # the other precision gets the XLA choice train would make for it
        xla = chosen_xla if precision == chosen_precision else xla_pays(precision)
    apply(precision)
    from ganlib.data import load_dataset, training_batches
    from ganlib.knobs import Knobs
    from ganlib.optimizers import OptimizerSettings, compile_gan
    from ganlib.variants import build_gan, get_variant

    keras.utils.set_random_seed(0)
    data = load_dataset("mnist", verbose=False)
    variant = get_variant(name)
    gan = compile_gan(build_gan(variant, data.image_shape, data.num_classes, Knobs(update=update)),
                      OptimizerSettings.for_variant(variant), xla=xla)
    batches = training_batches(data, batch_size, 100, gan.critic_steps, 0, 0, 10_000)
    timer = _StepTimer(warmup)

    class TimerCallback(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            timer.on_train_batch_end(batch, logs)

    gan.fit(batches, epochs=1, steps_per_epoch=warmup + steps, callbacks=[TimerCallback()],
            verbose=0, shuffle=False)
    # A WGAN step shows the critic `critic_steps` real batches: count every real image.
    return {**timer.result(batch_size * gan.critic_steps), "precision": precision, "xla": xla}


def measure_baseline(steps, warmup, batch_size):
    """The TensorFlow DCGAN tutorial's own loop, on the same data and batch size."""
    import keras
    import tensorflow as tf
    from keras import layers

    from ganlib.data import load_dataset, to_unit_range

    keras.utils.set_random_seed(0)
    images = to_unit_range(load_dataset("mnist", verbose=False).images)
    dataset = (tf.data.Dataset.from_tensor_slices(images).shuffle(len(images))
               .batch(batch_size, drop_remainder=True).repeat())
    generator = keras.Sequential([
        keras.Input((100,)), layers.Dense(7 * 7 * 256, use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(), layers.Reshape((7, 7, 256)),
        layers.Conv2DTranspose(128, 5, strides=1, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(64, 5, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(), layers.LeakyReLU(),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                               activation="tanh")])
    discriminator = keras.Sequential([
        keras.Input((28, 28, 1)), layers.Conv2D(64, 5, strides=2, padding="same"),
        layers.LeakyReLU(), layers.Dropout(0.3),
        layers.Conv2D(128, 5, strides=2, padding="same"), layers.LeakyReLU(),
        layers.Dropout(0.3), layers.Flatten(), layers.Dense(1)])
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    generator_optimizer = keras.optimizers.Adam(1e-4)
    discriminator_optimizer = keras.optimizers.Adam(1e-4)

    @tf.function
    def train_step(real_images):
        noise = tf.random.normal([batch_size, 100])
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated = generator(noise, training=True)
            real_output = discriminator(real_images, training=True)
            fake_output = discriminator(generated, training=True)
            gen_loss = cross_entropy(tf.ones_like(fake_output), fake_output)
            disc_loss = (cross_entropy(tf.ones_like(real_output), real_output)
                         + cross_entropy(tf.zeros_like(fake_output), fake_output))
        generator_optimizer.apply_gradients(zip(
            gen_tape.gradient(gen_loss, generator.trainable_variables),
            generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(
            disc_tape.gradient(disc_loss, discriminator.trainable_variables),
            discriminator.trainable_variables))
        return gen_loss, disc_loss

    timer = _StepTimer(warmup)
    for batch, real_images in enumerate(dataset.take(warmup + steps)):
        losses = train_step(real_images)
        float(losses[0])  # wait for the step to finish, as Keras's fit does
        timer.on_train_batch_end(batch)
    return timer.result(batch_size)


def measure_input_pipeline(steps, warmup, batch_size):
    """Images/s of the DCGAN's training stream alone: shuffled, scaled and prefetched
    batches with their noise, drawn as fast as the pipeline can make them."""
    from ganlib.data import load_dataset, training_batches

    data = load_dataset("mnist", verbose=False)
    timer = _StepTimer(warmup)
    for batch, element in enumerate(training_batches(data, batch_size, 100, 1, 0, 0, 10_000)):
        float(element["images"][0, 0, 0, 0, 0])  # the batch really exists
        timer.on_train_batch_end(batch)
        if batch + 1 == warmup + steps:
            break
    return timer.result(batch_size)


def _one_intra_op_thread():
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)


class _StepTimer:
    """Times the steps after the first `warmup` ones."""

    def __init__(self, warmup):
        self.warmup = warmup
        self.started = self.finished = None
        self.timed_steps = 0

    def on_train_batch_end(self, batch, logs=None):
        if logs:
            float(logs["g_loss"])  # make sure the step has really finished
        if batch + 1 == self.warmup:
            self.started = time.perf_counter()
        elif batch + 1 > self.warmup:
            self.finished = time.perf_counter()
            self.timed_steps = batch + 1 - self.warmup

    def result(self, batch_size):
        seconds = self.finished - self.started
        return {"images_per_second": self.timed_steps * batch_size / seconds,
                "step_ms": 1000 * seconds / self.timed_steps,
                "peak_memory_mb": _peak_memory_mb()}


def run_worker(name, steps, warmup, batch_size):
    """Measure one model in a fresh process; returns its result dict."""
    command = [sys.executable, "-m", "ganlib.bench", "--worker", name, "--steps", str(steps),
               "--warmup", str(warmup), "--batch-size", str(batch_size)]
    finished = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in finished.stdout.splitlines() if line.startswith("{")]
    if finished.returncode != 0 or not lines:
        raise GanlibError(f"benchmark of {name} failed: "
                          f"{(finished.stderr.strip().splitlines() or ['no output'])[-1]}")
    return json.loads(lines[-1])


def benchmark(names, steps, warmup, batch_size, repeats=1):
    """Measure each model `repeats` times (interleaved) and keep each one's median run."""
    runs = {name: [] for name in names}
    for _ in range(repeats):
        for name in names:
            runs[name].append(run_worker(name, steps, warmup, batch_size))
    results = {}
    for name, measurements in runs.items():
        measurements.sort(key=lambda m: m["images_per_second"])
        results[name] = measurements[len(measurements) // 2]
    return results


def _settings(result):
    """'bfloat16, XLA' or 'float32': how a row was computed."""
    if "precision" not in result:
        return ""
    return result["precision"] + (", XLA" if result["xla"] else "")


def format_table(results, batch_size, steps):
    """A plain-text table of the results, with DCGAN's ratio to the baseline."""
    lines = [f"batch {batch_size}, {steps} timed steps, median of the repeats",
             f"{'model':<20}{'images/s':>10}{'step ms':>10}{'peak MB':>10}  computed in"]
    for name, result in results.items():
        lines.append(f"{name:<20}{result['images_per_second']:>10.1f}"
                     f"{result['step_ms']:>10.1f}{result['peak_memory_mb']:>10.0f}  "
                     f"{_settings(result)}")

    def ratio(name, other):
        return results[name]["images_per_second"] / results[other]["images_per_second"]

    if "dcgan" not in results:
        return "\n".join(lines)
    if BASELINE in results:
        lines.append(f"ganlib DCGAN ({_settings(results['dcgan'])}, as ganlib.train runs it "
                     f"here) / TF tutorial loop (float32): {ratio('dcgan', BASELINE):.2f}x")
    for other in ("dcgan_with_xla", "dcgan_without_xla"):
        if other in results:
            with_xla, without = ((other, "dcgan") if other == "dcgan_with_xla"
                                 else ("dcgan", other))
            lines.append(f"DCGAN with / without XLA ({results['dcgan']['precision']}): "
                         f"{ratio(with_xla, without):.2f}x")
    for name, what in ((DETERMINISTIC, "with / without --deterministic"),
                       (ONE_THREAD, "one thread per op / default threads")):
        if name in results:
            lines.append(f"DCGAN {what}: {ratio(name, 'dcgan'):.2f}x")
    if INPUT_PIPELINE in results:
        lines.append(f"input pipeline alone / DCGAN training: "
                     f"{ratio(INPUT_PIPELINE, 'dcgan'):.0f}x as fast")
    for other in ("dcgan_float32", "dcgan_bfloat16"):
        if other in results:
            from ganlib.precision import native_bfloat16

            bf16, f32 = (("dcgan", other) if other == "dcgan_float32" else (other, "dcgan"))
            lines.append(f"DCGAN bfloat16 / float32 throughput: {ratio(bf16, f32):.2f}x (this "
                         f"CPU {'has' if native_bfloat16() else 'lacks'} bfloat16 instructions; "
                         f"--precision auto picks {results['dcgan']['precision']})")
    return "\n".join(lines)


@cli.reports_errors
def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated variants (default: all)")
    parser.add_argument("--steps", type=int, default=40, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1, help="runs per model (median kept)")
    parser.add_argument("--bfloat16", action="store_true",
                        help="also time the DCGAN in the precision auto did not pick: "
                             "bfloat16 is fast only with AMX, or avx512_bf16 on AMD "
                             "(see ganlib.precision)")
    parser.add_argument("--tuning", action="store_true",
                        help="also time the DCGAN with --deterministic, with one thread per "
                             "op, and the input pipeline alone")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    quality = parser.add_argument_group("time to quality (ganlib/time_to_quality.py)")
    quality.add_argument("--quality", action="store_true",
                         help="instead of speed: images and seconds until FCD / floor falls to "
                              "--threshold, ganlib's recipe against the TF tutorial's")
    quality.add_argument("--threshold", type=float, default=8.0, help="the bar (default 8)")
    quality.add_argument("--max-images", type=int, default=400_000,
                         help="give up after this many images per recipe (default 400,000)")
    quality.add_argument("--every", type=int, default=2, help="epochs between evaluations")
    quality.add_argument("--limit", type=int, help="train on this many images (a quick try)")
    quality.add_argument("--runs", default=os.path.join("runs", "quality"),
                         help="folder for the two run folders (resumable)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    import_tensorflow_quietly()  # no C++ start-up log before our output
    if args.quality:
        from ganlib import time_to_quality

        results = time_to_quality.run(args.threshold, args.max_images, args.every,
                                      args.runs, args.limit)
        print(time_to_quality.to_json(results) if args.json
              else time_to_quality.format_results(results, args.threshold))
        return 0
    if min(args.steps, args.warmup, args.batch_size, args.repeats) < 1:
        raise GanlibError("--steps, --warmup, --batch-size and --repeats must be >= 1")
    if args.worker:
        if args.worker == BASELINE:
            measure = measure_baseline
        elif args.worker in DCGAN_ROWS:
            setting = DCGAN_ROWS[args.worker]
            measure = lambda *a: measure_variant("dcgan", *a, **setting)  # noqa: E731
        elif args.worker == DETERMINISTIC:
            from ganlib.train import make_deterministic

            make_deterministic()
            measure = lambda *a: measure_variant("dcgan", *a)  # noqa: E731
        elif args.worker == ONE_THREAD:
            _one_intra_op_thread()
            measure = lambda *a: measure_variant("dcgan", *a)  # noqa: E731
        elif args.worker == INPUT_PIPELINE:
            measure = measure_input_pipeline
        else:
            measure = lambda *a: measure_variant(args.worker, *a)  # noqa: E731
        print(json.dumps(measure(args.steps, args.warmup, args.batch_size)))
        return 0
    from ganlib.variants import get_variant

    names = [get_variant(name).name for name in args.variants.split(",")]
    if "dcgan" in names:
        from ganlib.train import default_xla

        precision, xla = default_settings()
        names.insert(names.index("dcgan"), BASELINE)  # measured right beside DCGAN
        names.insert(names.index("dcgan") + 1, "dcgan_alternating")
        if default_xla() is None:  # XLA chosen here, not forced: what the choice buys
            names.insert(names.index("dcgan") + 1,
                         "dcgan_without_xla" if xla else "dcgan_with_xla")
        if args.bfloat16:
            names.insert(names.index("dcgan") + 1, "dcgan_float32"
                         if precision == "bfloat16" else "dcgan_bfloat16")
        if args.tuning:
            for name in reversed(TUNING):
                names.insert(names.index("dcgan") + 1, name)
    results = benchmark(names, args.steps, args.warmup, args.batch_size, args.repeats)
    if args.json:
        print(json.dumps({"batch_size": args.batch_size, "steps": args.steps,
                          "results": results}, indent=2))
    else:
        print(format_table(results, args.batch_size, args.steps))
    return 0


if __name__ == "__main__":
    cli.run(main)
