"""The weight-updates view on a real tiny run written by the real TrainingRecorder."""

from __future__ import annotations

import numpy as np
import pytest

from gui.app.run_controller import RunController
from gui.jobs.worker import ModelWorker
from gui.views.training.weight_updates import WeightUpdatesView
from gui.widgets.curve_helpers import is_log_y
from gui.widgets.image_helpers import DIVERGING_COLORMAP, lookup_table
from gui.widgets.mosaic_helpers import feature_mosaic, kernel_maps, kernel_mosaic
from inspector.recording.run_directory import load_run
from tests.gui.tiny_runs import LAYERS, tiny_train


@pytest.fixture(scope="module")
def tiny_run_dir(tmp_path_factory):
    """A 2-epoch run (6 steps) of the tiny net: snapshots at steps 0, 1, 2, 3, 6."""
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    tiny_train(run_dir=run_dir, epochs=2)
    return run_dir


@pytest.fixture
def view(qtbot):
    widget = WeightUpdatesView()
    qtbot.addWidget(widget)
    return widget


def test_curves_one_per_layer_on_log_scales(view, tiny_run_dir):
    view.open_run(tiny_run_dir)
    run = view.run
    assert run.layer_names == LAYERS
    for plot, curves, stat in (
        (view.ratio_plot, view.ratio_curves, "update_ratio"),
        (view.grad_plot, view.grad_curves, "grad_norm"),
    ):
        assert is_log_y(plot)
        assert curves.names == LAYERS
        assert len(plot.getPlotItem().listDataItems()) == len(LAYERS)
        assert len(plot.getPlotItem().legend.items) == len(LAYERS)
        for layer in LAYERS:
            series = run.series(layer)
            values = getattr(series, stat)
            x, y = curves.item(layer).getOriginalDataset()
            keep = values > 0  # a log axis cannot show zero
            assert keep.sum() >= 5
            np.testing.assert_array_equal(x, series.steps[keep])
            np.testing.assert_allclose(y, values[keep])


def test_legends_sit_outside_the_plot_area(qtbot, view, tiny_run_dir):
    view.resize(1200, 700)
    view.show()
    qtbot.waitExposed(view)
    view.open_run(tiny_run_dir)
    for plot in (view.ratio_plot, view.grad_plot):
        item = plot.getPlotItem()
        area, legend = item.vb.sceneBoundingRect, item.legend.sceneBoundingRect
        # Beside the curves, never over them (once the layout has placed the legend).
        qtbot.waitUntil(lambda area=area, legend=legend: legend().left() >= area().right() - 1)
        assert legend().width() > 0 and area().width() > legend().width()
        assert len(item.legend.items) == len(LAYERS)


def test_slider_changes_the_shown_step(view, tiny_run_dir):
    view.open_run(tiny_run_dir)
    run = view.run
    assert len(run.snapshot_steps) >= 4
    assert view.current_step == run.snapshot_steps[-1]  # opens on the last snapshot
    view.layer_combo.setCurrentText("second_conv")
    view.step_slider.setValue(0)
    first_kernels = view.kernel_image.image.copy()
    first_maps = view.probe_image.image.copy()
    assert view.current_step == run.snapshot_steps[0]
    assert view.delta_image.image is None  # nothing before the first snapshot

    view.step_slider.setValue(2)
    step, previous = run.snapshot_steps[2], run.snapshot_steps[1]
    assert view.current_step == step
    assert not np.array_equal(view.kernel_image.image, first_kernels)
    assert not np.array_equal(view.probe_image.image, first_maps)
    np.testing.assert_array_equal(
        view.kernel_image.image, kernel_mosaic(run.kernels_at(step, "second_conv"))
    )
    change = run.kernels_at(step, "second_conv") - run.kernels_at(previous, "second_conv")
    np.testing.assert_array_equal(view.delta_image.image, kernel_mosaic(change, signed_change=True))
    assert f"since step {previous}" in view.snapshot_caption.text()
    assert [m.value() for m in view._markers] == [step, step]


def test_probe_layer_and_image_pickers(view, tiny_run_dir):
    view.open_run(tiny_run_dir)
    run = view.run
    step = view.current_step
    activations = run.probe_activations_at(step)
    assert set(activations) >= {"rgb_conv", "second_conv"}
    view.probe_layer_combo.setCurrentText("rgb_conv")
    view.probe_index_spin.setValue(1)
    np.testing.assert_array_equal(
        view.probe_image.image, feature_mosaic(activations["rgb_conv"][1])
    )
    np.testing.assert_array_equal(view.probe_input_image.image, run.probe_images[1])


