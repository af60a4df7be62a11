"""Integrated Gradients (Sundararajan, Taly & Yan, 2017)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inspector.attribution._helpers import (
    baseline_image,
    batch_slices,
    batched_input_gradients,
    memory_batch,
)
from inspector.attribution.base import (
    Attribution,
    AttributionMethod,
    check_positive_int,
    register,
)

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection


@register
class IntegratedGradients(AttributionMethod):
    """Gradients integrated along the straight line from a baseline to the image.

    Paper: M. Sundararajan, A. Taly and Q. Yan, "Axiomatic Attribution for Deep
    Networks", ICML, 2017.

    ``IG_i(x) = (x_i - x'_i) * integral_0^1 dS_c/dx_i (x' + a (x - x')) da`` with
    ``S_c`` the pre-softmax class score and ``x'`` the baseline. The integral is
    approximated by the trapezoidal Riemann sum over ``steps`` equal intervals
    (``steps + 1`` gradient evaluations, end points weighted 1/2), batched through
    ``inspector.input_gradients`` with the inspection's target and output.
    Per-pixel attributions are summed over the channels. Completeness holds:
    the map sums to ``S_c(x) - S_c(x')`` up to the quadrature error (the paper
    suggests 20-300 steps; check it on your model with ``steps``). Each result
    reports that check in ``details``: ``attribution_sum``, ``score_difference``
    (``S_c(x) - S_c(x')``, one extra forward pass for ``S_c(x')``) and
    ``completeness_gap`` (their difference).

    Options:
        steps: m, number of intervals along the path (default 64).
        baseline: ``"black"`` (default; zeros in the 0..1 and 0..255 scales),
            ``"grey"``, ``"mean"``, a number, or an array of the image's shape.
        batch_size: images per gradient pass (default 32).

    Heatmap: float32 ``(H, W)`` at input size, values in ``(-inf, inf)`` (score
    units); ``signed`` is True.
    """

    name = "integrated_gradients"
    title = "Integrated Gradients"
    citation = "Sundararajan, Taly & Yan, ICML 2017"
    defaults: ClassVar[dict[str, Any]] = {"steps": 64, "baseline": "black", "batch_size": 32}

    def check_options(self) -> None:
        super().check_options()
        check_positive_int(self, "steps")

    def passes(self, inspection: Inspection) -> int:
        return self.steps + 2  # the path's steps + 1 gradients, and the baseline's score

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        image = inspection.image
        baseline = baseline_image(self.baseline, inspection, inspector)
        alphas = np.linspace(0.0, 1.0, self.steps + 1, dtype=np.float32)
        # Trapezoid rule: interior points weigh 1/m, the two end points 1/(2m).
        weights = np.full(alphas.shape, 1.0 / self.steps)
        weights[[0, -1]] /= 2.0
        path_sum = np.zeros(image.shape, np.float64)
        batch = memory_batch(inspection, self.batch_size, gradients=True)
        for part in batch_slices(len(alphas), batch):
            a = alphas[part, None, None, None]
            points = baseline[None] + a * (image - baseline)[None]
            grads = batched_input_gradients(inspector, inspection, points, batch)
            path_sum += np.tensordot(weights[part], grads, axes=1)
            self.report(part.stop, self.passes(inspection))
        attributions = (image - baseline).astype(np.float64) * path_sum
        heatmap = attributions.sum(axis=-1)
        details = _completeness(heatmap, baseline, inspection, inspector)
        self.report(self.passes(inspection), self.passes(inspection))
        return self._result(heatmap, signed=True, details=details)


def _completeness(heatmap, baseline, inspection: Inspection, inspector: Inspector) -> dict:
    """Sundararajan et al.'s completeness axiom, measured: sum(IG) vs S_c(x) - S_c(x')."""
    logits, _ = inspector.predict(baseline[None], inspection.output_index)
    difference = inspection.score - float(logits[0, inspection.target])
    total = float(heatmap.sum())
    return {
        "attribution_sum": total,
        "score_difference": difference,
        "completeness_gap": total - difference,
    }
