"""The app's state, and the only place that submits inspection jobs.

The session keeps two states:

* ``requested``: what the user asked for last (model file, image file, crop,
  target class). Every change submits ONE job of kind ``"inspect"`` that computes
  the whole answer on the worker thread, so a newer request supersedes an older
  one whatever changed.
* ``state``: the last answer that succeeded, a frozen ``SessionState``. On an
  error ``requested`` falls back to it, so the app keeps showing what it showed.

The loaded Keras model and the prepared image live in an ``_EngineCache`` that
only the worker thread touches; the GUI thread only ever sees frozen results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal

from gui.engine_cache import (
    Box,
    EngineCache,
    EngineContext,
    Request,
    SessionState,
    UnsafeRefusal,
)
from gui.worker import ModelWorker

INSPECT = "inspect"
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_images"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


def sample_images(folder: Path = SAMPLE_DIR) -> list[Path]:
    """The bundled sample images, sorted by file name (empty if the folder is missing)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


class Session(QObject):
    """Turns user requests into inspection jobs and publishes the answers.

    Signals:
        state_changed(SessionState): a new answer is ready for the views.
        error(title, message): a request failed; the previous state is kept.
        unsafe_model_refused(path, message): a model with Lambda code was refused.
        engine_ready(): TensorFlow and the engine are imported (first job done).
    """

    state_changed = pyqtSignal(object)
    error = pyqtSignal(str, str)
    unsafe_model_refused = pyqtSignal(object, str)
    engine_ready = pyqtSignal()

    def __init__(self, worker: ModelWorker | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker or ModelWorker(self)
        self.requested = Request()
        self.state: SessionState | None = None
        self._cache = EngineCache()  # touched only by jobs, i.e. on the worker thread
        self._engine_ready = False
        self._titles: dict[int, str] = {}
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)

    # --- requests from the GUI ----------------------------------------------------
    def start_engine(self) -> None:
        """Import TensorFlow and the engine on the worker, so the window shows first."""
        self.worker.submit("engine", EngineCache.import_engine)

    def open_model(self, path: str | Path, unsafe: bool = False) -> int:
        """Load a ``.keras``/``.h5`` model; keeps the image (or takes the first sample)."""
        image = self.requested.image_path or next(iter(sample_images()), None)
        request = replace(
            self.requested, model_path=Path(path), unsafe=unsafe, image_path=image, target=None
        )
        return self._submit(request, f"Could not open the model {Path(path).name}")

    def open_image(self, path: str | Path, crop: Box | None = None) -> int:
        """Show an image file with the current model (crop None = automatic)."""
        request = replace(self.requested, image_path=Path(path), crop=crop, target=None)
        return self._submit(request, f"Could not open the image {Path(path).name}")

    def set_crop(self, box: Box | None) -> int:
        """Crop the current image to ``box`` ``(left, top, right, bottom)`` (None = automatic)."""
        box = None if box is None else tuple(int(v) for v in box)
        return self._submit(replace(self.requested, crop=box), "Could not crop the image")

    def set_target(self, target: int | None) -> int:
        """Differentiate the score of class ``target`` (None = the predicted class)."""
        return self._submit(replace(self.requested, target=target), "Could not change the target")

    def open_default(self, model_path: Path | None, image_path: Path | None) -> int | None:
        """Open the given (or bundled) model with the given (or first sample) image."""
        image = image_path or next(iter(sample_images()), None)
        if model_path is None:
            return None
        request = Request(model_path=Path(model_path), image_path=image)
        return self._submit(request, f"Could not open the model {Path(model_path).name}")

    def submit_engine_job(self, kind: str, job: Callable[[EngineContext], object]) -> int:
        """Run ``job(context)`` on the worker with the loaded model, inspector and image.

        For views that need more computation (attributions, exports). The context
        is the worker-side one, so the job must not keep references to it.
        """
        cache = self._cache
        return self.worker.submit(kind, lambda: job(cache.context()))

    def shutdown(self, timeout_ms: int = 10000) -> None:
        self.worker.shutdown(timeout_ms)

    # --- answers from the worker ---------------------------------------------------
    def _submit(self, request: Request, title: str) -> int:
        self.requested = request
        cache = self._cache
        request_id = self.worker.submit(INSPECT, lambda: cache.answer(request))
        self._titles = {request_id: title}
        return request_id

    def _on_finished(self, kind: str, request_id: int, result: object) -> None:
        if kind == "engine" or (kind == INSPECT and not self._engine_ready):
            self._set_engine_ready()
        if kind != INSPECT:
            return
        if isinstance(result, UnsafeRefusal):
            self._fall_back()
            self.unsafe_model_refused.emit(result.path, result.message)
            return
        self.state = result
        self.requested = result.request
        self.state_changed.emit(result)

    def _on_failed(self, kind: str, request_id: int, message: str) -> None:
        if kind == "engine":
            self.error.emit("Could not start the engine", message)
        if kind != INSPECT:
            return
        self._fall_back()
        self.error.emit(self._titles.get(request_id, "Request failed"), message)

    def _fall_back(self) -> None:
        self.requested = self.state.request if self.state else Request()

    def _set_engine_ready(self) -> None:
        if not self._engine_ready:
            self._engine_ready = True
            self.engine_ready.emit()


def describe_state(state: SessionState) -> str:
    """One status-bar line: model, image, crop and prediction."""
    inspection = state.inspection
    image = Path(inspection.source).name if inspection.source else "array"
    crop = {"face": "face crop", "user": "your crop", "centre": "centre crop"}.get(
        state.crop_kind, "whole image"
    )
    return (
        f"{inspection.model_name} · {image} ({crop}) · predicted "
        f"{inspection.predicted_label} ({inspection.probabilities[inspection.predicted]:.0%}) · "
        f"target {inspection.target_label} · {state.seconds * 1000:.0f} ms"
    )


__all__ = [
    "IMAGE_SUFFIXES",
    "MODEL_SUFFIXES",
    "Box",
    "EngineContext",
    "Request",
    "Session",
    "SessionState",
    "UnsafeRefusal",
    "describe_state",
    "sample_images",
]
