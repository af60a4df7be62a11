"""The Trust tab in the window: curves with controls, the verdict, badges, Cancel, stale answers."""

from __future__ import annotations

import numpy as np
import pytest

from gui.jobs.trust_jobs import TRUST_JOB
from gui.views.trust import badge

WAIT_MS = 180_000


@pytest.fixture
def trust_window(open_window):
    open_window.tabs.setCurrentWidget(open_window.trust_view)
    return open_window


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.session.worker.is_busy, timeout=WAIT_MS)


def check(qtbot, window, method: str):
    view, controller = window.trust_view, window.trust_controller
    assert view.select_method(method)
    view.check_button.click()
    qtbot.waitUntil(lambda: controller._key() in controller.reports, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    return controller.reports[controller._key()]


def test_badge_names_both_verdicts_never_one_tick():
    from types import SimpleNamespace

    from tests.inspector.trust.test_verdicts import STEPS, curves_of

    x = np.linspace(0, 1, STEPS + 1)
    fast_drop, slow_drop = 0.9 * np.exp(-8 * x), 0.9 * (1 - x)
    fast_rise, slow_rise = 0.9 * (1 - np.exp(-8 * x)), 0.9 * x
    passes, fails = SimpleNamespace(passes=True), SimpleNamespace(passes=False)

    def report(randomization, curves):
        return SimpleNamespace(randomization=randomization, curves=curves)

    assert badge(None) == ""
    good = curves_of(fast_drop, fast_rise, slow_drop, slow_rise)
    assert badge(report(passes, good)) == "  · randomisation ✓ · faithfulness ✓"
    # Randomisation passes but the maps do not beat the random map: no lone ✓.
    bad = curves_of(slow_drop, slow_rise, fast_drop, fast_rise)
    assert badge(report(passes, bad)) == "  · randomisation ✓ · faithfulness ✗"
    half = curves_of(fast_drop, slow_rise, slow_drop, fast_rise)
    assert badge(report(fails, half)) == "  · randomisation ✗ · faithfulness 1/2"
    flat = np.full(STEPS + 1, 0.5)
    assert badge(report(passes, curves_of(flat, flat, flat, flat))).endswith("faithfulness ?")


def test_check_shows_curves_controls_verdict_strip_and_badges(qtbot, trust_window):
    window = trust_window
    view = window.trust_view
    report = check(qtbot, window, "saliency")
    # Curves with both controls, each labelled with its AUC, which is the trapezoid area.
    for plot, kind in ((view.deletion_plot, "deletion"), (view.insertion_plot, "insertion")):
        items = plot.getPlotItem().listDataItems()
        assert len(items) == 3
        for item, result in zip(
            items, [report.curves.method, *report.curves.controls], strict=True
        ):
            curve = getattr(result, kind)
            x, y = item.getData()
            np.testing.assert_allclose(y, curve.probabilities)
            area = float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))
            assert abs(area - curve.auc) < 1e-9 and f"AUC {curve.auc:.3f}" in item.name()
    # The insertion curve ends on the unperturbed image: its probability of the target.
    inspection = window.session.state.inspection
    end = report.curves.method.insertion.probabilities[-1]
    assert abs(end - inspection.probabilities[inspection.target]) < 1e-4
    result = report.randomization
    text = view.verdict_label.text()
    # two statements, never one tick for both; the randomisation one as a diagnosis
    assert "<b>Faithfulness" in text and "<b>Randomisation check</b>" in text
    assert "it does not rank methods" in text and "✓" not in text
    word = "depends on the model" if result.passes else "barely changes"
    assert word in text
    assert view.strip_layout.count() == len(result.layers) + 2  # trained + steps + stretch
    suffix = badge(report)
    assert f"randomisation {'✓' if result.passes else '✗'} · faithfulness " in suffix
    index = view.method_combo.findData("saliency")
    assert view.method_combo.itemText(index) == "Saliency" + suffix
    # The picker shows its whole entry: a cut badge would show a lone ✓.
    combo = view.method_combo
    needed = combo.fontMetrics().horizontalAdvance(combo.itemText(index))
    qtbot.waitUntil(lambda: combo.width() >= needed, timeout=2000)
    picker = window.attribution_view.method_combo
    assert picker.itemText(picker.findData("saliency")).endswith(suffix)


def test_cached_report_shows_at_once_and_a_new_target_resets(qtbot, trust_window):
    window = trust_window
    view = window.trust_view
    report = check(qtbot, window, "gradcam")
    view.select_method("saliency")
    assert view.verdict_label.text() == ""
    view.select_method("gradcam")  # back: painted from the cache, no job
    assert not window.session.worker.is_busy
    assert "<b>Randomisation check</b>" in view.verdict_label.text()
    other = (report.curves.method.target + 1) % 3  # the tiny model has three classes
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.session.set_target(other)
    assert view.verdict_label.text() == ""
    gradcam = view.method_combo.itemText(view.method_combo.findData("gradcam"))
    assert not gradcam.endswith(("✓", "✗"))  # the verdict was for the other target


def test_cancel_stops_the_check_and_the_app_still_answers(qtbot, trust_window):
    window = trust_window
    view, controller = window.trust_view, window.trust_controller
    view.select_method("occlusion")
    view.check_button.click()
    assert view.cancel_button.isEnabled()
    view.cancel_button.click()
    assert view.status_label.text() == "Cancelled." and not view.cancel_button.isEnabled()
    wait_idle(qtbot, window)
    assert controller.reports == {} and not controller.jobs.is_running(TRUST_JOB)
    assert view.verdict_label.text() == ""
    check(qtbot, window, "saliency")  # the worker is free and answers the next request


def test_a_newer_request_supersedes_the_running_one(qtbot, trust_window):
    window = trust_window
    view, controller = window.trust_view, window.trust_controller
    view.select_method("occlusion")
    view.check_button.click()
    view.select_method("saliency")
    view.check_button.click()
    qtbot.waitUntil(lambda: controller._key() in controller.reports, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert [key[4] for key in controller.reports] == ["saliency"]  # occlusion's was dropped
    assert "Saliency" in view.verdict_label.text()


def test_an_answer_for_another_image_is_kept_but_not_shown(qtbot, trust_window, image_dir):
    window = trust_window
    view, controller = window.trust_view, window.trust_controller
    check(qtbot, window, "saliency")
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.session.open_image(image_dir / "c_other.png")
    wait_idle(qtbot, window)
    assert view.verdict_label.text() == "" and controller._key() not in controller.reports
    with qtbot.waitSignal(window.state_shown, timeout=WAIT_MS):
        window.session.open_image(image_dir / "a_small.png")
    assert "Saliency" in view.verdict_label.text()  # back: from the cache, at once
