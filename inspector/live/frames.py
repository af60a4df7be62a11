"""A camera or a video, decoded on its own thread, of which only the newest frame is kept.

Why a slot and not a queue: a model slower than the camera must answer the
newest frame, never a backlog. The reader overwrites the slot; whoever takes
frames (the app's model worker) asks for the newest one newer than the last it
took, and every frame in between is dropped, counted but never queued.

Capture is OpenCV's ``VideoCapture`` (``opencv-python-headless``): one call opens
a V4L2/DirectShow/AVFoundation camera or decodes a video file with its bundled
FFmpeg, on a plain thread, frame by frame, which *Step* needs. Frames are RGB.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.engine.errors import InspectorError

# The rate a file is played at when it does not say its own.
DEFAULT_FPS = 30.0
SOURCE_HELP = "camera, camera:N (the N-th camera) or a video file"


class LiveSourceError(InspectorError):
    """A camera or a video that cannot be opened or read."""


@dataclass(frozen=True)
class Frame:
    """One decoded frame.

    Attributes:
        pixels: uint8 RGB ``(H, W, 3)``, read-only.
        number: 0-based index in the stream (a video's frame number).
        captured: ``time.perf_counter()`` when it was decoded: latency starts here.
    """

    pixels: np.ndarray
    number: int
    captured: float


@dataclass(frozen=True)
class SourceSpec:
    """What ``--live`` named: a camera index or a video path; ``label`` in words."""

    camera: int | None
    video: Path | None

    @property
    def label(self) -> str:
        return f"camera {self.camera}" if self.camera is not None else self.video.name


def parse_source(text: str) -> SourceSpec:
    """``camera`` -> camera 0, ``camera:N`` -> camera N, anything else a video file.

    Raises:
        LiveSourceError: a bad camera index or a video file that does not exist.
    """
    text = str(text).strip()
    if text == "camera" or text.startswith("camera:"):
        index = text.partition(":")[2] or "0"
        if not index.isdigit():
            raise LiveSourceError(f"Expected {SOURCE_HELP}. Received: {text!r}.")
        return SourceSpec(int(index), None)
    path = Path(text).expanduser()
    if not path.is_file():
        raise LiveSourceError(f"Expected {SOURCE_HELP}. Received: {text!r}, which is no file.")
    return SourceSpec(None, path)


def _open_capture(target: int | str):
    import os

    # OpenCV prints its own warnings for a camera that is not there; we say it once.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    import cv2

    return cv2.VideoCapture(target)


def find_cameras(count: int = 4, opener: Callable = _open_capture) -> list[int]:
    """The indices among ``0..count-1`` of the cameras that open (may take ~0.1 s each)."""
    found = []
    for index in range(count):
        capture = opener(index)
        if capture.isOpened():
            found.append(index)
        capture.release()
    return found


class FrameSource:
    """Reads ``spec`` on a background thread and keeps only the newest frame.

    Args:
        spec: from ``parse_source``.
        realtime: play a video at its own frame rate (a camera always is); False
            decodes the next frame as soon as the newest one has been taken, so
            that a consumer gets every frame as fast as it can handle them
            (benchmarks, tests).
        opener: ``target -> capture`` with ``isOpened``, ``read``, ``get`` and
            ``release`` (default: OpenCV's ``VideoCapture``).

    Raises:
        LiveSourceError: the camera or file does not open, or gives no first frame.
    """

    def __init__(self, spec: SourceSpec, realtime: bool = True, opener: Callable = _open_capture):
        self.spec = spec
        self.realtime = realtime and spec.video is not None
        target = spec.camera if spec.camera is not None else str(spec.video)
        try:
            self._capture = opener(target)
        except ImportError as error:
            raise LiveSourceError(
                "Expected OpenCV for live capture (pip install opencv-python-headless). "
                f"Received: {error}."
            ) from None
        if not self._capture.isOpened():
            self._capture.release()
            what = (
                f"no camera at index {spec.camera}"
                if spec.camera is not None
                else f"{spec.video.name}, which is not a video it can decode"
            )
            raise LiveSourceError(f"Expected {SOURCE_HELP} that opens. Received: {what}.")
        self.fps = float(self._capture.get(5) or 0) or DEFAULT_FPS  # 5: CAP_PROP_FPS
        self._lock = threading.Lock()  # guards the capture, the slot and the status
        self._running = threading.Event()  # cleared: paused
        self._stop = threading.Event()
        self._taken = threading.Event()  # the newest frame was handed out
        self._frame: Frame | None = None
        self._read = 0
        self.ended = False  # a video reached its end
        self.failure = ""  # a camera that stopped, in words
        first = self._next()
        if first is None:
            self._capture.release()
            raise LiveSourceError(
                f"Expected {SOURCE_HELP} that gives frames. Received: no frame from {spec.label}."
            )
        self._thread: threading.Thread | None = None

    # --- the reader thread -----------------------------------------------------------
    def start(self) -> None:
        """Start (or resume) reading in the background."""
        self._running.set()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="live-reader", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        started, first = time.perf_counter(), self._read
        while not self._stop.is_set():
            if not self._running.wait(0.05):
                started, first = time.perf_counter(), self._read  # paused: restart the clock
                continue
            if not self.realtime and self.spec.video is not None:
                # Unpaced: decode ahead by one frame only, never faster than taken.
                if not self._taken.wait(0.05):
                    continue
                self._taken.clear()
            if self._next() is None:
                return
            if self.realtime:  # a video plays at its own rate, not as fast as it decodes
                due = started + (self._read - first) / self.fps
                self._stop.wait(max(0.0, due - time.perf_counter()))

    def _next(self) -> Frame | None:
        """Decode one frame into the slot; None (with ``ended`` or ``failure``) at the end."""
        with self._lock:
            ok, bgr = self._capture.read()
            if not ok or bgr is None:
                if self.spec.video is not None:
                    self.ended = True
                else:
                    self.failure = (
                        f"{self.spec.label} stopped sending frames (unplugged?) after "
                        f"{self._read} frames; showing the last one."
                    )
                return None
            pixels = np.ascontiguousarray(bgr[..., ::-1])  # OpenCV decodes BGR
            pixels.setflags(write=False)
            self._frame = Frame(pixels, self._read, time.perf_counter())
            self._read += 1
            return self._frame

    # --- for the consumer ------------------------------------------------------------
    def latest(self, after: int = -1) -> Frame | None:
        """The newest frame if its number is above ``after``, else None."""
        with self._lock:
            frame = self._frame
        if frame is None or frame.number <= after:
            return None
        self._taken.set()
        return frame

    @property
    def frames_read(self) -> int:
        return self._read

    @property
    def done(self) -> bool:
        """The stream will give no more frames (a video ended or a camera failed)."""
        return self.ended or bool(self.failure)

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self.start()

    def seek(self, number: int) -> None:
        """A video: the next frame read is ``number`` (a frozen frame's successor,
        so that *Step* and resuming go on from what was shown, not from what the
        reader had decoded meanwhile). Cameras ignore it."""
        if self.spec.video is None:
            return
        with self._lock:
            self._capture.set(1, float(number))  # 1: CAP_PROP_POS_FRAMES
            self._read = int(number)
            self.ended = False

    def step(self) -> Frame | None:
        """While paused: decode the next frame now (a video's *Step*); None at the end."""
        self.pause()
        return self._next()

    def close(self) -> None:
        """Stop the reader and release the camera or file (safe to call twice)."""
        self._stop.set()
        self._running.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        with self._lock:
            self._capture.release()
