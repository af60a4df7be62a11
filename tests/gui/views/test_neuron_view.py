"""NeuronView: dense unit selection, the equation with real numbers, the bar chart."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from gui.jobs.worker import ModelWorker
from gui.views.layers.neuron import NeuronView, dense_records, output_layer_name
from inspector.engine.neuron import neuron_breakdown
from tests.gui.extras_models import LABELS, inspected


@pytest.fixture(scope="module")
def tiny():
    return inspected()


@pytest.fixture
def view(qtbot):
    widget = NeuronView()
    qtbot.addWidget(widget)
    return widget


def test_new_inspection_asks_for_the_target_unit_of_the_output_layer(qtbot, view, tiny):
    _model, _, inspection = tiny
    assert [r.name for r in dense_records(inspection)] == ["hidden", "classes"]
    assert output_layer_name(inspection) == "classes"
    with qtbot.waitSignal(view.breakdown_requested) as blocker:
        view.set_inspection(inspection)
    assert blocker.args == ["classes", inspection.target]
    assert view.unit_label.text() == f"of 2 — {LABELS[inspection.target]}"


def test_breakdown_fills_the_equation_and_the_bars(qtbot, view, tiny):
    model, _, inspection = tiny
    view.set_inspection(inspection)
    view.select_unit("hidden", 3)
    breakdown = neuron_breakdown(model, inspection, "hidden", 3, top_k=8)
    view.show_breakdown(breakdown)
    text = view.equation_label.text()
    assert f"<b>{breakdown.z:.4g}</b>" in text and "relu" in text
    assert "equals the activation the inspection recorded" in text
    assert f"∂score/∂a = {breakdown.gradient:.4g}" in text
    bars = view._bars.opts
    np.testing.assert_allclose(
        bars["width"], breakdown.contributions[breakdown.top_indices], rtol=1e-6
    )
    # The largest |contribution| is drawn at the top row.
    assert bars["y"][0] == len(breakdown.top_indices) - 1
    ticks = view.plot.getAxis("left")._tickLevels[0]
    first = breakdown.input_label(int(breakdown.top_indices[0])).strip("()")
    assert ticks[0][1] == f"a_prev[{first}]"


def test_spin_box_and_layer_combo_request_new_units(qtbot, view, tiny):
    _, _, inspection = tiny
    view.set_inspection(inspection)
    with qtbot.waitSignal(view.breakdown_requested) as blocker:
        view.layer_combo.setCurrentIndex(view.layer_combo.findText("hidden"))
    strongest = int(np.argmax(inspection.layer("hidden").activation))
    assert blocker.args == ["hidden", strongest]
    assert view.unit_spin.maximum() == 4
    other = (strongest + 1) % 5
    with qtbot.waitSignal(view.breakdown_requested) as blocker:
        view.unit_spin.setValue(other)
    assert blocker.args == ["hidden", other]
    with qtbot.waitSignal(view.breakdown_requested) as blocker:
        view.strongest_button.click()
    assert blocker.args == ["hidden", strongest]


def test_stale_breakdowns_are_ignored(qtbot, view, tiny):
    model, _, inspection = tiny
    view.set_inspection(inspection)
    view.select_unit("hidden", 0)
    view.show_breakdown(neuron_breakdown(model, inspection, "hidden", 1))
    assert view._bars is None
    assert "Computing hidden[0]" in view.equation_label.text()


def test_refuses_layers_it_cannot_explain(qtbot, view, tiny):
    _, _, inspection = tiny
    view.set_inspection(inspection)
    with qtbot.assertNotEmitted(view.breakdown_requested):
        assert not view.select_unit("edges", 0)
        assert not view.select_unit("hidden", 5)
    assert view.selection() == ("classes", inspection.target)


def test_model_without_dense_layers_says_so(qtbot, view):
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(inputs, keras.layers.Softmax(name="soft")(x))
    _, _, inspection = inspected(model)
    with qtbot.assertNotEmitted(view.breakdown_requested):
        view.set_inspection(inspection)
    assert "no Dense layer" in view.equation_label.text()
    assert not view.unit_spin.isEnabled() and view.selection() is None


def test_round_trip_through_the_worker_thread(qtbot, view, tiny):
    # What the main window does: the request goes to the worker, the result back.
    model, _, inspection = tiny
    worker = ModelWorker()
    try:
        view.breakdown_requested.connect(
            lambda layer, unit: worker.submit(
                "neuron", lambda: neuron_breakdown(model, inspection, layer, unit)
            )
        )
        worker.finished.connect(lambda kind, _id, result: view.show_breakdown(result))
        with qtbot.waitSignal(worker.finished, timeout=10000):
            view.set_inspection(inspection)
        assert view._bars is not None
        text = view.equation_label.text()
        assert f"{float(inspection.probabilities[inspection.target]):.4g}" in text
        assert "target score is this layer's logit z" in text
    finally:
        worker.shutdown()


def test_clear_forgets_everything(qtbot, view, tiny):
    _, _, inspection = tiny
    view.set_inspection(inspection)
    view.clear()
    assert view.selection() is None and view.layer_combo.count() == 0


def test_the_axis_reads_real_values_like_the_table(view):
    """No "(x0.001)" or "(x1e-15)" scale on the contributions: the table gives real ones."""
    assert view.plot.getAxis("bottom").autoSIPrefix is False
