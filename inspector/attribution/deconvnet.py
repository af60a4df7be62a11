"""DeconvNet (Zeiler & Fergus, 2014), as a backward pass with rectified signals."""

from __future__ import annotations

from typing import ClassVar

from inspector.attribution.base import register
from inspector.attribution.guided_backprop import GuidedBackprop


@register
class DeconvNet(GuidedBackprop):
    """The deconvolutional network's projection of the target back to the pixels.

    Paper: M. D. Zeiler and R. Fergus, "Visualizing and Understanding
    Convolutional Networks", ECCV, 2014 (Section 2.1, Fig. 1).

    The DeconvNet runs the layers backwards: max-unpooling through the forward
    pass's switches, the transposed filters, and a ReLU on the reconstruction.
    As Springenberg et al. (ICLR Workshop 2015, Fig. 1) show, that is
    backpropagation with one change at every ReLU ``f = relu(z)``: the signal
    ``R_f`` coming back is rectified, ``R_z = (R_f > 0) * R_f``, whatever the sign
    of ``z`` in the forward pass. The gradient of max pooling routes to the
    argmax (the switches) and that of a convolution is the transposed filter, so
    every other layer backpropagates as usual. The signal starts at the target's
    logit, and the ``(H, W, C)`` result is shown as saliency is: ``max_c |R_x|``.
    ReLUs are found as for Guided Backprop; model and inspection stay untouched.

    Known weakness: with the forward mask gone the map depends even less on the
    model than Guided Backprop's; it fails the model-randomisation sanity check
    (Adebayo et al., NeurIPS 2018).

    Heatmap: float32 ``(H, W)`` at input size, values in ``[0, inf)``;
    ``signed`` is False.
    """

    name = "deconvnet"
    title = "DeconvNet"
    citation = "Zeiler & Fergus, ECCV 2014"
    relu_rule: ClassVar[str] = "deconvnet"
