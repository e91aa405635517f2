r"""The hinge loss (Lim and Ye, 2017; used by SAGAN and BigGAN).

    L_D = E_x[max(0, 1 - D(x))] + E_z[max(0, 1 + D(G(z)))],      L_G = -E_z[D(G(z))].

D stops being pushed once a real image scores above +1 and a fake one below -1: a margin,
as in a support vector machine, so D does not spend its capacity on images it already
separates well.
"""

from keras import ops

from ganlib.losses.base import GanLoss


class HingeLoss(GanLoss):
    """D: hinge with margin 1 on each side.  G: -E[D(G(z))]."""

    name = "hinge"

    def per_image_loss(self, logits, targets):
        """max(0, 1 - s D(x)) with s = +1 for an image labelled real, -1 for fake."""
        return ops.relu(1.0 - (2.0 * targets - 1.0) * logits)

    def generator_loss(self, fake_logits):
        """-E[D(G(z))]."""
        return -ops.mean(fake_logits)
