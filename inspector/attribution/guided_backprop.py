"""Guided Backpropagation (Springenberg et al., 2015), on a separately traced pass."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from inspector.attribution._helpers import max_abs_over_channels
from inspector.attribution.base import Attribution, AttributionMethod, register

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection


@register
class GuidedBackprop(AttributionMethod):
    """The input gradient with only positive signals let back through each ReLU.

    Paper: J. T. Springenberg, A. Dosovitskiy, T. Brox and M. Riedmiller,
    "Striving for Simplicity: The All Convolutional Net", ICLR Workshop, 2015
    (Section 3.4 and Fig. 1).

    At every ReLU ``f = relu(z)`` the backward signal ``R`` becomes
    ``R_z = (z > 0) * (R_f > 0) * R_f``: masked by the forward pass, as in
    backpropagation, and by the sign of the signal coming back, as in the
    DeconvNet. Every other layer backpropagates as usual. This covers
    ``Activation("relu")``, ``ReLU`` layers (with ``max_value``, as in
    MobileNetV2: the mask is then ``0 < z < max_value``) and layers built with
    ``activation="relu"``, nested models included. The rule lives in a function
    traced for it alone (``Inspector.input_gradients(..., relu_rule="guided")``);
    the model and the inspection's plain gradients are never changed. The
    ``(H, W, C)`` result is shown as saliency is: ``max_c |R_x|``.

    Known weakness: the map barely depends on the upper layers' weights, so it
    fails the model-randomisation sanity check (Adebayo et al., NeurIPS 2018);
    it shows edges of the image more than what the model uses.

    Heatmap: float32 ``(H, W)`` at input size, values in ``[0, inf)`` (score per
    unit of pixel value, through the modified backward pass); ``signed`` is False.
    """

    name = "guided_backprop"
    title = "Guided Backprop"
    citation = "Springenberg et al., ICLR Workshop 2015"
    relu_rule: ClassVar[str] = "guided"

    def passes(self, inspection: Inspection) -> int:
        return 1  # one backward pass with the modified ReLU rule

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        gradient = inspector.input_gradients(
            inspection.image[None],
            inspection.target,
            inspection.output_index,
            relu_rule=self.relu_rule,
        )[0]
        self.report(1, 1)
        return self._result(max_abs_over_channels(gradient), signed=False)
