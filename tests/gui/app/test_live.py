"""Live mode in the app: a video the test writes plays through every view.

The clip (``tests/inspector/live/video.py``): a bundled face photo moving
across a noisy background, then a cut to a face-free grey ramp.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest
from PyQt6.QtWidgets import QMessageBox

import inspector
from tests.inspector.live.video import write_video

COUNT, CUT = 60, 40


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("live") / "clip.avi", count=COUNT, cut=CUT)


@pytest.fixture
def errors(monkeypatch):
    """Message boxes shown, as (title, text); none blocks."""
    shown = []
    monkeypatch.setattr(
        QMessageBox, "critical", lambda _p, title, text, *a, **k: shown.append((title, text))
    )
    return shown


@pytest.fixture
def face_window(qtbot, window, tmp_path):
    """The window on the bundled face detector; frozen frames go to ``tmp_path``."""
    with qtbot.waitSignal(window.state_shown, timeout=60000):
        window.session.open_model(inspector.bundled_model_path())
    window.live_controller.frozen_root = tmp_path / "frozen"
    return window


def _play(qtbot, window, clip, timeout=60000):
    """Start live on ``clip`` and collect (frame number, predicted label) until it ends."""
    seen = []

    def record(state):
        if state.live is not None:
            inspection = state.inspection
            seen.append(
                (state.live.number, inspection.labels[int(np.argmax(inspection.probabilities))])
            )

    window.state_shown.connect(record)
    assert window.live_controller.start(str(clip))
    qtbot.waitUntil(lambda: not window.live_controller.running, timeout=timeout)
    window.state_shown.disconnect(record)
    return seen


def test_a_video_plays_through_the_views_and_the_prediction_changes_at_the_cut(
    qtbot, face_window, clip
):
    seen = _play(qtbot, face_window, clip)
    assert len(seen) >= COUNT // 2, f"only {len(seen)} of {COUNT} frames painted"
    before = [label for number, label in seen if number < CUT - 1]
    after = [label for number, label in seen if number > CUT]
    assert before and after
    assert before.count("face") / len(before) >= 0.9, before
    assert set(after) == {"not_face"}, after
    # the stream ended: said so, and the last frame stays, as a still
    assert "The video ended after 60 frames" in face_window.status_label.text()
    state = face_window.session.state
    assert state is not None and state.live is not None and state.live.number == seen[-1][0]
    assert face_window.session.live_source is None
    assert face_window.session.requested.image_path.suffix == ".png"


def test_frames_are_dropped_not_queued_when_the_model_is_slow(
    qtbot, face_window, clip, monkeypatch
):
    session = face_window.session
    cache = session._cache
    answer = cache.answer_frame
    submitted, finished, waiting = [0], [0], []

    def slow(*args, **kwargs):
        time.sleep(0.25)  # a model far slower than the 30 fps video
        try:
            return answer(*args, **kwargs)
        finally:
            finished[0] += 1

    show = session.show_frame

    def counted(frame, tracker):
        waiting.append(submitted[0] - finished[0])  # frames handed over, not yet answered
        submitted[0] += 1
        return show(frame, tracker)

    monkeypatch.setattr(cache, "answer_frame", slow)
    monkeypatch.setattr(session, "show_frame", counted)
    live = face_window.live_controller
    seen = _play(qtbot, face_window, clip)
    numbers = [number for number, _ in seen]
    assert max(waiting) == 0  # a frame is handed over only when the last one is answered
    assert len(numbers) < COUNT / 3  # ~2 s of video at 4 answers a second
    assert max(np.diff(numbers)) > 1  # frames in between were dropped
    # latency stays bounded by about one slow answer, it does not grow with a backlog
    assert max(live.latencies) < 0.25 * 2 + 0.5, live.latencies


def test_freeze_holds_the_frame_and_a_still_of_it_inspects_bit_for_bit(qtbot, face_window, clip):
    window, live = face_window, face_window.live_controller
    assert live.start(str(clip))
    qtbot.waitUntil(lambda: live.shown >= 5, timeout=30000)
    saved = live.freeze()
    frozen = window.session.state
    assert saved is not None and saved.is_file()
    assert live.frozen_frames[-1][0] == saved
    qtbot.wait(400)  # the video would have moved on by ~12 frames
    assert window.session.state.inspection is frozen.inspection
    # the frozen frame, explored as a still (a new target makes a fresh pass on its PNG)
    with qtbot.waitSignal(window.state_shown, timeout=30000):
        window.session.set_target(int(frozen.inspection.target))
    still = window.session.state.inspection
    assert still is not frozen.inspection
    assert window.session.state.crop == frozen.crop
    for mine, theirs in zip(still.layers, frozen.inspection.layers, strict=True):
        assert np.array_equal(mine.activation, theirs.activation), mine.name
        assert np.array_equal(mine.gradient, theirs.gradient), mine.name
    # Space resumes; Step shows one more frame and stays frozen
    live.toggle_freeze()
    assert not live.frozen
    qtbot.waitUntil(lambda: window.session.state.live is not None, timeout=10000)
    live.freeze()
    number = window.session.state.live.number
    with qtbot.waitSignal(window.state_shown, timeout=10000):
        live.step()
    qtbot.waitUntil(lambda: live.frozen, timeout=10000)
    assert window.session.state.live.number == number + 1
    live.stop()


def test_export_frozen_frames_writes_each_like_a_still(qtbot, face_window, clip, tmp_path):
    window, live = face_window, face_window.live_controller
    assert live.start(str(clip))
    qtbot.waitUntil(lambda: live.shown >= 3, timeout=30000)
    first = live.freeze()
    live.resume()
    qtbot.waitUntil(lambda: window.session.state.live is not None, timeout=10000)
    qtbot.waitUntil(lambda: window.session.state.live.number > int(first.stem[-6:]), timeout=10000)
    second = live.freeze()
    live.stop()
    out = tmp_path / "export"
    with qtbot.waitSignal(live.status, timeout=60000, check_params_cb=lambda t: "Exported" in t):
        live.export_frozen(out)
    for png in (first, second):
        folder = out / png.stem
        assert (folder / "summary.json").is_file(), sorted(p.name for p in out.iterdir())


def test_a_missing_camera_or_a_bad_file_says_so_and_keeps_the_state(face_window, errors, tmp_path):
    state = face_window.session.state
    assert not face_window.live_controller.start("camera:7")
    bad = tmp_path / "broken.avi"
    bad.write_bytes(b"not a video at all")
    assert not face_window.live_controller.start(str(bad))
    assert [title for title, _ in errors] == ["Cannot start live"] * 2
    assert "no camera at index 7" in errors[0][1]
    assert "broken.avi, which is not a video it can decode" in errors[1][1]
    assert face_window.session.state is state
    assert face_window.session.live_source is None


def test_opening_an_image_ends_live(qtbot, face_window, clip, image_path):
    live = face_window.live_controller
    assert live.start(str(clip))
    qtbot.waitUntil(lambda: live.shown >= 2, timeout=30000)
    with qtbot.waitSignal(face_window.state_shown, timeout=30000):
        face_window.session.open_image(image_path)
    assert not live.running
    assert face_window.session.state.live is None


def test_app_live_flag_refuses_a_bad_source_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "layer_inspector", "app", "--live", str(tmp_path / "none.mp4")],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "none.mp4', which is no file" in lines[0], done.stderr


def test_a_costly_attribution_waits_for_a_frozen_frame(qtbot, face_window, clip):
    window, live = face_window, face_window.live_controller
    view = window.attribution_view
    window.tabs.setCurrentWidget(view)
    assert view.select_method("rise")
    assert live.start(str(clip))
    qtbot.waitUntil(lambda: live.shown >= 3, timeout=30000)
    assert "too many to follow live" in view.status_label.text()
    assert not window.view_controller.attribution_jobs.is_running("attribution")
    live.freeze()  # a still: now it computes
    view.request_attribution()
    assert window.view_controller.attribution_jobs.is_running("attribution")
    live.stop()
    window.view_controller.cancel_attribution()
