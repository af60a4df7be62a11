"""The Trust panel's worker jobs, their frozen answers, and the cache per request.

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

from PyQt6.QtCore import QObject

from gui.views.long_jobs import JobControl, LongJobs
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


class TrustJobs(QObject):
    """Connects the Trust view to the worker, keeps the answers, marks the method picker.

    Args:
        window: the ``MainWindow``; uses its ``session``, ``trust_view`` and
            ``attribution_view``.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.session = window.session
        self.view = window.trust_view
        self.attribution_view = window.attribution_view
        self.jobs = LongJobs(self.session, self)
        self.reports: dict[tuple, TrustReport] = {}
        self.view.check_requested.connect(self.request)
        self.view.cancel_requested.connect(self.cancel)
        self.view.method_changed.connect(self.show_cached)
        self.attribution_view.method_combo.currentIndexChanged.connect(
            lambda _: self.view.select_method(self.attribution_view.current_method())
        )
        self.jobs.progressed.connect(lambda _k, d, t, w: self.view.show_progress(d, t, w))
        self.session.state_changed.connect(self.set_state)
        self.session.worker.finished.connect(self._on_finished)
        self.session.worker.failed.connect(self._on_failed)

    def set_state(self, state) -> None:
        """A new image or target: stop a running check and show what is cached."""
        self.cancel()
        self.view.set_inspection(state.inspection)
        self.view.select_method(self.attribution_view.current_method())
        self.show_cached()

    def _key(self, method: str | None = None) -> tuple | None:
        state = self.session.state
        if state is None:
            return None
        return trust_key(state, method or self.view.current_method(), self.view.baseline())

    def show_cached(self) -> None:
        """Show the cached report of the view's method, and every known verdict's badge."""
        key = self._key()
        for method in self.view.method_names():
            known = self.reports.get(self._key(method))
            verdict = None if known is None else known.randomization.passes
            self.view.set_badge(method, verdict)
            self.attribution_view_badge(method, verdict)
        if key is not None and key in self.reports:
            self.view.show_report(self.reports[key])
        elif key is not None:
            self.view.show_idle()

    def attribution_view_badge(self, method: str, verdict: bool | None) -> None:
        setter = getattr(self.attribution_view, "set_method_badge", None)
        if setter is not None:  # the attribution view's own picker, when it offers one
            setter(method, verdict)

    def request(self) -> None:
        key = self._key()
        if key is None:
            return
        if key in self.reports:
            self.view.show_report(self.reports[key])
            return
        method, baseline = key[4], key[5]
        self.view.show_running(method)
        self.jobs.submit(TRUST_JOB, lambda c, ctl: run_trust_check(c, ctl, key, method, baseline))

    def cancel(self) -> None:
        if self.jobs.is_running(TRUST_JOB):
            self.jobs.cancel(TRUST_JOB)
            self.view.show_cancelled()

    def _on_finished(self, kind: str, request_id: int, result: object) -> None:
        if kind != TRUST_JOB or not self.jobs.finished(kind, request_id):
            return
        self.reports[result.key] = result
        self.show_cached()  # a stale key (image changed meanwhile) is kept, not shown

    def _on_failed(self, kind: str, request_id: int, message: str) -> None:
        if kind == TRUST_JOB and self.jobs.finished(kind, request_id):
            self.view.show_failure(message)
