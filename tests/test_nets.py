"""Networks: the reference architectures, other image sizes, conditioning that matters."""

import keras
import numpy as np
import pytest

from ganlib import nets
from ganlib.errors import GanlibError
from ganlib.knobs import Knobs
from ganlib.variants import VARIANTS, build_networks, get_variant


@pytest.mark.parametrize("image_shape", [(28, 28, 1), (32, 32, 3), (64, 64, 3)])
@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_variant_builds_for_several_image_sizes(name, image_shape):
    variant = get_variant(name)
    generator, discriminator = build_networks(variant, image_shape, 10, Knobs(latent_dim=16))
    noise = np.random.default_rng(0).standard_normal((3, 16)).astype("float32")
    labels = np.array([[0], [4], [9]], "int32")
    images = np.asarray(generator([noise, labels] if variant.conditional else noise))
    assert tuple(images.shape) == (3, *image_shape)
    assert np.abs(np.asarray(images)).max() <= 1.0  # tanh output, the data's range
    logits = discriminator([images, labels] if variant.conditional else images)
    assert tuple(logits.shape) == (3, 1)


def test_default_dcgan_is_the_tensorflow_tutorial_network():
    generator = nets.conv_generator((28, 28, 1))
    discriminator = nets.conv_discriminator((28, 28, 1))
    # The tutorial's parameter counts: 2,330,944 (generator) and 212,865 (discriminator).
    assert generator.count_params() == 2_330_944
    assert discriminator.count_params() == 212_865
    conv_widths = [layer.filters for layer in generator.layers if hasattr(layer, "filters")]
    assert conv_widths == [128, 64, 1]
    assert [layer.kernel_size for layer in discriminator.layers
            if hasattr(layer, "kernel_size")] == [(5, 5), (5, 5)]


def test_knobs_change_the_networks():
    small = nets.conv_generator((28, 28, 1), filters=0.5)
    deeper = nets.conv_generator((64, 64, 3), extra_conv_layers=1)
    assert small.count_params() < nets.conv_generator((28, 28, 1)).count_params()
    # 64 px takes 3 stages by itself, one extra makes 4: 64 = 4 x 2^4, a 4x4 map of 1024,
    # then 512 (stride 1), 256, 128, 64, and 3 channels.
    assert [layer.filters for layer in deeper.layers if hasattr(layer, "filters")] == \
        [512, 256, 128, 64, 3]
    wider = nets.conv_discriminator((28, 28, 1), extra_dense_layers=2)
    assert sum(1 for layer in wider.layers if layer.__class__.__name__ == "Dense") == 3


def test_generator_rejects_an_image_size_it_cannot_reach():
    with pytest.raises(GanlibError, match="divisible by 16"):
        nets.conv_generator((28, 28, 1), extra_conv_layers=2)


@pytest.mark.parametrize("name", ["cgan", "cdcgan"])
def test_conditional_networks_use_the_label(name):
    generator, discriminator = build_networks(get_variant(name), (28, 28, 1), 10,
                                              Knobs(latent_dim=16))
    noise = np.random.default_rng(1).standard_normal((1, 16)).astype("float32").repeat(2, 0)
    labels = np.array([[2], [7]], "int32")
    images = np.asarray(generator([noise, labels]))
    assert not np.allclose(images[0], images[1])  # same noise, other class, other image
    same_images = np.repeat(images[:1], 2, axis=0)
    logits = np.asarray(discriminator([same_images, labels]))
    assert logits[0, 0] != logits[1, 0]


@pytest.mark.parametrize("name", ["cgan", "cdcgan"])
def test_projection_adds_the_label_embeddings_inner_product_with_ds_features(name):
    _, discriminator = build_networks(get_variant(name), (28, 28, 1), 10,
                                      Knobs(latent_dim=16, projection=True, d_dropout=0.0))
    images = np.random.default_rng(2).uniform(-1, 1, (3, 28, 28, 1)).astype("float32")
    labels = np.array([[0], [3], [9]], "int32")
    # Set the embedding by hand, so the expected term is known: row y = (y + 1) / 100.
    embedding = discriminator.get_layer("label_embedding")
    rows = (np.arange(10)[:, None] + 1) / 100 * np.ones(embedding.embeddings.shape)
    embedding.embeddings.assign(rows.astype("float32"))
    features_model = keras.Model(
        discriminator.inputs, [discriminator.get_layer("label_projection").input[0],
                               discriminator.get_layer("logit_unconditional").output])
    features, unconditional = (np.asarray(t) for t in features_model([images, labels]))
    expected = unconditional[:, 0] + np.sum(features * rows[labels[:, 0]], axis=1)
    logits = np.asarray(discriminator([images, labels]))[:, 0]
    np.testing.assert_allclose(logits, expected, rtol=1e-4, atol=1e-4)
