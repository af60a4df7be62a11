"""SmoothGrad (Smilkov et al., 2017)."""

from __future__ import annotations

from numbers import Real
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inspector.attribution._helpers import (
    batch_slices,
    batched_input_gradients,
    max_abs_over_channels,
    memory_batch,
)
from inspector.attribution.base import (
    Attribution,
    AttributionError,
    AttributionMethod,
    check_positive_int,
    register,
)

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection


@register
class SmoothGrad(AttributionMethod):
    """The class-score gradient averaged over noisy copies of the image.

    Paper: D. Smilkov, N. Thorat, B. Kim, F. Viégas and M. Wattenberg,
    "SmoothGrad: removing noise by adding noise", ICML Workshop on Visualization
    for Deep Learning, 2017 (arXiv:1706.03825).

    ``M_hat(x) = 1/n sum_{i=1..n} dS_c/dx (x + g_i)`` with ``g_i ~ N(0, sigma^2)``
    drawn independently per pixel and channel, and
    ``sigma = noise_level * (x_max - x_min)`` over the image (the paper's "noise
    level", 10-20 % works best; default 15 %). The smoothed gradient is shown as
    the vanilla saliency map is: ``max_c |M_hat(x)_(i,j,c)|``. As ``sigma -> 0`` it
    becomes the saliency map.

    The ``samples`` noisy copies go through ``inspector.input_gradients`` in
    batches of ``batch_size``, with the inspection's target and output. The noise
    is drawn from a generator seeded with ``seed``, so a map is reproducible.

    Options:
        samples: n, the number of noisy copies (default 50, as in the paper).
        noise_level: sigma as a fraction of the image's value range (default 0.15).
        batch_size: images per gradient pass (default 32).
        seed: seed of the noise (default 0).

    Heatmap: float32 ``(H, W)`` at input size, values in ``[0, inf)`` (score per
    unit of pixel value); ``signed`` is False.
    """

    name = "smoothgrad"
    title = "SmoothGrad"
    citation = "Smilkov et al., ICML Workshop 2017"
    defaults: ClassVar[dict[str, Any]] = {
        "samples": 50,
        "noise_level": 0.15,
        "batch_size": 32,
        "seed": 0,
    }

    def check_options(self) -> None:
        super().check_options()
        check_positive_int(self, "samples")
        if not isinstance(self.noise_level, Real) or self.noise_level < 0:
            raise AttributionError(
                "Expected noise_level to be a number >= 0 (a fraction of the image's "
                f"value range). Received: noise_level={self.noise_level!r}."
            )

    def passes(self, inspection: Inspection) -> int:
        return self.samples

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        mean, _ = self.noisy_gradient_moments(inspection, inspector)
        return self._result(max_abs_over_channels(mean), signed=False)

    def noisy_gradient_moments(
        self, inspection: Inspection, inspector: Inspector
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean and population variance of ``dS_c/dx (x + g_i)`` over the noisy copies.

        Shared with VarGrad, which keeps the variance. Both are float64
        ``(H, W, C)``; one batch of noise and gradients is held at a time.
        """
        image = inspection.image
        sigma = self.noise_level * float(image.max() - image.min())
        rng = np.random.default_rng(self.seed)
        count, mean, squares = 0, np.zeros(image.shape), np.zeros(image.shape)
        batch = memory_batch(inspection, self.batch_size, gradients=True)
        # The noise is drawn per sample row, so any batch gives the same draws.
        for part in batch_slices(self.samples, batch):
            size = part.stop - part.start
            noise = rng.normal(0.0, 1.0, (size, *image.shape)).astype(np.float32)
            noisy = image[None] + np.float32(sigma) * noise
            grads = batched_input_gradients(inspector, inspection, noisy, batch)
            grads = grads.astype(np.float64)
            batch_mean = grads.mean(axis=0)
            # Chan et al.'s pairwise update of the sum of squared deviations:
            # E[g^2] - E[g]^2 would cancel catastrophically where the variance is
            # tiny next to the mean (a nearly linear model).
            delta = batch_mean - mean
            total = count + size
            squares += ((grads - batch_mean) ** 2).sum(axis=0) + delta**2 * count * size / total
            mean += delta * size / total
            count = total
            self.report(count, self.samples)
        return mean, squares / count
