"""Training on several devices or machines with TensorFlow's own `tf.distribute`.

- `mirrored`: `tf.distribute.MirroredStrategy` over the GPUs of one machine (or, with
  `--cpu-replicas N`, over N slices of the CPU, to try it without a GPU).
- `multiworker`: `tf.distribute.MultiWorkerMirroredStrategy` over several processes or
  machines, each started with the same command and its own `TF_CONFIG`, e.g. on the first:

      TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]},
                  "task": {"type": "worker", "index": 0}}' python -m ganlib.train dcgan ...

  Worker 0 (or the "chief" task, when the cluster names one) is the chief: it writes the
  run folder as usual. Every other worker trains the same steps and keeps its own copy of
  the state in a scratch folder beside it, `RUN.worker-N` (on its own machine), so a
  restart of all workers resumes everyone from the same step.

Every replica sees its share of each global batch; gradients are summed across replicas
(`ganlib.gan` rescales them), so a distributed run follows the single-device one.
"""

import json
import os

from ganlib.errors import GanlibError

STRATEGIES = ("mirrored", "multiworker")


def cluster_task():
    """(task type, task index, number of workers) from TF_CONFIG, checked; one clear error."""
    text = os.environ.get("TF_CONFIG")
    example = ('TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
               '"task": {"type": "worker", "index": 0}}\'')
    if not text:
        raise GanlibError(f"--distribute multiworker needs TF_CONFIG describing the cluster, "
                          f"e.g. {example}")
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        task_type, index = task["type"], task["index"]
        members = cluster[task_type]
        workers = sum(len(cluster.get(kind, [])) for kind in ("chief", "worker"))
        valid = (isinstance(members, list) and isinstance(index, int)
                 and 0 <= index < len(members) and task_type in ("chief", "worker")
                 and all(isinstance(address, str) and ":" in address
                         for kind in ("chief", "worker") for address in cluster.get(kind, [])))
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise GanlibError(f"TF_CONFIG is not a valid cluster description (got {text[:120]!r}); "
                          f"it needs cluster.worker (a list of host:port), task.type 'worker' "
                          f"(or 'chief') and a task.index into that list, e.g. {example}")
    return task_type, index, workers


def is_chief(task_type, index):
    """The chief writes the run folder: the "chief" task, or worker 0 when there is none."""
    if task_type == "chief":
        return True
    cluster = json.loads(os.environ["TF_CONFIG"])["cluster"]
    return task_type == "worker" and index == 0 and not cluster.get("chief")


def worker_folder(run_folder, task_type, index):
    """Where a non-chief worker keeps its own copy of the run's state."""
    return f"{os.path.normpath(run_folder)}.{task_type}-{index}"


def make_strategy(distribute):
    """The tf.distribute strategy for --distribute (None: the default, one device)."""
    import tensorflow as tf

    if distribute == "multiworker":
        # Communication by gRPC between the processes that TF_CONFIG lists.
        return tf.distribute.MultiWorkerMirroredStrategy()
    if distribute != "mirrored":
        return tf.distribute.get_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
    # Without GPUs, the CPU devices (split with --cpu-replicas) stand in for them.
    return tf.distribute.MirroredStrategy(devices, cross_device_ops=(
        None if gpus else tf.distribute.ReductionToOneDevice()))


def shard_by_data(dataset):
    """Split each global batch across workers (the stream is made in memory, not from files)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def adapt_for_multiworker(gan):
    """Two work-arounds that let `keras.Model.fit` run under MultiWorkerMirroredStrategy.

    Keras 3 (keras-team/keras issue 20585) (1) reduces a sample batch with an eager
    `strategy.reduce` before training, to build the model from data, which this strategy
    cannot do; the GAN is built before `fit`, so there is nothing to build. (2) It averages
    each logged metric over workers along axis 0, which a scalar does not have; so the
    step's logs are handed over as 1-element vectors.
    """
    from keras import ops

    gan._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    train_step = gan.train_step
    gan.train_step = lambda data: {name: ops.reshape(value, (1,))
                                   for name, value in train_step(data).items()}


def check_same_step(strategy, step):
    """Refuse to go on when the workers resumed from different steps (they would deadlock)."""
    import tensorflow as tf

    value = tf.constant(float(step))
    total = strategy.run(tf.function(
        lambda: tf.distribute.get_replica_context().all_reduce("SUM", value)))
    total = float(strategy.experimental_local_results(total)[0])
    if total != step * strategy.num_replicas_in_sync:
        raise GanlibError(
            f"the workers resumed from different steps (this one from step {step}); a worker "
            "was stopped while writing a checkpoint: delete the newer checkpoint.npz on the "
            "worker that is ahead (its checkpoint.previous.npz takes over) and start all again")
