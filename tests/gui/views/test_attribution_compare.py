"""Compare: every registered method in one grid, shared colour scale, progress and cancel."""

from __future__ import annotations

import numpy as np
import pytest

from gui.views.attribution.compare import CompareView, shared_reach, unit_map
from inspector.attribution import compute_attribution, method_names
from tests.gui.extras_models import inspected

WAIT_MS = 120_000


@pytest.fixture(scope="module")
def tiny():
    return inspected()


@pytest.fixture
def view(qtbot):
    widget = CompareView()
    qtbot.addWidget(widget)
    return widget


def test_unit_map_known_answers():
    signed = np.array([[-2.0, 0.0, 1.0]], np.float32)
    np.testing.assert_allclose(unit_map(signed, True, None), [[0.0, 0.5, 0.75]])
    np.testing.assert_allclose(unit_map(signed, True, 4.0), [[0.25, 0.5, 0.625]])
    unsigned = np.array([[1.0, 2.0, 3.0]], np.float32)
    np.testing.assert_allclose(unit_map(unsigned, False, None), [[1 / 3, 2 / 3, 1.0]])
    np.testing.assert_allclose(unit_map(unsigned, False, 6.0), [[1 / 6, 2 / 6, 0.5]])
    assert shared_reach([signed, unsigned]) == 3.0
    assert shared_reach([np.zeros((2, 2))]) == 1.0


def test_every_registered_method_gets_a_tile_and_a_request(qtbot, view, tiny):
    view.set_inspection(tiny[2])
    assert list(view._tiles) == list(method_names())
    with qtbot.waitSignal(view.compare_requested) as asked:
        view.compute_button.click()
    assert asked.args[0] == list(method_names())
    assert view.is_running and view.cancel_button.isEnabled()
    assert "Computing 1 of" in view.status_label.text()


def test_results_fill_the_grid_and_the_shared_scale_repaints_it(qtbot, view, tiny):
    _, inspector, inspection = tiny
    view.set_inspection(inspection)
    view.request_all()
    cheap = ["saliency", "gradient_x_input", "gradcam"]
    for method in cheap:
        view.show_result(compute_attribution(method, inspection, inspector))
    assert set(view.results) == set(cheap)
    assert view.progress.value() == len(cheap)
    own = {m: view._tiles[m][1].image.copy() for m in cheap}
    view.shared_check.setChecked(True)
    shared = {m: view._tiles[m][1].image.copy() for m in cheap}
    # The map with the largest |value| looks the same; the others change colour.
    reach = shared_reach([view.results[m].heatmap for m in cheap])
    largest = max(cheap, key=lambda m: float(np.abs(view.results[m].heatmap).max()))
    assert float(np.abs(view.results[largest].heatmap).max()) == reach
    assert any(not np.array_equal(own[m], shared[m]) for m in cheap if m != largest)
    view.show_failure("occlusion", "Expected something. Received: nothing.")
    assert "occlusion" not in view.results
    assert view.is_running  # the rest are still pending


def test_cancel_keeps_what_is_done_and_ignores_late_answers(qtbot, view, tiny):
    _, inspector, inspection = tiny
    view.set_inspection(inspection)
    view.request_all()
    view.show_result(compute_attribution("saliency", inspection, inspector))
    with qtbot.waitSignal(view.compare_cancelled):
        view.cancel_button.click()
    assert not view.is_running and view.compute_button.isEnabled()
    assert "Cancelled: 1 of" in view.status_label.text()
    view.show_result(compute_attribution("gradcam", inspection, inspector))  # late: dropped
    assert set(view.results) == {"saliency"}


def test_compare_in_the_window_runs_every_method_on_the_worker(qtbot, open_window):
    compare = open_window.attribution_view.compare_view
    open_window.tabs.setCurrentWidget(open_window.attribution_view)
    open_window.attribution_view.pages.setCurrentWidget(compare)
    compare.request_all()
    qtbot.waitUntil(lambda: not compare.is_running, timeout=WAIT_MS)
    assert set(compare.results) | set(compare._failures) == set(method_names())
    assert not compare._failures, compare._failures
    for attribution in compare.results.values():
        assert attribution.heatmap.shape == open_window.session.state.inspection.image.shape[:2]
    # Exports see the compared maps too.
    exported = {a.method for a in open_window.attribution_view.attributions}
    assert exported >= set(method_names())


def test_cancel_in_the_window_skips_the_jobs_not_started(qtbot, open_window):
    compare = open_window.attribution_view.compare_view
    compare.request_all()
    compare.cancel()
    qtbot.waitUntil(lambda: not open_window.session.worker.is_busy, timeout=WAIT_MS)
    assert len(compare.results) < len(method_names())
    assert not compare.is_running


