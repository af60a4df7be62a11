"""Connects the Compare grid's *AUCs* button to the worker's scoring job
(``gui.jobs.compare_scores``) and keeps the curves per key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PyQt6.QtCore import QObject

from gui.jobs.compare_scores import BASELINE, SCORES_JOB, score_maps
from gui.jobs.long_jobs import LongJobs
from gui.jobs.trust_jobs import trust_key

if TYPE_CHECKING:
    from inspector.trust import TrustCurves


class CompareController(QObject):
    """Connects the Compare grid's *AUCs* button to the worker and keeps the curves.

    Args:
        session: the app's ``Session``.
        view: the attribution view's ``CompareView``.
        trust_reports: the Trust tab's answers by key (``TrustController.reports``):
            a method the Trust tab already checked is shown without a job.
        parent: the Qt parent.
    """

    def __init__(self, session, view, trust_reports: dict | None = None, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.view = view
        self.trust_reports = trust_reports if trust_reports is not None else {}
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
        report = self.trust_reports.get(key)
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
