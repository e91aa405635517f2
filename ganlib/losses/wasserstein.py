r"""The Wasserstein loss (Arjovsky, Chintala and Bottou, 2017).

The critic f is a 1-Lipschitz function (enforced by weight clipping or by a gradient
penalty), and by the Kantorovich-Rubinstein duality

    W(P_real, P_G) = max_{|f|_L <= 1}  E_x[f(x)] - E_z[f(G(z))].

So the critic minimises  E[f(G(z))] - E[f(x)]  (its loss is minus the Wasserstein estimate)
and the generator minimises  -E[f(G(z))]. There is no sigmoid: f's output is a score, not a
probability, and "D(x)" in the training log is the mean raw score. Unlike BCE's losses, the
critic's estimate  D(x) - D(G(z))  falls as the samples improve.
"""

from keras import ops

from ganlib.losses.base import GanLoss


class WassersteinLoss(GanLoss):
    """Critic: E[f(fake)] - E[f(real)].  Generator: -E[f(fake)]."""

    name = "wasserstein"

    def per_image_loss(self, logits, targets):
        """-f(x) for an image labelled real, +f(x) for one labelled fake."""
        return -(2.0 * targets - 1.0) * logits

    def generator_loss(self, fake_logits):
        """-E[f(G(z))]: the generator pushes its images' critic scores up."""
        return -ops.mean(fake_logits)