def test_auc_labels_show_the_cores_numbers_under_each_map(qtbot, view, tiny):
    from inspector.trust import curves_with_controls

    _, inspector, inspection = tiny
    view.set_inspection(inspection)
    view.request_all()
    for method in ("saliency", "gradcam"):
        view.show_result(compute_attribution(method, inspection, inspector))
    view.score_button.click()  # while maps are still being computed: ignored
    assert not view._scoring
    view.cancel()  # the maps not computed yet are dropped; two remain
    with qtbot.waitSignal(view.scores_requested) as asked:
        view.score_button.click()
    assert asked.args[0] == ["saliency", "gradcam"] and view.is_running
    curves = curves_with_controls("gradcam", view.results["gradcam"].heatmap, inspection, inspector)
    view.show_scores("gradcam", curves)
    text = view.score_text("gradcam")
    random = curves.control("random")
    for kind in ("deletion", "insertion"):
        own, chance = getattr(curves.method, kind).auc, getattr(random, kind).auc
        assert f"{kind} AUC {own:.3f} (random {chance:.3f})" in text
    assert view.score_text("saliency") == ""
    with qtbot.waitSignal(view.scores_cancelled):
        view.cancel_button.click()
    assert not view.is_running and view.score_button.isEnabled()
    view.set_inspection(inspection)  # a new image or target: the AUCs no longer apply
    assert view.scores == {} and view.score_text("gradcam") == ""


def test_auc_job_in_the_window_matches_the_core_and_reuses_its_cache(qtbot, open_window):
    from gui.jobs.compare_scores import BASELINE
    from gui.jobs.trust_jobs import trust_key
    from inspector.defaults import CURVE_STEPS
    from inspector.trust import curves_with_controls

    compare = open_window.attribution_view.compare_view
    compare.request_all()
    qtbot.waitUntil(lambda: not compare.is_running, timeout=WAIT_MS)
    with qtbot.waitSignal(compare.scores_requested):
        compare.score_button.click()
    qtbot.waitUntil(lambda: not compare.is_running, timeout=WAIT_MS)
    assert set(compare.scores) == set(compare.results)
    # An independent computation of the same curves, in this (GUI) thread.
    state = open_window.session.state
    context = open_window.session._cache.context()
    for method in ("saliency", "gradcam"):
        curves = curves_with_controls(
            method,
            compare.results[method].heatmap,
            state.inspection,
            context.inspector,
            steps=CURVE_STEPS,
            baseline=BASELINE,
        )
        for kind in ("deletion", "insertion"):
            auc = getattr(curves.method, kind).auc
            assert abs(getattr(compare.scores[method].method, kind).auc - auc) < 1e-6
            assert f"{kind} AUC {auc:.3f}" in compare.score_text(method)
    controller = open_window.view_controller.compare_scores
    assert trust_key(state, "gradcam", BASELINE) in controller.curves
    # Asked again on the same image: answered from the cache, no job.
    compare.scores_finished()
    compare._scores.clear()
    compare.request_scores()
    assert not open_window.session.worker.is_busy and not compare.is_running
    assert set(compare.scores) == set(compare.results)


def test_grid_columns_make_the_maps_largest():
    from gui.views.attribution.compare import grid_columns

    # 13 maps in the area a 1366x768 screen leaves: five columns, not a fixed four.
    assert grid_columns(13, 950, 540) == 5
    assert grid_columns(13, 400, 1400) == 2  # a tall narrow dock: few columns
    assert grid_columns(1, 500, 500) == 1


def test_the_grid_reflows_so_each_map_fills_its_box(qtbot, view, tiny):
    """The maps were 60 px squares in 230 x 70 boxes; each box is about square now."""
    from PyQt6.QtWidgets import QApplication

    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_inspection(tiny[2])
    QApplication.processEvents()
    boxes = [tile[0].geometry() for tile in view._tiles.values()]
    sides = [min(b.width(), b.height()) for b in boxes]
    assert min(sides) >= 110, sides
    assert max(b.width() / b.height() for b in boxes) < 1.5
    # Every tile in sight, with its titles as long as computed maps make them.
    for method in view.methods:
        view._label(method, ("Integrated Gradients", "[-5.94e-14 .. 7.18e-14]"))
    QApplication.processEvents()
    width = view.graphics.viewport().width()
    for tile in view._tiles.values():
        box = tile[0].mapRectToScene(tile[0].boundingRect())
        assert box.right() <= width + 1, (box.right(), width)
    before = view._columns
    view.resize(450, 1400)  # tall and narrow: fewer columns
    QApplication.processEvents()
    assert view._columns < before and len(view._tiles) == len(method_names())
