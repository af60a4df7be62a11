"""The Trust panel's worker job and its frozen answer (the controller that keeps them
per request is ``gui.app.trust_controller``).

One check of one method on the current image is ONE job (kind ``"trust"``) on
the app's worker: the method's map, its deletion and insertion curves beside
the random and centre controls (Petsiuk et al., BMVC 2018, computed by
``inspector.trust.curves_with_controls``), then the cascading
model-randomisation check (Adebayo et al., NeurIPS 2018, ``run_cascade``) with
a progress report after every re-initialised layer and a cancel check before
each. Answers are kept per (model, image, crop, target, method, substrate), so
going back to a method already checked shows it at once.

TensorFlow is imported inside the jobs only: the window is built before it loads.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gui.jobs.long_jobs import JobControl
from inspector.defaults import CURVE_STEPS

if TYPE_CHECKING:
    from inspector.trust import RandomizationResult, TrustCurves

TRUST_JOB = "trust"

# Worker-side only: one randomisable copy per loaded model. Cloning and tracing
# the copy costs more than a cascade on a small model, and the copy restores its
# trained weights after every cascade. Weak keys: a closed model frees its copy.
_copies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class TrustReport:
    """Everything the Trust panel shows for one method on one image.

    Attributes:
        key: the request it answers (see ``trust_key``).
        method: the registry name; ``title``: its display name.
        curves: the method's and both controls' deletion and insertion curves.
        randomization: the cascade: Spearman per step, the maps, the verdict.
    """

    key: tuple
    method: str
    title: str
    curves: TrustCurves
    randomization: RandomizationResult


def trust_key(state, method: str, baseline: str) -> tuple:
    """What a check depends on: model file, image file, crop, target, method, substrate."""
    request = state.request
    return (
        str(request.model_path),
        str(request.image_path),
        tuple(state.crop) if state.crop is not None else None,
        int(state.inspection.target),
        method,
        baseline,
    )


def run_trust_check(context, control: JobControl, key: tuple, method: str, baseline: str):
    """The job: curves with controls, then the cascade; runs on the worker thread."""
    from inspector.attribution import REGISTRY, compute_attribution
    from inspector.trust import RandomizableCopy, curves_with_controls, run_cascade

    inspection, inspector = context.state.inspection, context.inspector
    copy = _copies.get(context.model)
    if copy is None:
        control.progress(0, 1, "copying the model for the randomisation check")
        copy = _copies[context.model] = RandomizableCopy(context.model)
    steps = len(copy.blocks)
    control.progress(0, steps + 1, "deletion and insertion curves")
    heatmap = compute_attribution(method, inspection, inspector).heatmap
    curves = curves_with_controls(
        method, heatmap, inspection, inspector, steps=CURVE_STEPS, baseline=baseline
    )
    control.progress(1, steps + 1, "curves done")

    def step_done(done: int, total: int, label: str) -> None:
        control.progress(1 + done, 1 + total, f"randomised down to {label}")

    cascade = run_cascade(copy, method, inspection, progress=step_done, cancelled=control.cancelled)
    return TrustReport(key, method, REGISTRY[method].title, curves, cascade)
