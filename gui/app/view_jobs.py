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

# Memory one batched attribution pass may take (activations of the batch, and their
# gradients for gradient methods). Measured on MobileNetV2 (224x224, 87 MB of
# activations per image): Integrated Gradients at its default batch of 32 raised
# the resident memory by 0.8 GB for good (the allocators keep their high-water
# mark), at a batch of 8 by 0.27 GB, at the same speed on 2 cores. The batch
# size changes the speed and memory of a method, never its result.
BATCH_MEMORY_BYTES = 512 * 2**20
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
        def job(context):
            from inspector.attribution import compute_attribution

            inspection = context.state.inspection
            bounded = memory_bounded(method, options, inspection)
            return compute_attribution(method, inspection, context.inspector, **bounded)

        self.session.submit_engine_job(ATTRIBUTION_JOB, job)

    def request_compare(self, methods: list) -> None:
        """One job per method, with the method's default options."""
        self.cancel_compare()
        for method in methods:

            def job(context, method=method):
                from inspector.attribution import compute_attribution

                inspection = context.state.inspection
                bounded = memory_bounded(method, {}, inspection)
                return compute_attribution(method, inspection, context.inspector, **bounded)

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
            window.attribution_view.show_error(message)
        elif kind.startswith(COMPARE_PREFIX):
            window.attribution_view.compare_view.show_failure(kind[len(COMPARE_PREFIX) :], message)
        elif kind == NEURON_JOB:
            window.show_error("Could not compute the neuron view", message)


def memory_bounded(method: str, options: dict, inspection) -> dict:
    """``options`` with ``batch_size`` lowered so one batch fits ``BATCH_MEMORY_BYTES``.

    Args:
        method: a registry name; only methods with a ``batch_size`` option change.
        options: the options asked for (a missing ``batch_size`` means the default).
        inspection: the current inspection; its layers' activations give the
            memory of one image's pass (doubled: a gradient pass keeps the
            activations and their gradients).

    Returns:
        A new dict; ``batch_size`` is at least 1 and never above what was asked.
    """
    from inspector.attribution import REGISTRY

    defaults = REGISTRY[method].defaults if method in REGISTRY else {}
    if "batch_size" not in defaults:
        return dict(options)
    per_image = 2 * sum(record.activation.nbytes for record in inspection.layers)
    fitting = max(1, BATCH_MEMORY_BYTES // max(per_image, 1))
    asked = options.get("batch_size", defaults["batch_size"])
    return {**options, "batch_size": int(min(asked, fitting))}
