"""Reference maps that give a deletion or insertion area its meaning.

An area alone says little: it depends on the model, the image and the
substrate. Two maps that know nothing about the model set the scale:

* ``random``: independent uniform noise (seeded). Its expected deletion curve is
  the probability after removing a uniformly random subset of pixels, the
  chance level of the game of Petsiuk et al. (RISE, BMVC 2018).
* ``centre``: a Gaussian centred on the image, the "objects sit in the middle"
  prior that a map can beat only by looking at the image and the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from inspector.defaults import CURVE_STEPS
from inspector.trust.curves import Faithfulness, faithfulness
from inspector.trust.substrates import substrate_image

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection

CONTROL_NAMES = ("random", "centre")
# The centre prior's standard deviation as a fraction of each side: a quarter
# puts about 95 % of its weight inside the middle half of the picture.
CENTRE_SIGMA_FRACTION = 0.25


def random_map(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Uniform noise in [0, 1), float32 ``(H, W)``, the same for the same seed."""
    return np.random.default_rng(seed).random((height, width)).astype(np.float32)


def centre_map(height: int, width: int) -> np.ndarray:
    """A Gaussian bump peaking at the image centre, float32 ``(H, W)`` in (0, 1].

    Its standard deviation is ``CENTRE_SIGMA_FRACTION`` of each side.
    """
    rows = (np.arange(height) - (height - 1) / 2.0) / (CENTRE_SIGMA_FRACTION * height)
    cols = (np.arange(width) - (width - 1) / 2.0) / (CENTRE_SIGMA_FRACTION * width)
    return np.exp(-0.5 * (rows[:, None] ** 2 + cols[None, :] ** 2)).astype(np.float32)


def control_maps(height: int, width: int, seed: int = 0) -> dict[str, np.ndarray]:
    """``{"random": ..., "centre": ...}``, each float32 ``(H, W)``."""
    return {"random": random_map(height, width, seed), "centre": centre_map(height, width)}


def control_faithfulness(
    inspection: Inspection,
    inspector: Inspector,
    *,
    steps: int = CURVE_STEPS,
    baseline: str = "blur",
    seed: int = 0,
    substrate: np.ndarray | None = None,
) -> tuple[Faithfulness, ...]:
    """The deletion and insertion curves of both controls, random first.

    Args are those of ``faithfulness``; ``seed`` also seeds the random map.
    """
    height, width = inspection.image.shape[:2]
    if substrate is None:
        substrate = substrate_image(baseline, inspection, inspector)
    return tuple(
        faithfulness(
            name,
            heatmap,
            inspection,
            inspector,
            steps=steps,
            baseline=baseline,
            seed=seed,
            substrate=substrate,
        )
        for name, heatmap in control_maps(height, width, seed).items()
    )


@dataclass(frozen=True)
class TrustCurves:
    """A method's curves on one image beside those of both controls.

    Attributes:
        method: the method's deletion and insertion curves.
        controls: the ``random`` then the ``centre`` control's curves.
    """

    method: Faithfulness
    controls: tuple[Faithfulness, ...]

    def control(self, name: str) -> Faithfulness:
        """The control called ``name`` (``"random"`` or ``"centre"``)."""
        return next(c for c in self.controls if c.name == name)


def curves_with_controls(
    name: str,
    heatmap: np.ndarray,
    inspection: Inspection,
    inspector: Inspector,
    *,
    steps: int = CURVE_STEPS,
    baseline: str = "blur",
    seed: int = 0,
) -> TrustCurves:
    """Deletion and insertion curves of ``heatmap`` and of both controls (3 passes)."""
    substrate = substrate_image(baseline, inspection, inspector)
    shared = {"steps": steps, "baseline": baseline, "seed": seed, "substrate": substrate}
    method = faithfulness(name, heatmap, inspection, inspector, **shared)
    return TrustCurves(method, control_faithfulness(inspection, inspector, **shared))
