"""Exports: view images, the inspect --out folder with progress and cancel, npz, report."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from PIL import Image
from PyQt6.QtWidgets import QFileDialog, QPushButton

from gui.export.actions import (
    ExportAllTask,
    export_npz,
    export_report,
    export_view_image,
)
from gui.export.dialogs import ExportController
from gui.jobs.worker import ModelWorker
from gui.views.attribution.view import AttributionView
from gui.views.layers.neuron import NeuronView
from inspector.attribution import compute_attribution
from inspector.engine.errors import ExportError
from inspector.render.exporting import file_stem
from tests.gui.extras_models import inspected


@pytest.fixture(scope="module")
def tiny():
    return inspected()


@pytest.fixture(scope="module")
def attributions(tiny):
    _, inspector, inspection = tiny
    return tuple(
        compute_attribution(name, inspection, inspector) for name in ("saliency", "gradcam")
    )


@pytest.fixture
def worker(qtbot):
    worker = ModelWorker()
    yield worker
    worker.shutdown()


@pytest.fixture
def attribution_view(qtbot, tiny, attributions):
    view = AttributionView()
    qtbot.addWidget(view)
    view.auto_check.setChecked(False)
    view.set_inspection(tiny[2])
    view.select_method("saliency")
    view.show_attribution(attributions[0])
    view.resize(700, 500)
    view.show()
    qtbot.waitExposed(view)
    return view


def _leftovers(folder):
    """Hidden temporary files or folders an export may have left behind."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


# --- the current view ----------------------------------------------------------------
def test_view_as_png_shows_the_overlay(tmp_path, attribution_view):
    path = export_view_image(attribution_view.plot_item, tmp_path / "overlay.png")
    picture = np.asarray(Image.open(path).convert("RGB"))
    assert picture.shape[0] > 100 and picture.shape[1] > 100
    assert len(np.unique(picture.reshape(-1, 3), axis=0)) > 50  # an image, not a blank
    assert _leftovers(tmp_path) == []


def test_view_as_svg(tmp_path, attribution_view):
    path = export_view_image(attribution_view.plot_item, tmp_path / "overlay.SVG")
    text = path.read_text(encoding="utf-8")
    assert path.suffix == ".svg" and text.startswith("<?xml") and "<svg" in text
    assert "<image" in text  # the heatmap and picture are embedded


def test_plain_widget_as_png_and_svg(tmp_path, qtbot, tiny):
    view = NeuronView()
    qtbot.addWidget(view)
    view.set_inspection(tiny[2])
    view.resize(500, 400)
    png = export_view_image(view.unit_spin.parentWidget(), tmp_path / "neuron.png")
    assert Image.open(png).size == (500, 400)
    svg = export_view_image(view.equation_label, tmp_path / "equation.svg")
    assert "<svg" in svg.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["view.jpg", "view"])
def test_view_with_another_suffix_is_refused(tmp_path, attribution_view, name):
    with pytest.raises(ExportError, match=r"Expected a file name ending in \.png or \.svg"):
        export_view_image(attribution_view.plot_item, tmp_path / name)


def test_view_into_a_file_instead_of_a_folder_fails_cleanly(tmp_path, attribution_view):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="not_a_folder"):
        export_view_image(attribution_view.plot_item, blocker / "view.png")


# --- arrays and report -------------------------------------------------------------------
def test_npz_has_the_inspect_out_keys(tmp_path, tiny):
    inspection = tiny[2]
    path = export_npz(inspection, tmp_path / "arrays.npz")
    with np.load(path) as arrays:
        expected = {"input", "grad/input"}
        for record in inspection.layers:
            expected |= {record.name, f"grad/{record.name}"}
        assert set(arrays.files) == expected
        np.testing.assert_array_equal(arrays["parts"], inspection.layer("parts").activation)
        np.testing.assert_array_equal(arrays["grad/input"], inspection.input_gradient)
    assert _leftovers(tmp_path) == []
    with pytest.raises(ExportError, match=r"ending in \.npz"):
        export_npz(inspection, tmp_path / "arrays.txt")


