"""Deletion and insertion curves (Petsiuk, Das & Saenko, RISE, BMVC 2018).

Paper: V. Petsiuk, A. Das and K. Saenko, "RISE: Randomized Input Sampling for
Explanation of Black-box Models", BMVC, 2018 (Section 4.1, "causal metrics").

Deletion removes the pixels in order of importance, most important first, and
records the probability of the target class after each step: a good map makes it
drop fast, so a *small* area under the curve is good. Insertion starts from the
substrate and puts the pixels back in the same order: a *large* area is good.
Both curves are sampled at ``steps + 1`` points ``x = k / steps`` (the fraction
of pixels changed) and integrated with the trapezoid rule over ``x`` in [0, 1],
as the paper's code does. All ``2 (steps + 1)`` images of one map go through the
model in ONE batched forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inspector.defaults import CURVE_STEPS
from inspector.engine.errors import AttributionError
from inspector.engine.inspection import read_only
from inspector.trust.substrates import substrate_image

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection


@dataclass(frozen=True)
class Curve:
    """One deletion or insertion curve.

    Attributes:
        kind: ``"deletion"`` or ``"insertion"``.
        baseline: the substrate removed pixels become (``"blur"``, ``"zero"``, ``"mean"``).
        fractions: float64 ``(steps + 1,)``, the fraction of pixels changed, 0 to 1.
        probabilities: float64 ``(steps + 1,)``, the target's probability, in [0, 1].
        auc: trapezoid area under ``probabilities`` over ``fractions``, in [0, 1].
    """

    kind: str
    baseline: str
    fractions: np.ndarray
    probabilities: np.ndarray
    auc: float

    def __post_init__(self) -> None:
        for name in ("fractions", "probabilities"):
            object.__setattr__(self, name, read_only(np.array(getattr(self, name), np.float64)))


@dataclass(frozen=True)
class Faithfulness:
    """The deletion and insertion curves of one map on one image.

    Attributes:
        name: the method's registry name, or a control's (``"random"``, ``"centre"``).
        target: the class whose probability was recorded.
        deletion: the deletion curve (lower area is better).
        insertion: the insertion curve (higher area is better).
    """

    name: str
    target: int
    deletion: Curve
    insertion: Curve


def trapezoid_auc(x: np.ndarray, y: np.ndarray) -> float:
    """Area under ``y(x)`` by the trapezoid rule; ``x`` increasing, both ``(n,)``."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def pixel_order(heatmap: np.ndarray, seed: int = 0) -> np.ndarray:
    """Flat pixel indices, most important first: ``(H, W)`` map to ``(H*W,)`` ints.

    The map's own values are ranked (a signed map puts its strongest evidence
    *for* the target first). Ties, such as the zeros a ReLU leaves in Grad-CAM,
    are broken in a seeded random order rather than top rows first, which would
    bias the curve towards whatever sits at the top of the picture.
    """
    values = np.asarray(heatmap, np.float64).ravel()
    # A stable sort of a shuffled copy keeps tied pixels in the shuffled order.
    shuffled = np.random.default_rng(seed).permutation(values.size)
    return shuffled[np.argsort(-values[shuffled], kind="stable")]


def changed_counts(pixels: int, steps: int) -> np.ndarray:
    """How many pixels are changed at each of the ``steps + 1`` points, 0 to ``pixels``."""
    return np.round(np.linspace(0.0, pixels, steps + 1)).astype(np.int64)


def perturbed_images(
    image: np.ndarray, substrate: np.ndarray, order: np.ndarray, steps: int
) -> np.ndarray:
    """The deletion then the insertion images, ``(2 (steps + 1), H, W, C)`` float32.

    Image ``k`` of the deletion half has the first ``counts[k]`` pixels of
    ``order`` replaced by the substrate; image ``k`` of the insertion half is
    the substrate with those pixels taken from the image.
    """
    height, width = image.shape[:2]
    counts = changed_counts(height * width, steps)
    rank = np.empty(order.size, np.int64)
    rank[order] = np.arange(order.size)  # rank[p]: when pixel p is changed
    changed = (rank[None, :] < counts[:, None]).reshape(-1, height, width, 1)
    # One buffer for both halves: no concatenation copy of the whole batch.
    out = np.empty((2, steps + 1, *image.shape), np.float32)
    out[0], out[1] = image, substrate
    np.copyto(out[0], substrate, where=changed)
    np.copyto(out[1], image, where=changed)
    return out.reshape(-1, *image.shape)


def check_steps(steps: int) -> None:
    """Raise ``AttributionError`` unless ``steps`` is an int >= 1."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise AttributionError(f"Expected steps to be an integer >= 1. Received: steps={steps!r}.")


def faithfulness(
    name: str,
    heatmap: np.ndarray,
    inspection: Inspection,
    inspector: Inspector,
    *,
    steps: int = CURVE_STEPS,
    baseline: str = "blur",
    seed: int = 0,
    substrate: np.ndarray | None = None,
) -> Faithfulness:
    """Deletion and insertion curves of ``heatmap`` for the inspection's target.

    Args:
        name: what the map is (a method's registry name or a control's name).
        heatmap: ``(H, W)`` at the input's resolution, any real values.
        inspection: the image, target and model output the curves are about.
        inspector: the inspector that made ``inspection``; runs the one batched pass.
        steps: number of steps from the image to the substrate (20 by default).
        baseline: the substrate's name, see ``substrate_image``.
        seed: breaks ties in the map's ranking.
        substrate: a precomputed ``substrate_image(baseline, ...)``, to share it
            between several maps of one image.

    Returns:
        A ``Faithfulness`` whose curves hold ``steps + 1`` probabilities each.
    """
    check_steps(steps)
    image = inspection.image
    heatmap = np.asarray(heatmap)
    if heatmap.shape != image.shape[:2]:
        raise AttributionError(
            f"Expected a heatmap of the image's shape {image.shape[:2]}. "
            f"Received: shape={heatmap.shape}."
        )
    if substrate is None:
        substrate = substrate_image(baseline, inspection, inspector)
    batch = perturbed_images(image, substrate, pixel_order(heatmap, seed), steps)
    _, probabilities = inspector.predict(batch, inspection.output_index)
    chosen = probabilities[:, inspection.target].astype(np.float64)
    fractions = changed_counts(heatmap.size, steps) / heatmap.size
    curves = [
        Curve(kind, baseline, fractions, part, trapezoid_auc(fractions, part))
        for kind, part in (("deletion", chosen[: steps + 1]), ("insertion", chosen[steps + 1 :]))
    ]
    return Faithfulness(name, inspection.target, *curves)
