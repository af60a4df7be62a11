"""VarGrad (Adebayo et al., 2018): the variance of SmoothGrad's noisy gradients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspector.attribution.base import Attribution, register
from inspector.attribution.smoothgrad import SmoothGrad

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection


@register
class VarGrad(SmoothGrad):
    """The variance of the class-score gradient over noisy copies of the image.

    Paper: J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt and
    B. Kim, "Sanity Checks for Saliency Maps", NeurIPS, 2018 (Section 2,
    "VarGrad"); also S. Hooker, D. Erhan, P.-J. Kindermans and B. Kim, "A
    Benchmark for Interpretability Methods in Deep Neural Networks", NeurIPS,
    2019.

    ``V(x) = 1/n sum_{i=1..n} (g_i - g_bar)^2`` with ``g_i = dS_c/dx (x + e_i)``,
    ``e_i ~ N(0, sigma^2)`` and ``g_bar`` their mean: the very noisy gradients
    SmoothGrad averages (same noise, options and seed; see ``SmoothGrad``), of
    which VarGrad keeps the population variance instead of the mean. It is shown
    as the maximum over the colour channels, ``max_c V(x)_(i,j,c)``. A linear
    model has the same gradient everywhere, so its VarGrad is 0.

    Options: as for SmoothGrad (``samples``, ``noise_level``, ``batch_size``,
    ``seed``).

    Heatmap: float32 ``(H, W)`` at input size, values in ``[0, inf)`` (squared
    score per unit of pixel value); ``signed`` is False.
    """

    name = "vargrad"
    title = "VarGrad"
    citation = "Adebayo et al., NeurIPS 2018"

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        _, variance = self.noisy_gradient_moments(inspection, inspector)
        return self._result(variance.max(axis=-1), signed=False)
