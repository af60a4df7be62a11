"""Vanilla gradient saliency (Simonyan, Vedaldi & Zisserman, 2014)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspector.attribution._helpers import max_abs_over_channels
from inspector.attribution.base import Attribution, AttributionMethod, register

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection


@register
class Saliency(AttributionMethod):
    """Image-specific class saliency from the gradient of the class score.

    Paper: K. Simonyan, A. Vedaldi and A. Zisserman, "Deep Inside Convolutional
    Networks: Visualising Image Classification Models and Saliency Maps",
    ICLR Workshop, 2014 (Section 3.1).

    With ``w = dS_c/dI`` evaluated at the image ``I`` (``S_c`` the pre-softmax
    class score), the map is ``M_ij = max_c |w_(i,j,c)|``: the largest absolute
    gradient over the colour channels of each pixel.

    Reuses ``inspection.input_gradient``; the model is not run again.

    Heatmap: float32 ``(H, W)`` at input size, values in ``[0, inf)`` (units of
    score per unit of pixel value); ``signed`` is False.
    """

    name = "saliency"
    title = "Saliency"
    citation = "Simonyan, Vedaldi & Zisserman, ICLR Workshop 2014"

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        return self._result(max_abs_over_channels(inspection.input_gradient), signed=False)
