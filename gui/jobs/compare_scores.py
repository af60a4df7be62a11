"""Deletion and insertion AUCs under every map of the Compare grid, computed on the worker.

For each method already drawn in the grid, the job plays the deletion and
insertion game of Petsiuk, Das & Saenko ("RISE", BMVC 2018, Section 4.1) on the
map the grid shows, beside the random and centre controls: what
``inspector.trust.curves_with_controls`` returns, with the Trust tab's steps and
substrate, so a method's numbers agree between the two tabs. The controls know
nothing of the method, so the job computes them (and the substrate) once and
only each method's own curves per method: n + 2 batched passes instead of 3n.
The random map's areas are the reference printed beside each method's.

All the asked methods are ONE job (kind ``"compare_scores"``) on the app's
worker through ``LongJobs``: a progress report before each method and a cancel
check between two methods. Curves are kept per (model, image, crop, target,
method, substrate), the Trust tab's key (``trust_key``), and a report the Trust
tab already holds for that key is shown without a job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gui.jobs.long_jobs import JobControl
from inspector.defaults import CURVE_STEPS

if TYPE_CHECKING:
    from inspector.trust import TrustCurves

SCORES_JOB = "compare_scores"  # not "compare/…": those kinds are the maps' own jobs
BASELINE = "blur"  # the Trust tab's and the `evaluate` command's default substrate


@dataclass(frozen=True)
class ScoredMap:
    """One method's curves: ``key`` (see ``trust_key``), ``method``, ``curves``."""

    key: tuple
    method: str
    curves: TrustCurves


def score_maps(
    context, control: JobControl, asked: tuple[tuple[tuple, str, np.ndarray], ...]
) -> tuple[ScoredMap, ...]:
    """The job: curves with controls for each ``(key, method, heatmap)``; on the worker.

    Args:
        context: the worker's engine context (its inspection and inspector).
        control: progress reports and the cancel check.
        asked: each map to score; ``heatmap`` float ``(H, W)`` at the input's size.

    Raises:
        CancelledError: Cancel was pressed between two methods.
    """
    from inspector.attribution import REGISTRY
    from inspector.engine.progress import check_cancelled
    from inspector.trust import TrustCurves, control_faithfulness, faithfulness
    from inspector.trust.substrates import substrate_image

    inspection, inspector = context.state.inspection, context.inspector
    # curves_with_controls's own arguments (default seed), shared by every map.
    shared = {
        "steps": CURVE_STEPS,
        "baseline": BASELINE,
        "substrate": substrate_image(BASELINE, inspection, inspector),
    }
    controls, scored = None, []
    for done, (key, method, heatmap) in enumerate(asked):
        check_cancelled(control.cancelled, "the deletion and insertion curves")
        title = REGISTRY[method].title if method in REGISTRY else method
        control.progress(done, len(asked), f"deletion and insertion of {title}")
        if controls is None:
            controls = control_faithfulness(inspection, inspector, **shared)
        own = faithfulness(method, heatmap, inspection, inspector, **shared)
        scored.append(ScoredMap(key, method, TrustCurves(own, controls)))
    return tuple(scored)
