"""RISE (Petsiuk, Das & Saenko, 2018): randomised input sampling, batched."""

from __future__ import annotations

from numbers import Real
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inspector.attribution._helpers import batch_slices, interpolation_matrix, memory_batch
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
class RISE(AttributionMethod):
    """The target's probability averaged over random masks, per pixel: a black box.

    Paper: V. Petsiuk, A. Das and K. Saenko, "RISE: Randomized Input Sampling
    for Explanation of Black-box Models", BMVC, 2018 (Section 3: the
    Monte-Carlo estimate, and the mask generation).

    Each mask is drawn as the paper prescribes: an ``s x s`` grid (``grid``)
    whose cells are 1 with probability ``p`` (``keep_probability``) and 0
    otherwise, upsampled bilinearly to ``(s + 1) C_H x (s + 1) C_W`` with the
    cell size ``C_H x C_W = ceil(H / s) x ceil(W / s)``, then cropped to
    ``H x W`` at a random shift in ``[0, C_H) x [0, C_W)``: smooth masks with
    values in ``[0, 1]`` whose cells do not all line up. With ``P_i`` the
    target's softmax (or sigmoid) probability (the raw output for a linear
    output layer) on the masked image
    ``x o M_i`` (``inspector.predict``, ``batch_size`` images per pass), the
    saliency is the Monte-Carlo estimate
    ``S = 1 / (N p) * sum_{i=1..N} P_i M_i``. Masks are drawn from a generator
    seeded with ``seed``, one row of uniforms per mask, so a map is
    reproducible and the first N masks of a run with 2N are those of a run
    with N.

    Cost: ``masks`` forward passes. The paper used N = 4000 (ResNet-50) and
    N = 6000 (VGG16) at 224 x 224 with s = 7; the default N = 2000 is enough
    for small inputs such as the face model's (the Monte-Carlo error shrinks as
    1/sqrt(N); raise it for large images).

    Options:
        masks: N, the number of random masks (default 2000).
        grid: s, cells per side of the coarse grid (default 7, the paper's).
        keep_probability: p, the chance a cell is kept (default 0.5, the paper's).
        seed: seed of the masks (default 0).
        batch_size: masked images per forward pass (default 64).

    Heatmap: float32 ``(H, W)`` at input size, values in ``[0, 1/p]`` (for
    probabilities): about
    the mean probability where a pixel does not matter, more where keeping it
    raises the target's probability; ``signed`` is False.
    """

    name = "rise"
    title = "RISE"
    citation = "Petsiuk, Das & Saenko, BMVC 2018"
    defaults: ClassVar[dict[str, Any]] = {
        "masks": 2000,
        "grid": 7,
        "keep_probability": 0.5,
        "seed": 0,
        "batch_size": 64,
    }

    def check_options(self) -> None:
        super().check_options()
        check_positive_int(self, "masks")
        check_positive_int(self, "grid")
        p = self.keep_probability
        if isinstance(p, bool) or not isinstance(p, Real) or not 0.0 < p <= 1.0:
            raise AttributionError(
                "Expected keep_probability to be a number in (0, 1]. "
                f"Received: keep_probability={p!r}."
            )

    def passes(self, inspection: Inspection) -> int:
        return self.masks

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        image = inspection.image
        draws = mask_draws(self.masks, self.grid, self.seed)
        total = np.zeros(image.shape[:2], np.float64)
        for part in batch_slices(self.masks, memory_batch(inspection, self.batch_size, False)):
            masks = masks_from_draws(draws[part], image.shape[:2], self.grid, self.keep_probability)
            _, probabilities = inspector.predict(
                image[None] * masks[..., None], inspection.output_index
            )
            total += np.tensordot(probabilities[:, inspection.target], masks, axes=1)
            self.report(part.stop, self.masks)
        return self._result(total / (self.masks * self.keep_probability), signed=False)


def mask_draws(count: int, grid: int, seed: int) -> np.ndarray:
    """``(count, grid * grid + 2)`` uniforms in [0, 1): per mask its cells and its shift."""
    return np.random.default_rng(seed).random((count, grid * grid + 2))


def masks_from_draws(
    draws: np.ndarray, size: tuple[int, int], grid: int, keep_probability: float
) -> np.ndarray:
    """The RISE masks for rows of ``mask_draws``: float32 ``(N, H, W)`` in ``[0, 1]``."""
    cells = (draws[:, : grid * grid] < keep_probability).reshape(-1, grid, grid)
    cell_size = (-(-size[0] // grid), -(-size[1] // grid))  # ceil(H / s), ceil(W / s)
    axes = []
    for axis in (0, 1):
        # Upsample to (s + 1) * cell, then keep size[axis] pixels from the shift on.
        upsample = interpolation_matrix(grid, (grid + 1) * cell_size[axis])
        shift = np.floor(draws[:, grid * grid + axis] * cell_size[axis]).astype(int)
        axes.append(upsample[shift[:, None] + np.arange(size[axis])])
    # Per mask: rows (H, s) @ cells (s, s) @ cols (s, W), batched through BLAS.
    masks = axes[0] @ cells.astype(np.float64) @ np.swapaxes(axes[1], 1, 2)
    return masks.astype(np.float32)