def test_rgb_kernel_tiles_are_coloured_known_answer():
    kernel = np.zeros((3, 3, 3, 4), np.float32)
    kernel[1, 1, 0, 2] = 2.0  # the red weight at the centre of output channel 2
    kernel[0, 0, 2, 0] = -2.0  # a negative blue weight in the corner of channel 0
    mosaic = kernel_mosaic(kernel)
    # 4 tiles of 3x3 in a 2x2 grid with 1-pixel gaps: 7x7 pixels.
    assert mosaic.shape == (7, 7, 3)
    np.testing.assert_array_equal(mosaic[5, 1], [255, 128, 128])  # tile 2 (row 1, col 0)
    np.testing.assert_array_equal(mosaic[0, 0], [128, 128, 0])  # tile 0, corner
    np.testing.assert_array_equal(mosaic[1, 5], [128, 128, 128])  # zero is mid-grey


def test_other_kernels_use_a_diverging_map_of_the_first_input_channel():
    kernel = np.zeros((3, 3, 5, 2), np.float32)
    kernel[2, 2, 0, 1] = 4.0
    kernel[0, 0, 1, 0] = -100.0  # second input channel: not shown
    assert kernel_maps(kernel).shape == (3, 3, 2)
    mosaic = kernel_mosaic(kernel)
    table = lookup_table(DIVERGING_COLORMAP)
    assert mosaic.shape == (7, 3, 3)  # 2 tiles, one above the other
    np.testing.assert_array_equal(mosaic[6, 2], table[255])  # +max -> the top of the map
    np.testing.assert_array_equal(mosaic[0, 0], table[128])  # zero -> the centre
    dense = kernel_maps(np.ones((7, 3), np.float32))
    assert dense.shape == (7, 3, 1)  # a dense kernel is one matrix tile


def test_loading_on_the_worker(qtbot, tiny_run_dir):
    worker = ModelWorker()
    view = WeightUpdatesView()
    qtbot.addWidget(view)
    RunController(worker, view, view)
    try:
        with qtbot.waitSignal(view.run_loaded, timeout=30000) as loaded:
            view.open_run(tiny_run_dir)
        assert loaded.args[0].path == tiny_run_dir
        assert view.ratio_curves.names == LAYERS
        with qtbot.waitSignal(view.load_failed, timeout=30000) as failed:
            view.open_run(tiny_run_dir / "missing")
        assert "Expected a training run directory" in failed.args[0]
        assert view.run.path == tiny_run_dir  # the previous run stays shown
    finally:
        worker.shutdown()


def test_missing_run_keeps_the_previous_one(view, tiny_run_dir, tmp_path):
    view.open_run(tiny_run_dir)
    shown = view.kernel_image.image.copy()
    messages = []
    view.load_failed.connect(messages.append)
    view.open_run(tmp_path)  # exists, but holds no records.jsonl
    assert len(messages) == 1
    assert "has no records.jsonl" in messages[0]
    assert view.run.path == tiny_run_dir
    np.testing.assert_array_equal(view.kernel_image.image, shown)
    assert "still showing" in view.status_label.text()


def test_run_chosen_in_a_dialog(view, tiny_run_dir, monkeypatch):
    from gui.views.training import weight_updates

    monkeypatch.setattr(
        weight_updates.QFileDialog,
        "getExistingDirectory",
        staticmethod(lambda *args: str(tiny_run_dir)),
    )
    view.open_button.click()
    assert view.run is not None
    assert view.run.path == tiny_run_dir


def test_the_shipped_default_run_opens(view):
    from gui.views.training.weight_updates import default_run_path

    assert (default_run_path() / "records.jsonl").is_file()  # shipped: a missing run fails
    view.default_button.click()
    run = load_run(default_run_path())
    assert view.run is not None
    assert view.ratio_curves.names == run.layer_names
    assert view.kernel_image.image is not None


def test_clear_shows_nothing(view, tiny_run_dir):
    view.open_run(tiny_run_dir)
    view.clear()
    assert view.run is None
    assert view.ratio_curves.names == ()
    assert view.kernel_image.image is None
    assert view.layer_combo.count() == 0
