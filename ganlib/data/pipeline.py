"""An `ImageData` -> the `tf.data` stream that `GAN.fit` consumes, one element per step."""

from ganlib.errors import GanlibError


def steps_per_epoch(data, batch_size, critic_steps=1):
    """Full training steps per epoch: each takes `critic_steps` fresh batches of real images.

    The remainder is dropped so every batch has the same size.
    """
    steps = len(data) // (batch_size * critic_steps)
    if steps == 0:
        raise GanlibError(f"one training step needs {batch_size * critic_steps} images "
                          f"(batch size {batch_size} x {critic_steps} critic steps), more than "
                          f"the {len(data)} images; lower --batch-size or use more data")
    return steps


def training_batches(data, batch_size, latent_dim, critic_steps, seed,
                     first_epoch, last_epoch, start_batch=0, flip=False):
    """The training stream for epochs [first_epoch, last_epoch), starting at step `start_batch`.

    Each element feeds one training step: a dict of `images` in [-1, 1] shaped
    (batch, critic_steps, H, W, C), their `labels` (batch, critic_steps), and `noise`
    (batch, critic_steps, latent_dim): a fresh real batch and latent batch for every
    discriminator update of the step (a WGAN's critic takes 5). The batch axis comes first
    so that `tf.distribute` splits every one of them across replicas.
    With `flip`, each real image is mirrored left-right with probability 1/2 (the draw is
    also a function of (seed, step)).
    Shuffle order and noise are pure functions of (seed, epoch, step), so a run resumed from
    a checkpoint sees exactly the batches an uninterrupted run would, and a distributed run
    splits exactly the same global batches across its replicas.
    """
    import tensorflow as tf

    steps = steps_per_epoch(data, batch_size, critic_steps)
    images = tf.constant(data.images)
    labels = tf.constant(data.labels, tf.int32)

    def batches_of_epoch(epoch):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(len(data)), seed=tf.stack([tf.cast(seed, tf.int64), epoch]))
        used = steps * batch_size * critic_steps
        # Step s, image b, critic update k takes order[s, k, b]: batch k of the step is a
        # contiguous run of the shuffled order, as with one batch per step.
        order = tf.transpose(tf.reshape(order[:used], [steps, critic_steps, batch_size]),
                             [0, 2, 1])
        batch_ids = tf.data.Dataset.range(steps)
        return tf.data.Dataset.zip(
            tf.data.Dataset.from_tensors(epoch).repeat(steps), batch_ids,
            tf.data.Dataset.from_tensor_slices(order))

    def assemble(epoch, batch, order):
        step = epoch * steps + batch
        noise = tf.random.stateless_normal(
            [batch_size, critic_steps, latent_dim],
            seed=tf.stack([tf.cast(seed, tf.int64) + 1, step]))
        pixels = tf.cast(tf.gather(images, order), tf.float32) / 127.5 - 1.0
        if flip:  # pixels are (batch, critic_steps, H, W, C): axis 3 is the width
            mirrored = tf.random.stateless_uniform(
                [batch_size, critic_steps, 1, 1, 1],
                seed=tf.stack([tf.cast(seed, tf.int64) + 2, step])) < 0.5
            pixels = tf.where(mirrored, tf.reverse(pixels, axis=[3]), pixels)
        return {"images": pixels, "labels": tf.gather(labels, order), "noise": noise}

    stream = tf.data.Dataset.range(first_epoch, last_epoch).flat_map(batches_of_epoch)
    return stream.skip(start_batch).map(assemble, num_parallel_calls=tf.data.AUTOTUNE) \
                 .prefetch(tf.data.AUTOTUNE)
