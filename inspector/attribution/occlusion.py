"""Occlusion sensitivity (Zeiler & Fergus, 2014)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inspector.attribution._helpers import baseline_image, batch_slices, memory_batch
from inspector.attribution.base import (
    Attribution,
    AttributionError,
    AttributionMethod,
    register,
)

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection

SCORES = ("logit", "probability")


@register
class Occlusion(AttributionMethod):
    """How much the target's logit (or probability) drops when a patch is hidden.

    Paper: M. D. Zeiler and R. Fergus, "Visualizing and Understanding
    Convolutional Networks", ECCV, 2014 (Section 4.2, Fig. 7).

    A ``window`` square of the image is replaced by a grey patch (or another
    ``baseline``) at every position on a grid of ``stride`` pixels, the last
    position flush with the far edge so every pixel is covered. For each position
    ``p`` the drop ``d_p = s_c(x) - s_c(x occluded at p)`` of the target's score
    ``s_c`` is recorded; a pixel's value is the mean of ``d_p`` over the windows
    covering it. By default ``s_c`` is the pre-softmax (pre-sigmoid) logit, the
    score every gradient method here differentiates, so the maps compare; with
    ``score="probability"`` it is the softmax (or sigmoid) probability, as in the
    paper's Fig. 7 probability maps. The probability saturates: near p = 1 hiding
    a decisive patch may barely move it, while the logit still drops.

    The reference ``s_c(x)`` is computed in a batch of the same shape as the
    occluded images, at the same row: every pass holds the same number of
    images, and one extra pass of unoccluded copies gives the reference for
    each row. So a patch the score does not read scores 0 exactly, not a few
    float rounding steps off (see ``attribute``).

    Options:
        window: patch side in pixels, an int or ``(rows, cols)``; default 1/8 of
            the smaller image side (at least 1).
        stride: step between patches, an int or ``(rows, cols)``; default half the
            window (at least 1).
        baseline: the patch content: ``"grey"`` (default, the middle of the
            model's pixel range), ``"black"``, ``"mean"``, a number or an array.
        score: ``"logit"`` (default) or ``"probability"``.
        batch_size: images per prediction pass (default 64); the occluded images
            are split into equal passes, the last one padded with unoccluded copies.

    Heatmap: float32 ``(H, W)`` at input size, positive where hiding the region
    lowers the target's score; ``signed`` is True. In logit units (unbounded)
    by default; in ``[-1, 1]`` with ``score="probability"``.
    """

    name = "occlusion"
    title = "Occlusion"
    citation = "Zeiler & Fergus, ECCV 2014"
    defaults: ClassVar[dict[str, Any]] = {
        "window": None,
        "stride": None,
        "baseline": "grey",
        "score": "logit",
        "batch_size": 64,
    }

    def check_options(self) -> None:
        super().check_options()
        for option in ("window", "stride"):
            value = getattr(self, option)
            if value is not None and not _is_size(value):
                raise AttributionError(
                    f"Expected {option} to be None, an integer >= 1 or a pair of them. "
                    f"Received: {option}={value!r}."
                )
        if self.score not in SCORES:
            raise AttributionError(
                f"Expected score to be one of {', '.join(map(repr, SCORES))}. "
                f"Received: score={self.score!r}."
            )

    def passes(self, inspection: Inspection) -> int:
        size = inspection.image.shape[:2]
        count, batch = _batches(
            len(_corners(size, *self.window_and_stride(size))),
            memory_batch(inspection, self.batch_size, gradients=False),
        )
        return (count + 1) * batch  # + one pass of unoccluded references

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        image = inspection.image
        window, stride = self.window_and_stride(image.shape[:2])
        patch = baseline_image(self.baseline, inspection, inspector)
        corners = _corners(image.shape[:2], window, stride)
        target, output = inspection.target, inspection.output_index
        column = 0 if self.score == "logit" else 1  # predict gives (logits, probabilities)
        count, batch = _batches(
            len(corners), memory_batch(inspection, self.batch_size, gradients=False)
        )
        total = (count + 1) * batch  # what passes() says
        # Why the reference is a whole batch, row for row: oneDNN (and Eigen) promise
        # no bit-equal results across batch shapes, nor across the rows of one batch
        # (a GEMM's tail rows take another kernel, e.g. on AVX2), so s_c(x) from a
        # pass of another shape, or from another row, can differ from an occluded
        # image's score by a few ulps even where the patch changes nothing the score
        # reads. A row's score depends only on its own pixels, its row and the batch
        # shape (kernels and reduction orders are picked from shapes, never from
        # values), so every pass has ``batch`` rows and occluded image i is compared
        # with the unoccluded image at its own row of such a pass: untouched is 0
        # exactly, by construction.
        unoccluded = np.repeat(image[None], batch, axis=0)
        reference = inspector.predict(unoccluded, output)[column][:, target]
        self.report(batch, total)
        drops = np.empty(len(corners))
        for index, part in enumerate(batch_slices(len(corners), batch)):
            occluded_images = unoccluded.copy()  # rows past the last corner stay unoccluded
            for occluded, (top, left) in zip(occluded_images, corners[part], strict=False):
                rows, cols = slice(top, top + window[0]), slice(left, left + window[1])
                occluded[rows, cols] = patch[rows, cols]
            scores = inspector.predict(occluded_images, output)[column][:, target]
            rows_used = part.stop - part.start
            drops[part] = reference[:rows_used] - scores[:rows_used]
            self.report((index + 2) * batch, total)
        heatmap = _average_over_windows(drops, corners, window, image.shape[:2])
        return self._result(heatmap, signed=True)

    def window_and_stride(self, size: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
        """The ``(rows, cols)`` window and stride for an image of ``size``, clipped to it."""
        side = max(1, round(min(size) / 8))
        window = _pair(self.window) if self.window is not None else (side, side)
        window = (min(window[0], size[0]), min(window[1], size[1]))
        default_stride = (max(1, window[0] // 2), max(1, window[1] // 2))
        stride = _pair(self.stride) if self.stride is not None else default_stride
        if stride[0] > window[0] or stride[1] > window[1]:
            # Gaps between windows would leave pixels no patch ever covered.
            raise AttributionError(
                "Expected a stride no larger than the window, so that every pixel is "
                f"covered. Received: window={window}, stride={stride}."
            )
        return window, stride


def _batches(images: int, most: int) -> tuple[int, int]:
    """``(passes, images per pass)`` for ``images`` in equal passes of at most ``most``.

    Equal, so that every pass has the same batch shape (the last one is padded) and
    padding wastes fewer than one image per pass.
    """
    count = -(-images // most)
    return count, -(-images // count)


def _is_size(value) -> bool:
    values = value if isinstance(value, (tuple, list)) else (value,)
    return len(values) in (1, 2) and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in values
    )


def _pair(value) -> tuple[int, int]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    return (int(values[0]), int(values[-1]))


def _positions(length: int, window: int, stride: int) -> list[int]:
    positions = list(range(0, length - window + 1, stride))
    if positions[-1] != length - window:
        positions.append(length - window)
    return positions


def _corners(size, window, stride) -> np.ndarray:
    """``(N, 2)`` top-left corners of every window position, row-major."""
    rows = _positions(size[0], window[0], stride[0])
    cols = _positions(size[1], window[1], stride[1])
    return np.array([(r, c) for r in rows for c in cols], dtype=int)


def _average_over_windows(drops, corners, window, size) -> np.ndarray:
    total = np.zeros(size)
    count = np.zeros(size)
    for drop, (top, left) in zip(drops, corners, strict=True):
        total[top : top + window[0], left : left + window[1]] += drop
        count[top : top + window[0], left : left + window[1]] += 1
    return total / count
