"""The worker jobs the views ask for beyond the inspection itself: one attribution
method (with progress in passes and Cancel), one method of a Compare run, a neuron's
breakdown, and whether the open model can be trained. Each takes the worker's
``EngineContext`` (and a ``JobControl`` when it reports progress) and returns the
core's frozen answer. TensorFlow is imported inside, on the worker.
"""

from __future__ import annotations

from pathlib import Path

from gui.jobs.long_jobs import JobControl


def attribution(context, control: JobControl, method: str, options: dict):
    """``method``'s map of the current inspection; its progress in passes, and a
    cancel check after every batch (the core sizes the batches from the model's
    activation memory)."""
    from inspector.attribution import compute_attribution
    from inspector.engine.progress import check_cancelled

    def progress(done: int, total: int, what: str) -> None:
        control.progress(done, total, what)
        check_cancelled(control.cancelled, f"the {method} map")

    inspection = context.state.inspection
    return compute_attribution(method, inspection, context.inspector, progress=progress, **options)


def compared_map(context, method: str):
    """``method``'s map with its default options: one cell of the Compare grid."""
    from inspector.attribution import compute_attribution

    return compute_attribution(method, context.state.inspection, context.inspector)


def neuron(context, layer_name: str, unit: int):
    """What feeds one unit (``inspector.engine.neuron.neuron_breakdown``)."""
    from inspector.engine.neuron import neuron_breakdown

    return neuron_breakdown(context.model, context.state.inspection, layer_name, unit)


def training_plan(context, path: Path | None) -> str:
    """Whether and how the open model can be fine-tuned, in words for the Training tab."""
    from models.training.fine_tuning import training_plan as plan

    return plan(context.model, path).describe()
