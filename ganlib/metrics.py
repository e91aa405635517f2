r"""Sample-quality numbers, computed from a classifier's view of the images.

A GAN has no loss that says how good its samples are, so we ask a separately trained
image classifier (`ganlib.classifier`) and compare what it sees in generated and real images:

- Frechet classifier distance (FCD), the FID formula on our own classifier's features:
      FCD = |mu_g - mu_r|^2 + Tr(C_g + C_r - 2 (C_g C_r)^{1/2})
  for Gaussians (mu, C) fitted to the penultimate-layer features of generated and of real
  images. Lower is better. It grows with fewer images even for perfect samples, so always
  read it beside the *floor*: the same distance between two disjoint real sets of equal size.
- Classifier score, the Inception-score formula: exp(E_x KL(p(y|x) || p(y))). High when
  each image is confidently one class (quality) and the classes are balanced (diversity).
- Class coverage: the share of images per predicted class; a class is covered when it
  gets at least half its fair share. Mode collapse shows up as uncovered classes.
- Conditional accuracy: for an image generated for label k, how often the classifier says k.
- Precision and recall (Kynkaanniemi et al., 2019), in the same feature space: each real
  image gets a ball reaching its k-th nearest real neighbour; precision is the share of
  generated images inside some real ball ("are the samples realistic?"), recall the share
  of real images inside some generated image's ball ("do the samples cover the data?").
  Both run from 0 to 1; a collapsed generator can have high precision and low recall.
- Novelty: the median pixel distance from each generated image to its nearest real image,
  divided by the same median for real images (to their nearest *other* real image). About 1
  means the samples are as far from the data as real digits are from each other; near 0
  means the generator copies training images, which no classifier-based number can see.
"""

import numpy as np


def frechet_distance(features_a, features_b):
    """Frechet distance between Gaussians fitted to two (N, D) feature sets."""
    features_a = np.asarray(features_a, np.float64)
    features_b = np.asarray(features_b, np.float64)
    mean_a, mean_b = features_a.mean(0), features_b.mean(0)
    cov_a, cov_b = np.cov(features_a, rowvar=False), np.cov(features_b, rowvar=False)
    # Tr((C_a C_b)^{1/2}) = sum of sqrt(eigenvalues of S C_b S) with S = C_a^{1/2}: that
    # matrix is symmetric positive semi-definite, so `eigh` is exact and stable.
    root_a = _symmetric_sqrt(cov_a)
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_sqrt = np.sqrt(np.clip(middle, 0, None)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt
    return float(max(distance, 0.0))


def _symmetric_sqrt(matrix):
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def classifier_score(probabilities):
    """exp(E_x KL(p(y|x) || p(y))): from 1 (useless) to the number of classes (ideal)."""
    probabilities = np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)
    marginal = probabilities.mean(0, keepdims=True)
    kl = np.sum(probabilities * (np.log(probabilities) - np.log(marginal)), axis=1)
    return float(np.exp(kl.mean()))


def class_coverage(probabilities, classes):
    """(share of images per class, how many classes get >= half their fair share)."""
    predicted = np.argmax(probabilities, axis=1)  # class ids are the classifier's outputs
    shares = {int(k): float(np.mean(predicted == k)) for k in classes}
    fair_share = 1.0 / len(classes)
    covered = sum(share >= fair_share / 2 for share in shares.values())
    return shares, int(covered)


def conditional_accuracy(probabilities, labels):
    """Share of images generated for label k that the classifier assigns to class k."""
    predicted = np.argmax(probabilities, axis=1)
    return float(np.mean(predicted == np.asarray(labels).reshape(-1)))


def nearest_neighbour_distances(images, references, skip_self=False, chunk=250):
    """For each image, the Euclidean pixel distance to its nearest reference image.

    `skip_self` takes the second-nearest instead: for real images that are themselves
    among the references, the nearest is the image itself.
    """
    images = np.asarray(images, np.float32).reshape(len(images), -1)
    references = np.asarray(references, np.float32).reshape(len(references), -1)
    reference_norms = (references ** 2).sum(1)
    nearest = []
    for start in range(0, len(images), chunk):  # chunks keep the distance matrix small
        block = images[start:start + chunk]
        squared = (block ** 2).sum(1)[:, None] + reference_norms[None] - 2 * block @ references.T
        rank = 1 if skip_self else 0
        nearest.append(np.sqrt(np.maximum(np.partition(squared, rank, axis=1)[:, rank], 0.0)))
    return np.concatenate(nearest)


def novelty(generated, real_sample, all_real):
    """Median nearest-real distance of generated images over that of real images."""
    generated_distance = np.median(nearest_neighbour_distances(generated, all_real))
    real_distance = np.median(nearest_neighbour_distances(real_sample, all_real, skip_self=True))
    return float(generated_distance / real_distance)


def pairwise_distances(a, b):
    """Euclidean distances between the rows of `a` (N, D) and of `b` (M, D): (N, M)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    squared = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None] - 2 * a @ b.T
    return np.sqrt(np.maximum(squared, 0.0))


def knn_radii(features, k=3):
    """Distance from each feature vector to its k-th nearest other one in the same set."""
    distances = pairwise_distances(features, features)
    return np.partition(distances, k, axis=1)[:, k]  # column 0 is the point itself


def precision_recall(real_features, fake_features, k=3):
    """(precision, recall) of generated against real features, k-nearest-neighbour balls."""
    real_radii, fake_radii = knn_radii(real_features, k), knn_radii(fake_features, k)
    distances = pairwise_distances(fake_features, real_features)  # (fake, real)
    precision = np.mean(np.any(distances <= real_radii[None, :], axis=1))
    recall = np.mean(np.any(distances.T <= fake_radii[None, :], axis=1))
    return float(precision), float(recall)


def probability_real(logits):
    """A BCE discriminator's logits as probabilities 'real' (the sigmoid), without the
    overflow 1 / (1 + exp(-x)) hits for the large logits of a confident D."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(logits, dtype=np.float64)))
