"""Live mode: a camera or a video drives every view, frame by frame.

The pipeline, and why it never falls behind:

* ``inspector.live.frames.FrameSource`` decodes on its own thread into a
  one-frame slot (newest wins);
* this controller hands the newest frame to the model worker only when the
  previous one has been answered: one frame in flight, never a queue, so every
  frame the model could not reach is dropped, and latency cannot grow. The next
  frame is handed over just before the answer is painted, so the worker
  computes while the GUI thread paints (two cores, two stages);
* the answer is an ordinary ``SessionState`` (``Session.show_frame``), so every
  view that shows one image follows the stream with no live code of its own.

*Freeze* (Space) keeps the shown frame: it is saved as a PNG under the user's
cache and becomes the current image, with its crop and without a new pass, so
the app explores and exports it as any still. *Step* (a video) shows one more
frame and stays frozen. The frozen frames of a run are listed for *Export
frozen frames…*. Latency runs from a frame's decoding to the end of its paint.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, QTimer, pyqtSignal

from gui.app.session import Session
from gui.jobs.engine_cache import SessionState
from gui.jobs.long_jobs import LongJobs

POLL_MS = 5  # how often an idle controller looks for a new frame
STATUS_EVERY_S = 0.25  # the status line is rewritten at most this often
WINDOW = 60  # frames the rate and latency figures are taken over
EXPORT_FROZEN = "export_frozen"


class LiveController(QObject):
    """Runs one live source at a time through the session.

    Args:
        session: publishes each frame's answer as its state.
        show_error: ``(title, message)`` for a source that fails.
        frozen_root: where frozen frames are saved (a folder per run is made).
        realtime: play videos at their own rate (False: as fast as they decode).

    Signals:
        status(text): frames per second, latency, tracking and drops, in words.
        running_changed(bool): a source started or stopped.
    """

    status = pyqtSignal(str)
    running_changed = pyqtSignal(bool)

    def __init__(
        self,
        session: Session,
        *,
        show_error: Callable[[str, str], None],
        frozen_root: Path | None = None,
        realtime: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.show_error = show_error
        self.frozen_root = frozen_root
        self.realtime = realtime
        self.source = None  # inspector.live.frames.FrameSource while a source is open
        self.tracker = None
        self.frozen = False
        self.frozen_frames: list[tuple[Path, object]] = []  # (PNG, the Request it answers)
        self.latencies: list[float] = []  # seconds, every frame painted this run
        self.shown = 0
        self._in_flight = False
        self._painting = -1  # the number of the frame being painted
        self._stepping = False
        self._last_number = -1
        self._recent: deque[float] = deque(maxlen=WINDOW)  # paint times
        self._last_status = 0.0
        self._run_folder: Path | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._pump)
        session.frame_answered.connect(self._on_answer)
        session.state_changed.connect(self._on_state)
        session.live_ended.connect(self._on_session_ended)
        self.jobs = LongJobs(session, self)
        self.jobs.progressed.connect(self._on_progress)
        session.worker.finished.connect(self._on_job_done)
        session.worker.failed.connect(self._on_job_failed)
        self._export_dialog = None

    # --- starting and stopping ---------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.source is not None

    def start(self, text: str) -> bool:
        """Open ``camera``, ``camera:N`` or a video file and follow it; False (after a
        message) if it does not open. The app keeps what it showed."""
        from inspector.engine.errors import InspectorError
        from inspector.live.frames import FrameSource, parse_source
        from inspector.live.tracker import FaceTracker

        if self.session.state is None:
            self.show_error("Cannot start live", "Expected a model to be open. Received: none.")
            return False
        self.stop()
        try:
            source = FrameSource(parse_source(text), realtime=self.realtime)
        except InspectorError as error:
            self.show_error("Cannot start live", str(error))
            return False
        height, width = self.session.state.inspection.image.shape[:2]
        self.source, self.tracker = source, FaceTracker(width / height)
        self.frozen, self._stepping, self._in_flight = False, False, False
        self._last_number, self.shown = -1, 0
        self.latencies, self._recent = [], deque(maxlen=WINDOW)
        self.frozen_frames, self._run_folder = [], None
        self.session.begin_live(source.spec.label)
        source.start()
        self._timer.start()
        self.running_changed.emit(True)
        return True

    def stop(self, reason: str = "") -> None:
        """Close the source; the last frame stays, as a still (frozen)."""
        if self.source is None:
            return
        self._timer.stop()
        source, self.source = self.source, None
        source.close()
        if self.session.live_source is not None:
            self.session.end_live(frozen=self._save_shown())
        self.frozen = False
        self.running_changed.emit(False)
        if reason:
            self.status.emit(reason)

    def _on_session_ended(self, reason: str) -> None:
        # The session left live mode (an image was opened, or a frame failed): it
        # has already said why, and it keeps no frozen frame, so only close.
        self.stop()

    # --- freezing --------------------------------------------------------------------
    def toggle_freeze(self) -> None:
        """Space: hold the shown frame, or go live again."""
        if self.source is None:
            return
        self.resume() if self.frozen else self.freeze()

    def freeze(self) -> Path | None:
        """Hold the shown frame: saved as a PNG, it becomes the current image."""
        if self.source is None or self.frozen:
            return None
        self.frozen = True
        self._in_flight = False  # a frame still on the worker is not shown (the session drops it)
        shown = self.session.state.live if self.session.state is not None else None
        if self.source.spec.video is not None:
            self.source.pause()
            if shown is not None:
                self.source.seek(shown.number + 1)
        saved = self._save_shown()
        self.session.end_live(frozen=saved)
        if saved is not None:
            self.frozen_frames.append((saved, self.session.requested))
            self.status.emit(f"Frozen: {saved.name} (Space resumes; File > Export saves it)")
        return saved

    def resume(self) -> None:
        if self.source is None or not self.frozen:
            return
        self.frozen = False
        self.session.begin_live(self.source.spec.label)
        self.source.resume()
        QTimer.singleShot(0, self._pump)

    def step(self) -> None:
        """A video's next frame, then frozen again (a camera cannot step)."""
        if self.source is None or self.source.spec.video is None or self._in_flight:
            return
        if not self.frozen:
            self.freeze()
        frame = self.source.step()
        if frame is None:
            self.status.emit("The video has no more frames.")
            return
        self.session.begin_live(self.source.spec.label)
        self._stepping = True
        self._submit(frame)

    def _save_shown(self) -> Path | None:
        """The shown frame as a lossless PNG under the run's folder."""
        state = self.session.state
        if state is None or state.live is None or self.frozen_root is None:
            return None
        from PIL import Image

        from inspector.engine.atomic_files import write_file

        if self._run_folder is None:
            self._run_folder = self.frozen_root / time.strftime("%Y%m%d-%H%M%S")
            self._run_folder.mkdir(parents=True, exist_ok=True)
        path = self._run_folder / f"frame-{state.live.number:06d}.png"
        write_file(path, lambda p: Image.fromarray(np.asarray(state.original)).save(p, "PNG"))
        return path

    def export_frozen(self, folder: Path) -> None:
        """Export every frozen frame of this run into ``folder``, each like a still,
        with a progress dialog that can cancel."""
        from PyQt6.QtWidgets import QProgressDialog

        from gui.jobs.live_jobs import export_frozen_frames

        frames = list(self.frozen_frames)
        if not frames:
            self.status.emit("No frozen frames yet: Space freezes the shown frame.")
            return
        dialog = QProgressDialog(
            f"Exporting {len(frames)} frozen frames…", "Cancel", 0, len(frames), self.parent()
        )
        dialog.setMinimumDuration(300)
        dialog.canceled.connect(lambda: self.jobs.cancel(EXPORT_FROZEN))
        self._export_dialog = dialog
        self.jobs.submit(
            EXPORT_FROZEN,
            lambda context, control: export_frozen_frames(context, control, frames, folder),
        )

    def _on_progress(self, kind: str, done: int, total: int, what: str) -> None:
        if kind == EXPORT_FROZEN and self._export_dialog is not None:
            self._export_dialog.setValue(done)

    def _on_job_done(self, kind: str, request_id: int, result: object) -> None:
        if kind == EXPORT_FROZEN and self.jobs.finished(kind, request_id):
            self._close_export_dialog()
            self.status.emit(f"Exported {len(self.frozen_frames)} frozen frames to {result}")

    def _on_job_failed(self, kind: str, request_id: int, message: str) -> None:
        if kind == EXPORT_FROZEN and self.jobs.finished(kind, request_id):
            self._close_export_dialog()
            self.show_error("Could not export the frozen frames", message)

    def _close_export_dialog(self) -> None:
        if self._export_dialog is not None:
            self._export_dialog.reset()
            self._export_dialog = None

    # --- the loop ----------------------------------------------------------------------
    def _pump(self) -> None:
        source = self.source
        if source is None or self.frozen or self._in_flight:
            return
        frame = source.latest(self._last_number)
        if frame is not None:
            self._submit(frame)
        elif source.done:
            self._finish(source)

    def _submit(self, frame) -> None:
        self._last_number = frame.number
        self._in_flight = True
        self.session.show_frame(frame, self.tracker)

    def _on_answer(self, state: SessionState) -> None:
        """A frame's answer is in, about to be painted: the worker may take the next."""
        if self.source is None or not self._in_flight or state.live.number != self._last_number:
            return  # an answer submitted before a freeze: the worker superseded it
        self._in_flight = False
        self._painting = state.live.number
        if not self._stepping:
            self._pump()

    def _on_state(self, state: SessionState) -> None:
        if state.live is None or self.source is None or state.live.number != self._painting:
            return
        now = time.perf_counter()
        self._painting = -1
        self.shown += 1
        self.latencies.append(now - state.live.captured)
        self._recent.append(now)
        if self._stepping:
            self._stepping = False
            self.frozen = False
            self.freeze()
            return
        if now - self._last_status >= STATUS_EVERY_S:
            self._last_status = now
            self.status.emit(self.describe(state))

    def _finish(self, source) -> None:
        if source.failure:
            message = source.failure
            self.stop()
            self.show_error("Live source stopped", message)
        else:
            self.stop(f"The video ended after {source.frames_read} frames; the last one stays.")

    # --- figures -----------------------------------------------------------------------
    def fps(self) -> float:
        """Frames painted per second over the last ``WINDOW`` frames."""
        if len(self._recent) < 2:
            return 0.0
        return (len(self._recent) - 1) / max(1e-9, self._recent[-1] - self._recent[0])

    def describe(self, state: SessionState) -> str:
        recent = self.latencies[-WINDOW:]
        latency = 1000 * float(np.median(recent)) if recent else 0.0
        dropped = (self.source.frames_read - self.shown) if self.source else 0
        return (
            f"Live {state.live.source}: {self.fps():.1f} fps, latency {latency:.0f} ms, "
            f"{state.live.track}, frame {state.live.number}, {max(0, dropped)} dropped "
            "(Space freezes)"
        )
