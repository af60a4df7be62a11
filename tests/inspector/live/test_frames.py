"""The live source: parsing, reading a video, the newest-frame slot, the errors."""

from __future__ import annotations

import time

import numpy as np
import pytest

from inspector.live.frames import FrameSource, LiveSourceError, find_cameras, parse_source
from tests.inspector.live.video import write_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("live") / "clip.avi", count=30, cut=20)


def test_parse_source_names_cameras_and_files(tmp_path, clip):
    assert parse_source("camera").camera == 0
    assert parse_source("camera:2").camera == 2
    assert parse_source(str(clip)).video == clip
    with pytest.raises(LiveSourceError, match=r"camera:N .*Received: 'camera:x'"):
        parse_source("camera:x")
    with pytest.raises(LiveSourceError, match="which is no file"):
        parse_source(str(tmp_path / "missing.mp4"))


def _wait(condition, seconds=10.0):
    deadline = time.perf_counter() + seconds
    while not condition() and time.perf_counter() < deadline:
        time.sleep(0.01)
    return condition()


def test_a_video_is_read_to_its_end_and_the_slot_holds_the_newest(clip):
    source = FrameSource(parse_source(str(clip)), realtime=False)
    try:
        first = source.latest()
        assert first.number == 0 and first.pixels.shape == (480, 640, 3)
        assert first.pixels.dtype == np.uint8 and not first.pixels.flags.writeable
        seen = [0]

        def take() -> bool:
            frame = source.latest(after=seen[-1])
            if frame is not None:
                seen.append(frame.number)
            return source.done

        source.start()
        assert _wait(take)
        assert source.ended and not source.failure
        assert source.frames_read == 30
        # unpaced: the next frame is decoded only once the newest was taken, so a
        # consumer that keeps asking sees every frame, in order
        assert seen == list(range(30))
        assert source.latest().number == 29
        assert source.latest(after=29) is None  # nothing newer: the consumer waits
    finally:
        source.close()


def test_a_realtime_source_overwrites_frames_nobody_took(clip):
    source = FrameSource(parse_source(str(clip)), realtime=True)
    try:
        source.start()
        assert _wait(lambda: source.done)
        assert source.latest().number == 29  # only the newest is kept; 1..28 were dropped
    finally:
        source.close()


def test_step_reads_one_frame_at_a_time_while_paused(clip):
    source = FrameSource(parse_source(str(clip)), realtime=True)
    try:
        numbers = [source.step().number for _ in range(3)]
        assert numbers == [1, 2, 3]  # frame 0 was read when the source opened
    finally:
        source.close()


def test_a_realtime_video_plays_at_its_own_rate(clip):
    source = FrameSource(parse_source(str(clip)), realtime=True)
    try:
        started = time.perf_counter()
        source.start()
        assert _wait(lambda: source.done)
        seconds = time.perf_counter() - started
    finally:
        source.close()
    assert seconds >= 29 / 30 * 0.9  # 30 frames at 30 fps, not as fast as decoding


def test_an_unreadable_video_says_so(tmp_path):
    bad = tmp_path / "notes.avi"
    bad.write_text("this is not a video")
    with pytest.raises(LiveSourceError, match=r"notes\.avi, which is not a video it can decode"):
        FrameSource(parse_source(str(bad)))


def test_a_camera_that_is_not_there_says_so():
    with pytest.raises(LiveSourceError, match="no camera at index 7"):
        FrameSource(parse_source("camera:7"))


class _Camera:
    """A fake camera that gives ``frames`` frames and then fails (unplugged)."""

    def __init__(self, frames: int) -> None:
        self.left = frames

    def isOpened(self):
        return True

    def get(self, _prop):
        return 0.0

    def read(self):
        if self.left == 0:
            return False, None
        self.left -= 1
        return True, np.full((4, 6, 3), self.left, np.uint8)

    def release(self):
        pass


def test_a_camera_unplugged_mid_run_keeps_the_last_frame_and_says_so():
    source = FrameSource(parse_source("camera:0"), opener=lambda _target: _Camera(3))
    try:
        source.start()
        assert _wait(lambda: source.done)
        assert not source.ended
        assert "camera 0 stopped sending frames (unplugged?) after 3 frames" in source.failure
        assert source.latest().number == 2  # the last frame stays
    finally:
        source.close()


def test_find_cameras_lists_those_that_open():
    opened = {1, 3}

    class Probe(_Camera):
        def __init__(self, index):
            super().__init__(1)
            self.index = index

        def isOpened(self):
            return self.index in opened

    assert find_cameras(4, opener=Probe) == [1, 3]


def test_seek_makes_the_next_frame_the_one_asked_for(clip):
    source = FrameSource(parse_source(str(clip)), realtime=True)
    try:
        source.seek(12)
        assert source.step().number == 12
        first = FrameSource(parse_source(str(clip)), realtime=True)
        try:
            for _ in range(12):
                expected = first.step()
        finally:
            first.close()
        assert expected.number == 12
        source.seek(12)
        assert np.array_equal(source.step().pixels, expected.pixels)  # the same picture
    finally:
        source.close()
