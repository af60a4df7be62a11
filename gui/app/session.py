"""The app's state, and the only place that submits inspection jobs.

The session keeps two states:

* ``requested``: what the user asked for last (model file, image file, crop,
  target class). Every change submits ONE job of kind ``"inspect"`` that computes
  the whole answer on the worker thread, so a newer request supersedes an older
  one whatever changed.
* ``state``: the last answer that succeeded, a frozen ``SessionState``. On an
  error ``requested`` falls back to it, so the app keeps showing what it showed.

While a live source runs (``gui.app.live_controller``), frames are answered by
jobs of kind ``"live"`` with the current ``requested`` settings; a change of
target, output, crop, preprocessing or labels then only updates ``requested``,
and the next frame uses it. Opening an image ends live mode.

The loaded Keras model and the prepared image live in an ``EngineCache``
(``gui.jobs.engine_cache``) that only the worker thread touches; the GUI thread
only ever sees frozen results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QObject, pyqtSignal

from gui.jobs.engine_cache import (
    Box,
    EngineCache,
    EngineContext,
    EngineInfo,
    Request,
    SessionState,
    UnsafeRefusal,
)
from gui.jobs.worker import ModelWorker

INSPECT = "inspect"
LIVE = "live"
ENGINE = "engine"
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_images"
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
        live_ended(reason): live mode ended because of the session (an image was
            opened, or a frame failed); the live controller closes its source.
        frame_answered(SessionState): a live frame's answer, just before it is
            published for painting (the controller hands the worker the next frame
            then, so the model works while the views paint).
        unsafe_model_refused(path, message): a model with Lambda code was refused.
        engine_ready(EngineInfo): TensorFlow and the engine are imported.
        notice(message): something the user should know that is not an error.
    """

    state_changed = pyqtSignal(object)
    error = pyqtSignal(str, str)
    unsafe_model_refused = pyqtSignal(object, str)
    engine_ready = pyqtSignal(object)
    notice = pyqtSignal(str)
    live_ended = pyqtSignal(str)
    frame_answered = pyqtSignal(object)

    def __init__(
        self,
        worker: ModelWorker | None = None,
        parent: QObject | None = None,
        cache: EngineCache | None = None,
    ) -> None:
        super().__init__(parent)
        self.worker = worker or ModelWorker(self)
        self.requested = Request()
        self.state: SessionState | None = None
        # Touched only by jobs, i.e. on the worker thread. Tests pass one shared
        # cache so that each window does not reload and retrace the same model.
        self._cache = cache or EngineCache()
        self.engine_info: EngineInfo | None = None
        self._startup: Request | None = None
        # The bundled model on a sample: what a failed startup request falls back to.
        self._startup_fallback: tuple[int, Request] | None = None
        self._titles: dict[int, str] = {}
        self.live_source: str | None = None  # the live source in words, while one runs
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)

    # --- requests from the GUI ----------------------------------------------------
    def start(
        self,
        model_path: Path | None = None,
        image_path: Path | None = None,
        unsafe: bool = False,
        *,
        crop: Box | None = None,
    ) -> None:
        """Import the engine on the worker (the window shows meanwhile), then open
        ``model_path`` (default: the bundled model) with ``image_path`` (default:
        the first sample image) cropped to ``crop`` (default: automatic)."""
        self._startup = Request(
            model_path=Path(model_path) if model_path else None,
            unsafe=unsafe,
            image_path=Path(image_path) if image_path else next(iter(sample_images()), None),
            crop=tuple(crop) if crop and image_path else None,
        )
        self.worker.submit(ENGINE, EngineCache.import_engine)

    def open_model(self, path: str | Path, unsafe: bool = False) -> int:
        """Load a ``.keras``/``.h5`` model; keeps the image (or takes the first sample)."""
        image = self.requested.image_path or next(iter(sample_images()), None)
        # A new model: its own preprocessing (auto) and class names (its file's).
        request = replace(
            self.requested,
            model_path=Path(path),
            unsafe=unsafe,
            image_path=image,
            target=None,
            preprocess="auto",
            labels_path=None,
            output=0,
        )
        return self._submit(request, f"Could not open the model {Path(path).name}")

    def open_image(self, path: str | Path, crop: Box | None = None) -> int:
        """Show an image file with the current model (crop None = automatic)."""
        self.end_live("an image was opened")
        request = replace(self.requested, image_path=Path(path), crop=crop, target=None)
        return self._submit(request, f"Could not open the image {Path(path).name}")

    # --- live frames ----------------------------------------------------------------
    def begin_live(self, source: str) -> None:
        """Frames of ``source`` (in words) will come; settings changes wait for them.
        The crop goes back to automatic, so that the face tracker chooses it."""
        self.live_source = source
        self.requested = replace(self.requested, crop=None)

    def show_frame(self, frame, tracker) -> int:
        """Inspect one live frame (``inspector.live.frames.Frame``) on the worker with
        the current settings; the answer is published like any other state."""
        cache, request, source = self._cache, self.requested, self.live_source or "live"
        return self.worker.submit(LIVE, lambda: cache.answer_frame(request, frame, source, tracker))

    def end_live(self, reason: str = "", frozen: Path | None = None) -> None:
        """Leave live mode. With ``frozen`` (the shown frame saved as a PNG), that
        file becomes the current image, with the frame's crop, without a new
        pass: the shown answer already is its answer."""
        if self.live_source is None:
            return
        self.live_source = None
        if frozen is not None and self.state is not None:
            self.requested = replace(
                self.state.request, image_path=Path(frozen), crop=self.state.crop
            )
            self.state = replace(self.state, request=self.requested)
        if reason:
            self.live_ended.emit(reason)

    def set_crop(self, box: Box | None) -> int:
        """Crop the current image to ``box`` ``(left, top, right, bottom)`` (None = automatic)."""
        box = None if box is None else tuple(int(v) for v in box)
        return self._submit(replace(self.requested, crop=box), "Could not crop the image")

    def set_target(self, target: int | None) -> int:
        """Differentiate the score of class ``target`` (None = the predicted class)."""
        return self._submit(replace(self.requested, target=target), "Could not change the target")

    def set_output(self, output: int) -> int:
        """Score model output ``output`` (an index); its own classes, so the target and
        the class names file (which named the previous output's classes) are reset."""
        request = replace(self.requested, output=int(output), target=None, labels_path=None)
        return self._submit(request, f"Could not score output {output}")

    def set_preprocess(self, preset: str) -> int:
        """Scale the input with ``preset`` (``auto``, ``none``, ``tf``, ``torch``,
        ``caffe``, ``0-1``, ``0-255``) instead of the recognised one."""
        return self._submit(
            replace(self.requested, preprocess=preset), f"Could not apply the preset {preset}"
        )

    def set_labels(self, path: str | Path | None) -> int:
        """Name the model's classes from a .txt or .json file (None: the model's own)."""
        labels = Path(path) if path is not None else None
        name = labels.name if labels is not None else "the model's own class names"
        return self._submit(
            replace(self.requested, labels_path=labels), f"Could not use the labels {name}"
        )

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
        self._startup = None  # the user asked for something: the startup default is moot
        self._startup_fallback = None
        self.requested = request
        if self.live_source is not None:
            return 0  # the next live frame is answered with these settings
        cache = self._cache
        request_id = self.worker.submit(INSPECT, lambda: cache.answer(request))
        self._titles = {request_id: title}
        return request_id

    def _on_finished(self, kind: str, request_id: int, result: object) -> None:
        if kind == ENGINE:
            self._on_engine_ready(result)
        if kind == LIVE and self.live_source is not None:
            self.state = result
            self.frame_answered.emit(result)
            self.state_changed.emit(result)
        if kind != INSPECT:
            return
        if isinstance(result, UnsafeRefusal):
            self._fall_back()
            self.unsafe_model_refused.emit(result.path, result.message)
            return
        self._startup_fallback = None
        self.state = result
        self.requested = result.request
        self.state_changed.emit(result)

    def _on_failed(self, kind: str, request_id: int, message: str) -> None:
        if kind == ENGINE:
            self.error.emit("Could not start the engine", message)
        if kind == LIVE and self.live_source is not None:
            self.live_source = None
            self.live_ended.emit(message)
            self.error.emit("Live stopped", message)
        if kind != INSPECT:
            return
        self._fall_back()
        title = self._titles.get(request_id, "Request failed")
        if self.open_startup_fallback(request_id):
            message += " Showing the bundled model instead."
        self.error.emit(title, message)

    def open_startup_fallback(self, request_id: int | None = None) -> bool:
        """After the files given at startup failed (or were refused), open the bundled
        model on a sample image instead of loading for ever; False if there is none
        to fall back to (or the user has asked for something else meanwhile)."""
        pending, self._startup_fallback = self._startup_fallback, None
        if pending is None or self.state is not None:
            return False
        failed_id, fallback = pending
        if request_id is not None and request_id != failed_id:
            return False
        self._submit(fallback, f"Could not open the model {fallback.model_path.name}")
        return True

    def _fall_back(self) -> None:
        self.requested = self.state.request if self.state else Request()

    def _on_engine_ready(self, info: EngineInfo) -> None:
        self.engine_info = info
        startup, self._startup = self._startup, None
        # The startup request is submitted before engine_ready is emitted, so that a
        # listener sees the worker busy with it ("Engine ready" never says idle then).
        if startup is None:
            self.engine_ready.emit(info)
        elif startup.model_path is None and info.default_model is None:
            self.engine_ready.emit(info)
            self.notice.emit(
                "No bundled model found (models/default/face_cnn.keras). "
                "Open a model with File > Open model… or drop a .keras file on the window."
            )
        else:
            self._submit_startup(startup, info)
            self.engine_ready.emit(info)

    def _submit_startup(self, startup: Request, info: EngineInfo) -> None:
        model = startup.model_path or info.default_model
        # Either file may be the bad one: the message says which, the title names both.
        title = f"Could not open the model {model.name}"
        if startup.image_path is not None:
            title = f"Could not open {model.name} on {Path(startup.image_path).name}"
        request_id = self._submit(replace(startup, model_path=model), title)
        fallback = Request(
            model_path=info.default_model, image_path=next(iter(sample_images()), None)
        )
        if info.default_model is not None and fallback != self.requested:
            self._startup_fallback = (request_id, fallback)


