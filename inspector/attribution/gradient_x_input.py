"""Gradient × input (Shrikumar et al., 2016)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from inspector.attribution.base import Attribution, AttributionMethod, register

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection


@register
class GradientXInput(AttributionMethod):
    """The input multiplied elementwise by the gradient of the class score.

    Paper: A. Shrikumar, P. Greenside, A. Shcherbina and A. Kundaje, "Not Just a
    Black Box: Learning Important Features Through Propagating Activation
    Differences", arXiv:1605.01713, 2016.

    With ``S_c`` the pre-softmax class score and ``x`` the model input, the map is
    ``M_ij = sum_c x_(i,j,c) * dS_c/dx_(i,j,c)``, summed over the channels so that
    a pixel's contributions add up like the paper's per-feature scores. For a
    linear model without bias the whole map sums to the score.

    Reuses ``inspection.input_gradient``; the model is not run again.

    Heatmap: float32 ``(H, W)`` at input size, values in ``(-inf, inf)`` (score
    units); ``signed`` is True (positive pixels raise the score).
    """

    name = "gradient_x_input"
    title = "Gradient × input"
    citation = "Shrikumar et al., arXiv 2016"

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        product = inspection.image.astype(np.float64) * inspection.input_gradient
        return self._result(product.sum(axis=-1), signed=True)
