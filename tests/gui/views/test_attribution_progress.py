"""A method that runs the model shows its passes in the Attribution tab and can be stopped."""

from __future__ import annotations

WAIT_MS = 120_000


def test_rise_shows_its_passes_and_cancel_stops_it(qtbot, open_window):
    window = open_window
    view = window.attribution_view
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not window.session.worker.is_busy, timeout=WAIT_MS)
    jobs = window.view_controller
    jobs.request_attribution("rise", {"masks": 200_000, "batch_size": 16})
    view._set_running(True)
    qtbot.waitUntil(lambda: view.progress.maximum() == 200_000, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=WAIT_MS)
    assert view.cancel_button.isVisibleTo(view) and "passes of rise" in view.status_label.text()
    view.cancel_button.click()
    qtbot.waitUntil(lambda: not window.session.worker.is_busy, timeout=WAIT_MS)
    assert view.status_label.text() == "Cancelled." and not view.progress.isVisibleTo(view)
    assert "rise" not in {a.method for a in view.attributions}
    # The app still answers: a cheap method right after.
    jobs.request_attribution("saliency", {})
    qtbot.waitUntil(lambda: "saliency" in {a.method for a in view.attributions}, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.session.worker.is_busy, timeout=WAIT_MS)
