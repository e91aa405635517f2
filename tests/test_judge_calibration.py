"""The evaluator agrees with the eye: damaged or malformed digits score clearly worse than
real or clean ones, in FCD, precision and the classifier's confidence."""

import os

import numpy as np
import pytest
from PIL import Image, ImageFilter

from conftest import ROOT
from ganlib import metrics
from ganlib.classifier import features_and_probabilities, load_classifier
from ganlib.evaluate import real_sets

FIXTURES = os.path.join(ROOT, "tests", "fixtures")


@pytest.fixture(scope="module")
def judge():
    """The MNIST judge, with the features of 1,000 real digits and of 1,000 others."""
    reference, others = real_sets("mnist", 1000)
    classifier = load_classifier("mnist")
    real_features = features_and_probabilities(classifier, reference)[0]
    other_features = features_and_probabilities(classifier, others)[0]
    floor = metrics.frechet_distance(other_features, real_features)
    return classifier, real_features, others[..., 0], floor


def _cut_strokes(images, rng):
    damaged = images.copy()
    for image in damaged:
        start = rng.integers(8, 20)
        if rng.random() < 0.5:
            image[start:start + 4, :] = 0  # a horizontal gap through the digit
        else:
            image[:, start:start + 4] = 0
    return damaged


def _blobs(images, rng):
    damaged = images.copy()
    rows, columns = np.mgrid[:28, :28]
    for image in damaged:
        for _ in range(2):
            y, x = rng.integers(4, 24, 2)
            image[(rows - y) ** 2 + (columns - x) ** 2 < 9] = 255
    return damaged


def _blur(images, rng):
    return np.stack([np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(1.5)))
                     for image in images])


@pytest.mark.parametrize("damage", [_cut_strokes, _blobs, _blur])
def test_damaged_real_digits_score_clearly_worse_than_real_ones(judge, damage):
    classifier, real_features, others, floor = judge
    clean = features_and_probabilities(classifier, others[..., None])[0]
    damaged = features_and_probabilities(
        classifier, damage(others, np.random.default_rng(0))[..., None])[0]
    clean_ratio = metrics.frechet_distance(clean, real_features) / floor
    damaged_ratio = metrics.frechet_distance(damaged, real_features) / floor
    clean_precision, clean_recall = metrics.precision_recall(real_features, clean)
    damaged_precision, damaged_recall = metrics.precision_recall(real_features, damaged)
    assert clean_ratio == pytest.approx(1.0) and min(clean_precision, clean_recall) > 0.85
    # Two blobs on real digits read as more than 10x the floor. Cut strokes and blobs fall
    # off the real manifold (precision); blurred digits stay readable, inside it, but all
    # land in one small corner of it, so they cover none of the data (recall near 0).
    assert damaged_ratio > 10.0 and min(damaged_precision, damaged_recall) < 0.6


def test_hand_picked_malformed_samples_score_worse_than_clean_ones(judge):
    classifier, real_features, _, _ = judge
    radii = metrics.knn_radii(real_features)
    scores = {}
    for name in ("malformed", "clean"):
        images = np.load(os.path.join(FIXTURES, f"hand_picked_{name}_digits.npy"))
        features, probabilities = features_and_probabilities(classifier, images[..., None])
        distances = metrics.pairwise_distances(features, real_features)
        scores[name] = {"confidence": probabilities.max(axis=1).mean(),
                        "on_the_manifold": np.any(distances <= radii, axis=1).mean()}
    assert scores["malformed"]["confidence"] < scores["clean"]["confidence"] - 0.1
    assert scores["malformed"]["on_the_manifold"] < scores["clean"]["on_the_manifold"]


def test_strong_augmentation_deforms_digits_without_erasing_them():
    from ganlib.classifier import augmenter, elastic_distort
    from ganlib.data import load_dataset

    digits = load_dataset("mnist", limit=64, verbose=False).images
    distorted = elastic_distort(digits, np.random.default_rng(0))
    ink, moved = digits.sum(axis=(1, 2, 3)), distorted.sum(axis=(1, 2, 3))
    ratios = moved / ink  # stretched or squeezed strokes change the ink a little
    assert 0.85 < np.median(ratios) < 1.15 and np.all((ratios > 0.5) & (ratios < 2))
    assert np.mean(distorted != digits) > 0.05     # ... and bent
    augmented = augmenter("strong", 0)(digits)
    assert augmented.shape == digits.shape and -1 <= augmented.min() <= augmented.max() <= 1


def test_the_shipped_mnist_judge_is_the_recipe_its_card_names():
    from ganlib.classifier import FEATURES_LAYER, classifier_card, judge_recipe

    assert judge_recipe("mnist") == ("wide", "strong", 30)
    assert judge_recipe("fashion_mnist") == ("small", "shift", 15)
    assert judge_recipe("mnist", augmentation="shift", epochs=2) == ("wide", "shift", 2)
    card = classifier_card("mnist")
    assert (card["architecture"], card["augmentation"], card["epochs"]) == judge_recipe("mnist")
    assert load_classifier("mnist").get_layer(FEATURES_LAYER).units == 256
