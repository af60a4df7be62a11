"""Routes the views' requests beyond the inspection itself to the worker, and the
answers back: attributions (one method, or every method for *Compare*), a neuron's
breakdown, and whether the open model can be trained (the jobs:
``gui.jobs.view_jobs``). A compare run is one job per method (kind
``"compare/<method>"``), so the worker's own rules give progress (answers counted
as they come) and cancel (jobs not started are skipped).
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject

from gui.app.compare_controller import CompareController
from gui.jobs import view_jobs
from gui.jobs.long_jobs import LongJobs

ATTRIBUTION_JOB = "attribution"
NEURON_JOB = "neuron"
TRAINING_PLAN_JOB = "training_plan"
COMPARE_PREFIX = "compare/"


class ViewController(QObject):
    """Runs the views' requests on the worker and routes the answers back.

    Args:
        session: the app's ``Session``.
        attribution_view, neuron_view, training_tab: the views that ask and paint.
        show_error: ``(title, message)``: the window's message box.
        trust_reports: the Trust tab's answers, which the Compare grid's AUCs reuse.
        parent: the Qt parent.
    """

    def __init__(
        self,
        session,
        *,
        attribution_view,
        neuron_view,
        training_tab,
        show_error,
        trust_reports: dict | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.attribution_view, self.neuron_view = attribution_view, neuron_view
        self.training_tab, self.show_error = training_tab, show_error
        self._training_model: tuple[Path | None, bool, str] | None = None
        self._compare_kinds: list[str] = []
        neuron_view.breakdown_requested.connect(self.request_neuron)
        attribution_view.attribution_requested.connect(self.request_attribution)
        attribution_view.cancel_requested.connect(self.cancel_attribution)
        self.attribution_jobs = LongJobs(self.session, self)
        self.attribution_jobs.progressed.connect(
            lambda _kind, done, total, what: attribution_view.show_progress(done, total, what)
        )
        compare = attribution_view.compare_view
        compare.compare_requested.connect(self.request_compare)
        compare.compare_cancelled.connect(self.cancel_compare)
        # The AUCs under the compared maps.
        self.compare_scores = CompareController(session, compare, trust_reports, self)
        # A new image or target makes queued compare jobs moot: skip them.
        self.session.state_changed.connect(lambda _: self.cancel_compare())
        self.session.worker.finished.connect(self._on_finished)
        self.session.worker.failed.connect(self._on_failed)

    # --- requests ----------------------------------------------------------------------
    def request_attribution(self, method: str, options: dict) -> None:
        """One method, with progress in passes and Cancel. While live frames stream,
        only the methods within ``PASS_BUDGET`` extra passes follow them; a dearer one
        waits for a frozen frame instead of holding every frame up."""
        state = self.session.state
        if self.session.live_source is not None and state is not None:
            from inspector.attribution import PASS_BUDGET, get_method
            from inspector.engine.errors import InspectorError

            try:
                chosen = get_method(method, **options)
                cost = chosen.passes(state.inspection)
            except InspectorError:
                cost = 0  # a bad option or no CAM layer: the job itself says so
            if cost > PASS_BUDGET:
                self.attribution_view.status_label.setText(
                    f"{chosen.title} costs {cost} model passes a frame, too many to "
                    f"follow live (the limit is {PASS_BUDGET}): press Space to freeze the "
                    "frame and compute it."
                )
                return
        self.attribution_jobs.submit(
            ATTRIBUTION_JOB, lambda c, ctl: view_jobs.attribution(c, ctl, method, options)
        )

    def cancel_attribution(self) -> None:
        self.attribution_jobs.cancel(ATTRIBUTION_JOB)
        self.attribution_view.show_cancelled()

    def request_compare(self, methods: list) -> None:
        """One job per method, with the method's default options."""
        self.cancel_compare()
        for method in methods:
            kind = COMPARE_PREFIX + method
            self._compare_kinds.append(kind)
            self.session.submit_engine_job(kind, lambda c, m=method: view_jobs.compared_map(c, m))

    def cancel_compare(self) -> None:
        """Drop every compare job not run yet (and the result of the one running)."""
        for kind in self._compare_kinds:
            self.session.worker.cancel(kind)
        self._compare_kinds = []

    def request_neuron(self, layer_name: str, unit: int) -> None:
        self.session.submit_engine_job(NEURON_JOB, lambda c: view_jobs.neuron(c, layer_name, unit))

    def offer_model_for_training(self, request) -> None:
        """Tell the Training tab which model is open and whether it can be trained."""
        model = (request.model_path, request.unsafe, request.preprocess)
        if model == self._training_model:
            return
        self._training_model = model
        path = request.model_path
        self.session.submit_engine_job(
            TRAINING_PLAN_JOB, lambda c: view_jobs.training_plan(c, path)
        )

    # --- answers -----------------------------------------------------------------------
    def _on_finished(self, kind: str, request_id: int, result: object) -> None:
        if kind == TRAINING_PLAN_JOB:
            path, unsafe, preprocess = self._training_model
            self.training_tab.set_open_model(
                path, unsafe=unsafe, plan=result, preprocess=preprocess
            )
        elif kind == ATTRIBUTION_JOB:
            if self.attribution_jobs.finished(kind, request_id):
                self.attribution_view.show_attribution(result)
        elif kind.startswith(COMPARE_PREFIX):
            self.attribution_view.compare_view.show_result(result)
        elif kind == NEURON_JOB:
            self.neuron_view.show_breakdown(result)

    def _on_failed(self, kind: str, request_id: int, message: str) -> None:
        if kind == TRAINING_PLAN_JOB:
            path, unsafe, preprocess = self._training_model
            self.training_tab.set_open_model(
                path, unsafe=unsafe, problem=message, preprocess=preprocess
            )
        elif kind == ATTRIBUTION_JOB:
            if self.attribution_jobs.finished(kind, request_id):
                self.attribution_view.show_error(message)
        elif kind.startswith(COMPARE_PREFIX):
            self.attribution_view.compare_view.show_failure(kind[len(COMPARE_PREFIX) :], message)
        elif kind == NEURON_JOB:
            self.show_error("Could not compute the neuron view", message)
