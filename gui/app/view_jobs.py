"""The worker jobs that views ask for beyond the inspection itself.

Attributions (one method, or every method for *Compare*), a neuron's
breakdown, and whether the open model can be trained. Each request becomes a
job on the session's one worker; the answers come back by job kind and go to
the view that asked. A compare run is one job per method (kind
``"compare/<method>"``), so the worker's own rules give progress (answers
counted as they come) and cancel (jobs not started are skipped).
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QObject

from gui.views.compare_scores import CompareScores
from gui.views.long_jobs import LongJobs

ATTRIBUTION_JOB = "attribution"
NEURON_JOB = "neuron"
TRAINING_PLAN_JOB = "training_plan"
COMPARE_PREFIX = "compare/"


class ViewJobs(QObject):
    """Runs the views' requests on the worker and routes the answers back.

    Args:
        window: the ``MainWindow`` whose views and session are used.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.session = window.session
        self._training_model: tuple[Path | None, bool, str] | None = None
        self._compare_kinds: list[str] = []
        window.neuron_view.breakdown_requested.connect(self.request_neuron)
        window.attribution_view.attribution_requested.connect(self.request_attribution)
        window.attribution_view.cancel_requested.connect(self.cancel_attribution)
        self.attribution_jobs = LongJobs(self.session, self)
        self.attribution_jobs.progressed.connect(
            lambda _kind, done, total, what: window.attribution_view.show_progress(
                done, total, what
            )
        )
        compare = window.attribution_view.compare_view
        compare.compare_requested.connect(self.request_compare)
        compare.compare_cancelled.connect(self.cancel_compare)
        self.compare_scores = CompareScores(window)  # the AUCs under the compared maps
        # A new image or target makes queued compare jobs moot: skip them.
        self.session.state_changed.connect(lambda _: self.cancel_compare())
        self.session.worker.finished.connect(self._on_finished)
        self.session.worker.failed.connect(self._on_failed)

    # --- requests ----------------------------------------------------------------------
    def request_attribution(self, method: str, options: dict) -> None:
        """One method, with progress in passes and Cancel (the core sizes its batches
        from the model's activation memory)."""

        def job(context, control):
            from inspector.attribution import compute_attribution
            from inspector.engine.progress import check_cancelled

            def progress(done: int, total: int, what: str) -> None:
                control.progress(done, total, what)
                check_cancelled(control.cancelled, f"the {method} map")

            inspection = context.state.inspection
            return compute_attribution(
                method, inspection, context.inspector, progress=progress, **options
            )

        self.attribution_jobs.submit(ATTRIBUTION_JOB, job)

    def cancel_attribution(self) -> None:
        self.attribution_jobs.cancel(ATTRIBUTION_JOB)
        self.window.attribution_view.show_cancelled()

    def request_compare(self, methods: list) -> None:
        """One job per method, with the method's default options."""
        self.cancel_compare()
        for method in methods:

            def job(context, method=method):
                from inspector.attribution import compute_attribution

                return compute_attribution(method, context.state.inspection, context.inspector)

            kind = COMPARE_PREFIX + method
            self._compare_kinds.append(kind)
            self.session.submit_engine_job(kind, job)

    def cancel_compare(self) -> None:
        """Drop every compare job not run yet (and the result of the one running)."""
        for kind in self._compare_kinds:
            self.session.worker.cancel(kind)
        self._compare_kinds = []

    def request_neuron(self, layer_name: str, unit: int) -> None:
        def job(context):
            from inspector.engine.neuron import neuron_breakdown

            return neuron_breakdown(context.model, context.state.inspection, layer_name, unit)

        self.session.submit_engine_job(NEURON_JOB, job)

    def offer_model_for_training(self, request) -> None:
        """Tell the Training tab which model is open and whether it can be trained."""
        model = (request.model_path, request.unsafe, request.preprocess)
        if model == self._training_model:
            return
        self._training_model = model
        path = request.model_path

        def job(context):
            from gui.training.own_model import training_plan

            return training_plan(context.model, path).describe()

        self.session.submit_engine_job(TRAINING_PLAN_JOB, job)

    # --- answers -----------------------------------------------------------------------
    def _on_finished(self, kind: str, request_id: int, result: object) -> None:
        window = self.window
        if kind == TRAINING_PLAN_JOB:
            path, unsafe, preprocess = self._training_model
            window.training_tab.set_open_model(
                path, unsafe=unsafe, plan=result, preprocess=preprocess
            )
        elif kind == ATTRIBUTION_JOB:
            if self.attribution_jobs.finished(kind, request_id):
                window.attribution_view.show_attribution(result)
        elif kind.startswith(COMPARE_PREFIX):
            window.attribution_view.compare_view.show_result(result)
        elif kind == NEURON_JOB:
            window.neuron_view.show_breakdown(result)

    def _on_failed(self, kind: str, request_id: int, message: str) -> None:
        window = self.window
        if kind == TRAINING_PLAN_JOB:
            path, unsafe, preprocess = self._training_model
            window.training_tab.set_open_model(
                path, unsafe=unsafe, problem=message, preprocess=preprocess
            )
        elif kind == ATTRIBUTION_JOB:
            if self.attribution_jobs.finished(kind, request_id):
                window.attribution_view.show_error(message)
        elif kind.startswith(COMPARE_PREFIX):
            window.attribution_view.compare_view.show_failure(kind[len(COMPARE_PREFIX) :], message)
        elif kind == NEURON_JOB:
            window.show_error("Could not compute the neuron view", message)