def describe_state(state: SessionState) -> str:
    """One status-bar line: model, image, crop and prediction."""
    inspection = state.inspection
    image = Path(inspection.source).name if inspection.source else "array"
    crop = {"face": "face crop", "user": "your crop", "centre": "centre crop"}.get(
        state.crop_kind, "whole image"
    )
    preset = f" · input {_input_words(inspection.preprocess)}" if inspection.preprocess else ""
    if getattr(inspection, "probability_rule", "softmax") == "none":
        said = f"values of {inspection.output_name}"  # a regression head predicts no class
    elif getattr(inspection, "unknown", False):  # a recogniser: nobody it knows
        said = f"unknown person (nearest {inspection.predicted_label}, "
        said += f"{_predicted_probability(inspection)})"
    else:
        said = f"predicted {inspection.predicted_label} ({_predicted_probability(inspection)})"
    return (
        f"{inspection.model_name} · {image} ({crop}){preset} · {said} · "
        f"target {inspection.target_label} · {state.seconds * 1000:.0f} ms"
    )


def _input_words(preprocess) -> str:
    """``"tf (model name)"``, ``"0-255 (stored with the model)"``, ``"0-1 (a guess)"``: the
    preset and where it came from, short enough for the status bar (the tooltip of the
    Input scaling picker has the whole reason)."""
    short = {
        "sidecar": "stored with the model",
        "model_name": "model name",
        "layer_names": "layer names",
        "user": "your choice",
        "default": "a guess",
    }
    return f"{preprocess.preset} ({short.get(preprocess.source, preprocess.source)})"


def _predicted_probability(inspection) -> str:
    from inspector.render.probability import format_probability

    value = inspection.probabilities[inspection.predicted]
    return format_probability(value, getattr(inspection, "probability_rule", "softmax"))


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
