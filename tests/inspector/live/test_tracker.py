"""The face tracker: it follows a planted moving face, holds a lost one, then gives up."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.live.tracker import FaceTracker
from tests.inspector.live.video import FACE_SIZE, FACE_TOP, face_left, frames

# The stated error: the tracked face's centre stays within this fraction of the
# face's width of the planted face's centre, on every frame (between detections
# the box is last detection's, and the face moves ~11 px a frame here).
MAX_ERROR = 0.25
MAX_ERROR_WHEN_DETECTED = 0.15


def test_the_box_follows_a_moving_face():
    count, cut = 40, 40
    tracker = FaceTracker(1.0, every=5)
    errors, detected_errors = [], []
    for number, frame in enumerate(frames(count, cut)):
        track = tracker.update(frame)
        assert track.face is not None, f"lost the face at frame {number} ({track.kind})"
        truth = (face_left(number, cut, 640) + FACE_SIZE / 2, FACE_TOP + FACE_SIZE / 2)
        centre = ((track.face[0] + track.face[2]) / 2, (track.face[1] + track.face[3]) / 2)
        error = np.hypot(centre[0] - truth[0], centre[1] - truth[1]) / FACE_SIZE
        errors.append(error)
        if track.kind == "face":
            detected_errors.append(error)
        left, top, right, bottom = track.box
        assert abs((right - left) / (bottom - top) - 1.0) <= 0.01  # the model's aspect
    assert max(errors) <= MAX_ERROR, max(errors)
    assert max(detected_errors) <= MAX_ERROR_WHEN_DETECTED, max(detected_errors)
    assert len(detected_errors) == count // 5  # detection only every 5th frame


def test_a_lost_face_keeps_its_box_for_a_while_then_the_centre():
    found = iter([(10, 10, 50, 50)] + [None] * 100)
    tracker = FaceTracker(1.0, every=1, patience=3, find_face=lambda _small: next(found))
    frame = np.zeros((100, 100, 3), np.uint8)
    kinds = [tracker.update(frame).kind for _ in range(6)]
    assert kinds == ["face", "lost", "lost", "lost", "centre", "centre"]
    assert tracker.update(frame).box is None


def test_detections_are_smoothed_into_the_box():
    boxes = iter([(100, 100, 200, 200), (110, 100, 210, 200)])
    tracker = FaceTracker(1.0, every=1, smoothing=0.5, side=1000, find_face=lambda _s: next(boxes))
    frame = np.zeros((400, 400, 3), np.uint8)
    tracker.update(frame)
    assert tracker.update(frame).face == (105, 100, 205, 200)  # half-way, not a jump


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="Expected every >= 1"):
        FaceTracker(1.0, every=0)
