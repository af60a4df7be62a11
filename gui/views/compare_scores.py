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
from PyQt6.QtCore import QObject

from gui.views.long_jobs import JobControl, LongJobs
from gui.views.trust_jobs import trust_key
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


class CompareScores(QObject):
    """Connects the Compare grid's *AUCs* button to the worker and keeps the curves.

    Args:
        window: the ``MainWindow``; uses its ``session`` and the compare view of its
            ``attribution_view``; reads ``trust_jobs.reports`` when it exists.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window, self.session = window, window.session
        self.view = window.attribution_view.compare_view
        self.jobs = LongJobs(self.session, self)
        self.curves: dict[tuple, TrustCurves] = {}
        self.view.scores_requested.connect(self.request)
        self.view.scores_cancelled.connect(self.cancel)
        self.jobs.progressed.connect(lambda _k, d, t, w: self.view.show_score_progress(d, t, w))
        self.session.state_changed.connect(lambda _: self.cancel())
        self.session.worker.finished.connect(self._on_finished)
        self.session.worker.failed.connect(self._on_failed)

    def known(self, key: tuple) -> TrustCurves | None:
        """Curves for ``key`` from this cache or from the Trust tab's reports."""
        if key in self.curves:
            return self.curves[key]
        trust = getattr(self.window, "trust_jobs", None)
        report = trust.reports.get(key) if trust is not None else None
        return report.curves if report is not None else None

    def request(self, methods: list) -> None:
        """Show the known curves of ``methods`` at once; one job scores the rest."""
        state = self.session.state
        if state is None:
            return
        results = self.view.results
        asked = []
        for method in methods:
            key = trust_key(state, method, BASELINE)
            curves = self.known(key)
            if curves is not None:
                self.view.show_scores(method, curves)
            elif method in results:
                asked.append((key, method, np.asarray(results[method].heatmap)))
        if not asked:
            self.view.scores_finished()
            return
        asked = tuple(asked)
        self.jobs.submit(SCORES_JOB, lambda c, ctl: score_maps(c, ctl, asked))

    def cancel(self) -> None:
        if self.jobs.is_running(SCORES_JOB):
            self.jobs.cancel(SCORES_JOB)

    def _on_finished(self, kind: str, request_id: int, result: object) -> None:
        if kind != SCORES_JOB or not self.jobs.finished(kind, request_id):
            return
        state = self.session.state
        for scored in result:
            self.curves[scored.key] = scored.curves
            # A stale answer (the image changed meanwhile) is kept, not shown.
            if state is not None and scored.key == trust_key(state, scored.method, BASELINE):
                self.view.show_scores(scored.method, scored.curves)
        self.view.scores_finished()

    def _on_failed(self, kind: str, request_id: int, message: str) -> None:
        if kind == SCORES_JOB and self.jobs.finished(kind, request_id):
            self.view.scores_finished(f"AUCs failed: {message}")
