"""Connects the Trust view to the worker's trust job (``gui.jobs.trust_jobs``).

One check of one method on the current image is one job; its answers are kept per
(model, image, crop, target, method, substrate), so going back to a method already
checked shows it at once, and the method picker shows each known verdict as a badge.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject

from gui.jobs.long_jobs import LongJobs
from gui.jobs.trust_jobs import TRUST_JOB, TrustReport, run_trust_check, trust_key
from gui.views.trust import badge


class TrustController(QObject):
    """Connects the Trust view to the worker, keeps the answers, marks the method picker.

    Args:
        session: the app's ``Session`` (its state and worker).
        view: the ``TrustView``.
        attribution_view: the ``AttributionView`` (its method picker and badges).
        parent: the Qt parent.
    """

    def __init__(self, session, view, attribution_view, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.view = view
        self.attribution_view = attribution_view
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
            suffix = badge(self.reports.get(self._key(method)))
            self.view.set_badge(method, suffix)
            self.attribution_view_badge(method, suffix)
        if key is not None and key in self.reports:
            self.view.show_report(self.reports[key])
        elif key is not None:
            self.view.show_idle()

    def attribution_view_badge(self, method: str, suffix: str) -> None:
        setter = getattr(self.attribution_view, "set_method_badge", None)
        if setter is not None:  # the attribution view's own picker, when it offers one
            setter(method, suffix)

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