def test_report_as_png_and_pdf(tmp_path, tiny, attributions):
    png = export_report(tiny[2], attributions, tmp_path / "report.png")
    assert Image.open(png).size[0] >= 1000
    pdf = export_report(tiny[2], attributions, tmp_path / "report.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    with pytest.raises(ExportError, match=r"\.png or \.pdf"):
        export_report(tiny[2], attributions, tmp_path / "report.docx")


# --- everything into a folder, on the worker ------------------------------------------
def test_export_all_writes_the_inspect_out_layout(qtbot, tmp_path, worker, tiny, attributions):
    inspection = tiny[2]
    task = ExportAllTask(worker)
    steps = []
    task.progress.connect(lambda done, total: steps.append((done, total)))
    out = tmp_path / "out"
    with qtbot.waitSignal(task.finished, timeout=30000) as blocker:
        task.start(inspection, out, attributions)
    result = blocker.args[0]
    total = len(inspection.layers) + len(attributions) + 3
    assert steps[-1] == (total, total) and [d for d, _ in steps] == sorted(d for d, _ in steps)
    assert (out / "activations.npz").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["target_label"] == inspection.target_label
    for record in inspection.layers:
        assert (out / "feature_maps" / f"{file_stem(record.name)}.png").exists()
    for attribution in attributions:
        Image.open(out / "attribution" / f"{attribution.method}.png").verify()
        heatmap = np.load(out / "attribution" / f"{attribution.method}.npy")
        np.testing.assert_array_equal(heatmap, attribution.heatmap)
    assert set(result.files) >= {"activations.npz", "summary.json"}
    assert task.dialog is None and not task.running


def test_cancel_leaves_nothing_behind(qtbot, tmp_path, worker, tiny, attributions):
    # Hold the worker with a first job so the cancel lands before the export starts.
    release = threading.Event()
    worker.submit("hold", lambda: release.wait(10))
    task = ExportAllTask(worker)
    out = tmp_path / "out"
    task.start(tiny[2], out, attributions)
    task.dialog.findChild(QPushButton).click()  # the user presses Cancel
    with qtbot.waitSignal(task.cancelled, timeout=30000):
        release.set()
    assert not out.exists() and _leftovers(tmp_path) == []


def test_export_all_into_a_file_fails_with_a_message(qtbot, tmp_path, worker, tiny):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    task = ExportAllTask(worker)
    with qtbot.waitSignal(task.failed, timeout=30000) as blocker:
        task.start(tiny[2], target)
    assert "which is a file" in blocker.args[0]
    assert target.read_text() == "keep me"


# --- the File > Export controller, with patched dialogs --------------------------------
@pytest.fixture
def controller(qtbot, worker, tiny, attributions, attribution_view):
    return ExportController(
        attribution_view,
        worker,
        inspection=lambda: tiny[2],
        attributions=lambda: attributions,
        current_view=lambda: attribution_view,
    )


def test_menu_actions_ask_for_a_path_and_write(qtbot, monkeypatch, tmp_path, controller):
    answers = iter(
        [
            (str(tmp_path / "view"), "SVG drawing (*.svg)"),  # no suffix typed: from filter
            (str(tmp_path / "arrays.npz"), "NumPy arrays (*.npz)"),
            (str(tmp_path / "report"), "PDF document (*.pdf)"),
        ]
    )
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: next(answers))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    from PyQt6.QtWidgets import QMenu

    menu = QMenu()
    view_action, all_action, npz_action, report_action = controller.add_to_menu(menu)
    with qtbot.waitSignal(controller.exported) as blocker:
        view_action.trigger()
    assert (tmp_path / "view.svg").is_file() and "view.svg" in blocker.args[0]
    with qtbot.waitSignal(controller.exported, timeout=30000):
        npz_action.trigger()
    assert np.load(tmp_path / "arrays.npz").files
    with qtbot.waitSignal(controller.exported, timeout=30000):
        report_action.trigger()
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    with qtbot.waitSignal(controller.exported, timeout=30000) as blocker:
        all_action.trigger()
    # The inspection came from an array, not a file: the folder gets a generic name.
    assert (tmp_path / "image_inspection" / "summary.json").is_file()
    assert "image_inspection" in blocker.args[0]


def test_cancelled_dialog_writes_nothing(qtbot, monkeypatch, tmp_path, controller):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    with qtbot.assertNotEmitted(controller.exported), qtbot.assertNotEmitted(controller.failed):
        assert controller.export_view() is None
        assert controller.export_report() is None
    assert list(tmp_path.iterdir()) == []


def test_failures_reach_the_message_box_signal(qtbot, tmp_path, controller, worker):
    blocker_file = tmp_path / "file"
    blocker_file.write_text("x")
    with qtbot.waitSignal(controller.failed, timeout=30000) as blocker:
        controller.export_report(blocker_file / "report.pdf")
    title, message = blocker.args
    assert "report.pdf" in title and "Expected" in message
    empty = ExportController(None, worker, inspection=lambda: None)
    with qtbot.waitSignal(empty.failed) as blocker:
        empty.export_npz(tmp_path / "a.npz")
    assert blocker.args[0] == "Nothing to export"
