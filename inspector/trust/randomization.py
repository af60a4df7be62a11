"""The model-randomisation sanity check (Adebayo et al., NeurIPS 2018).

Paper: J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt and B. Kim,
"Sanity Checks for Saliency Maps", NeurIPS, 2018 (Section 4, cascading
randomisation, Figs. 2 and 4).

A map that explains *the model* must change when the model's weights are
destroyed. The cascade re-initialises the trained weights from the top layer
down, cumulatively, one layer (or block) per step, recomputes the map for the
same image and target after each step, and compares it with the trained
model's map by the Spearman rank correlation of ``|E|`` (and SSIM).

**The pass rule, fixed before any result was seen.** A method passes when
``|rho| < 0.5`` once the top half of the steps (``ceil(n / 2)`` of ``n``) has
been randomised. Why: in the paper's Fig. 4 (Inception v3 and a CNN on MNIST),
the rank correlation of Gradient and Grad-CAM falls towards 0 within the first
few top blocks, while Guided Backprop and Guided Grad-CAM stay high (well above
0.5) through the whole cascade. Half of the cascade gives the top layers, where
the class evidence is learnt, time to count, and 0.5 sits between the two
groups: no more than a moderate monotone relation to the trained map remains.
A trained-model map that is constant (e.g. all zeros) ranks nothing, so it can
show no dependence on the weights: it does not pass (``checkable`` is False).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from inspector.attribution import compute_attribution
from inspector.engine.inspection import read_only
from inspector.engine.progress import Cancelled, Progress, check_cancelled, report
from inspector.trust.model_copy import MAX_STEPS, RandomizableCopy
from inspector.trust.similarity import spearman, ssim

if TYPE_CHECKING:
    import keras

    from inspector.engine.inspection import Inspection

PASS_THRESHOLD = 0.5


def decisive_step(steps: int) -> int:
    """The 1-based cascade step the verdict reads: the top half randomised."""
    return max(1, math.ceil(steps / 2))


@dataclass(frozen=True)
class RandomizationResult:
    """One method's cascade on one image.

    Attributes:
        method: the registry name.
        target: the class whose map was recomputed at every step.
        layers: label of step ``i`` (``i = 1..n``): the layer or block re-initialised
            at that step, on top of every step before it (top layer first).
        spearman: float64 ``(n,)``, Spearman's rho of ``|E|`` after step ``i`` with
            ``|E|`` of the trained model, in [-1, 1].
        ssim: float64 ``(n,)``, SSIM of the same two maps scaled to [0, 1].
        maps: float32 ``(n + 1, H, W)``: the trained model's map, then the map
            after each step (the row of the paper's Fig. 2).
        decisive_step: the 1-based step the verdict reads (``decisive_step(n)``).
        threshold: the pass threshold on ``|rho|`` (``PASS_THRESHOLD``).
        passes: ``checkable and |spearman[decisive_step - 1]| < threshold``.
        checkable: False when the trained model's map is constant (nothing to rank).
        options: the method options used, read-only.
    """

    method: str
    target: int
    layers: tuple[str, ...]
    spearman: np.ndarray
    ssim: np.ndarray
    maps: np.ndarray
    decisive_step: int
    threshold: float
    passes: bool
    checkable: bool = True
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spearman", read_only(np.array(self.spearman, np.float64)))
        object.__setattr__(self, "ssim", read_only(np.array(self.ssim, np.float64)))
        object.__setattr__(self, "maps", read_only(np.array(self.maps, np.float32)))
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))


def run_cascade(
    copy: RandomizableCopy,
    method: str,
    inspection: Inspection,
    *,
    options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> RandomizationResult:
    """Run the cascade for one method on the copy; the copy is restored after.

    Args:
        copy: the randomisable copy of the model ``inspection`` came from.
        method: a registry name (see ``inspector.attribution.method_names()``).
        inspection: gives the image, the target and the model output.
        options: the method's options, e.g. ``{"layer": "conv2"}``.
        progress: called after every step with ``(step, steps, label)``.
        cancelled: checked before every step; True raises ``CancelledError``.
    """
    options = dict(options or {})
    steps = len(copy.blocks)
    copy.restore()
    try:
        maps = [_map_on_copy(copy, method, inspection, options)]
        for step in range(steps):
            check_cancelled(cancelled, f"the randomisation check of {method}")
            copy.randomize(step)
            maps.append(_map_on_copy(copy, method, inspection, options))
            report(progress, step + 1, steps, copy.labels[step])
    finally:
        copy.restore()
    rho = [spearman(np.abs(maps[0]), np.abs(m)) for m in maps[1:]]
    similarity = [ssim(maps[0], m) for m in maps[1:]]
    decisive = decisive_step(steps)
    checkable = bool(np.ptp(maps[0]) > 0)
    return RandomizationResult(
        method=method,
        target=inspection.target,
        layers=copy.labels,
        spearman=rho,
        ssim=similarity,
        maps=np.stack(maps),
        decisive_step=decisive,
        threshold=PASS_THRESHOLD,
        passes=checkable and bool(abs(rho[decisive - 1]) < PASS_THRESHOLD),
        checkable=checkable,
        options=options,
    )


def _map_on_copy(copy: RandomizableCopy, method: str, inspection: Inspection, options):
    again = copy.inspector.inspect(
        inspection.image, target=inspection.target, output=inspection.output_index
    )
    # The same pixels, and the same account of how they were preprocessed: the
    # baselines of IG and occlusion ("black", "grey") are defined by the preset, so
    # step 0 must reproduce the very map the user sees.
    again = dataclasses.replace(
        again,
        preprocess=inspection.preprocess,
        preprocessing=inspection.preprocessing,
        display_image=inspection.display_image,
        source=inspection.source,
    )
    return compute_attribution(method, again, copy.inspector, **options).heatmap


def randomization_check(
    model: keras.Model,
    inspection: Inspection,
    methods: Sequence[str],
    *,
    max_steps: int = MAX_STEPS,
    seed: int = 0,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> dict[str, RandomizationResult]:
    """The cascade for several methods on one image; ``model`` is never modified.

    Args:
        model: the user's model (the one behind ``inspection``).
        inspection: the image, target and output to explain.
        methods: registry names.
        max_steps: at most this many cascade steps.
        seed: seeds the re-initialisation.
        progress: ``(done, total, "method: layer")`` over methods x steps.
        cancelled: checked before every step.

    Returns:
        ``{method: RandomizationResult}`` in the order of ``methods``.
    """
    copy = RandomizableCopy(model, max_steps=max_steps, seed=seed)
    steps = len(copy.blocks)
    results = {}
    for index, method in enumerate(methods):

        def step_done(done, _total, label, offset=index * steps, name=method):
            report(progress, offset + done, len(methods) * steps, f"{name}: {label}")

        results[method] = run_cascade(
            copy, method, inspection, progress=step_done, cancelled=cancelled
        )
    return results
