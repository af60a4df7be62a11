"""Worker-side state: the loaded model, its Inspector and prepared images.

Only jobs running on the ``ModelWorker`` thread call ``EngineCache``; nothing in
here is touched by the GUI thread, so it needs no locks. What leaves it is
frozen: ``SessionState`` (with an ``Inspection``) or ``UnsafeRefusal``.

``inspector`` and ``models`` are imported inside the functions, on the worker
thread, so that TensorFlow's import never delays the first window.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from gui.jobs.model_summary import ModelSummary, summarise

Box = tuple[int, int, int, int]
_MODELS_KEPT = 2  # the current model and the one before, so a failed switch costs nothing
_IMAGES_KEPT = 4


@dataclass(frozen=True)
class Request:
    """What the user asked to see. ``crop`` None means automatic (face or centre);
    ``preprocess`` is a preset of ``inspector.engine.preprocessing`` (``auto``
    recognises the model's family); ``labels_path`` a class-names file for the
    chosen ``output`` (an index of the model's outputs)."""

    model_path: Path | None = None
    unsafe: bool = False
    image_path: Path | None = None
    crop: Box | None = None
    target: int | None = None
    preprocess: str = "auto"
    labels_path: Path | None = None
    output: int = 0  # which model output is scored (several heads: the Output picker)


@dataclass(frozen=True)
class SessionState:
    """One complete, consistent answer: everything every view shows.

    Attributes:
        request: the request this answers.
        summary: the model's layer tree.
        original: the image file as uint8 RGB ``(H, W, 3)`` before cropping (read-only).
        crop: the ``(left, top, right, bottom)`` box used, in ``original`` pixels,
            or None when the whole image was used.
        crop_kind: ``"face"``, ``"user"``, ``"centre"`` or ``"none"`` (whole image).
        inspection: the forward+backward pass for this image and target.
        seconds: time spent on the worker thread for this answer.
        outputs: every model output (``inspector.engine.extraction.OutputDescription``):
            name, shape and whether it scores classes or gives values.
    """

    request: Request
    summary: ModelSummary
    original: np.ndarray
    crop: Box | None
    crop_kind: str
    inspection: Any  # inspector.Inspection (not imported here: see module docstring)
    seconds: float = 0.0
    outputs: tuple = ()
    live: LiveFrame | None = None  # set for a frame of a live source


@dataclass(frozen=True)
class LiveFrame:
    """Which live frame a state answers, for the status bar and the latency.

    Attributes:
        source: the source in words (``"camera 0"``, ``"clip.mp4"``).
        number: the frame's number in the stream.
        captured: ``time.perf_counter()`` when it was decoded.
        track: how its crop was chosen, in words (``"face tracked"``...).
    """

    source: str
    number: int
    captured: float
    track: str


@dataclass(frozen=True)
class UnsafeRefusal:
    """A model was refused because it carries code; the user may choose to trust it."""

    path: Path
    message: str


@dataclass(frozen=True)
class EngineContext:
    """What a worker job may use: the live model objects of the last answer."""

    model: Any  # keras.Model
    inspector: Any  # inspector.Inspector
    prepared: Any  # inspector.PreparedImage
    state: SessionState | None


@dataclass(frozen=True)
class EngineInfo:
    """What the first job found: the bundled model and training run, if shipped."""

    default_model: Path | None
    default_run: Path | None


@dataclass(frozen=True)
class _ModelEntry:
    model: Any
    inspector: Any
    summary: ModelSummary
    outputs: tuple = ()


@dataclass(frozen=True)
class _ImageEntry:
    original: np.ndarray
    prepared: Any
    crop: Box | None
    crop_kind: str


def _labelled(inspector, request: Request):
    """The inspector with the request's class-names file applied (if any)."""
    if request.labels_path is None:
        return inspector
    from inspector.engine.labels import load_labels

    return inspector.with_labels(load_labels(request.labels_path), request.output)


def _file_key(path: Path) -> tuple[str, int]:
    path = Path(path)
    return str(path.resolve()), path.stat().st_mtime_ns if path.exists() else 0


class EngineCache:
    """Loads models and images once and answers requests (worker thread only)."""

    def __init__(self) -> None:
        self._models: OrderedDict[tuple, _ModelEntry] = OrderedDict()
        self._images: OrderedDict[tuple, _ImageEntry] = OrderedDict()
        # The last answer's model entry, image, state and inspector (labelled as asked).
        self._last: tuple | None = None

    @staticmethod
    def import_engine() -> EngineInfo:
        """Import TensorFlow, Keras and the engine (the slow part of a cold start),
        and find the bundled model and run."""
        import inspector  # noqa: F401

        model, run = bundled_paths()
        return EngineInfo(model, run)

    def answer(self, request: Request) -> SessionState | UnsafeRefusal:
        """Compute everything the views show for ``request``.

        Raises:
            InspectorError: no model, a bad model or image, a bad crop or target.
        """
        from inspector.engine.errors import ImageLoadError, ModelLoadError, UnsafeModelError

        started = time.perf_counter()
        if request.model_path is None:
            raise ModelLoadError(
                "Expected a model to inspect. Received: none. Open a .keras or .h5 file "
                "(File > Open model...) or drop one on the window."
            )
        try:
            entry = self._model(request.model_path, request.unsafe)
        except UnsafeModelError as error:
            return UnsafeRefusal(Path(request.model_path), str(error))
        if request.image_path is None:
            raise ImageLoadError(
                "Expected an image to inspect. Received: none. Open an image "
                "(File > Open image...) or drop one on the window."
            )
        image = self._image(request.image_path, request.crop, entry, request.preprocess)
        inspector = _labelled(entry.inspector, request)
        inspection = inspector.inspect(image.prepared, target=request.target, output=request.output)
        state = SessionState(
            request=request,
            summary=entry.summary,
            original=image.original,
            crop=image.crop,
            crop_kind=image.crop_kind,
            inspection=inspection,
            seconds=time.perf_counter() - started,
            outputs=entry.outputs,
        )
        self._last = (entry, image, state, inspector)
        return state

    def answer_frame(self, request: Request, frame, source: str, tracker) -> SessionState:
        """``answer`` for one live frame instead of the request's image file.

        Args:
            request: model, target, output, preprocessing and labels as for a still.
            frame: an ``inspector.live.frames.Frame`` (uint8 RGB pixels).
            source: the source in words, for the state and the inspection's name.
            tracker: the stream's ``inspector.live.tracker.FaceTracker``, or None
                for ``request.crop`` (the user's box) or the centre.

        The frame goes through the same ``prepare_image`` as a still photo with the
        same box, so a frozen frame saved as PNG inspects to the same numbers.
        """
        from PIL import Image

        from inspector.engine.crop_policy import CropChoice, centre_box, checked_box
        from inspector.engine.image_loading import prepare_image

        started = time.perf_counter()
        entry = self._model(request.model_path, request.unsafe)
        pixels = frame.pixels
        height, width = entry.inspector.input_shape[:2]
        aspect = width / height if height and width else pixels.shape[1] / pixels.shape[0]
        if request.crop is not None:
            choice, words = CropChoice(checked_box(request.crop, pixels.shape), "user"), "your box"
        elif tracker is not None and (track := tracker.update(pixels)).box is not None:
            choice, words = CropChoice(track.box, "face"), track.words
        else:
            centre = centre_box(pixels.shape, aspect)
            choice = CropChoice(centre, "centre" if centre is not None else "none")
            words = track.words if tracker is not None else "centre"
        name = f"{source} frame {frame.number:06d}"
        prepared = prepare_image(
            Image.fromarray(pixels),
            name,
            entry.model,
            crop=choice.loader_box,
            preprocess=request.preprocess,
        )
        inspector = _labelled(entry.inspector, request)
        inspection = inspector.inspect(prepared, target=request.target, output=request.output)
        state = SessionState(
            request=replace(request, image_path=Path(name)),
            summary=entry.summary,
            original=pixels,
            crop=choice.box,
            crop_kind=choice.kind,
            inspection=inspection,
            seconds=time.perf_counter() - started,
            outputs=entry.outputs,
            live=LiveFrame(source, frame.number, frame.captured, words),
        )
        self._last = (
            entry,
            _ImageEntry(pixels, prepared, choice.box, choice.kind),
            state,
            inspector,
        )
        return state

    def context(self) -> EngineContext:
        """The model objects of the last answer, for follow-up jobs."""
        from inspector.engine.errors import InspectorError

        if self._last is None:
            raise InspectorError(
                "Expected a model and an image to be open. Received: nothing open yet."
            )
        entry, image, state, inspector = self._last
        return EngineContext(entry.model, inspector, image.prepared, state)

    # --- models -----------------------------------------------------------------
    def _model(self, path: Path, unsafe: bool) -> _ModelEntry:
        from inspector import Inspector
        from inspector.engine.model_loading import load_model

        key = (*_file_key(path), unsafe)
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        model = load_model(path, unsafe=unsafe)
        inspector = Inspector(model)
        entry = _ModelEntry(
            model, inspector, summarise(model, str(path)), inspector.describe_outputs()
        )
        self._models[key] = entry
        while len(self._models) > _MODELS_KEPT:
            self._models.popitem(last=False)
        return entry

    # --- images -----------------------------------------------------------------
    def _image(
        self, path: Path, crop: Box | None, entry: _ModelEntry, preprocess: str = "auto"
    ) -> _ImageEntry:
        key = (*_file_key(path), crop, id(entry.model), preprocess)
        if key not in self._images:
            self._images[key] = self._load_image(Path(path), crop, entry, preprocess)
            while len(self._images) > _IMAGES_KEPT:
                self._images.popitem(last=False)
        self._images.move_to_end(key)
        return self._images[key]

    @staticmethod
    def _load_image(
        path: Path, crop: Box | None, entry: _ModelEntry, preprocess: str = "auto"
    ) -> _ImageEntry:
        from inspector.engine.crop_policy import choose_crop
        from inspector.engine.image_loading import open_image, prepare_image
        from inspector.engine.inspection import read_only

        # Decode once: the RGB original feeds the face crop and the crop view,
        # the decoded picture itself is prepared for the model.
        picture = open_image(path)
        original = read_only(np.asarray(picture.convert("RGB")))
        choice = choose_crop(original, entry.inspector.input_shape[:2], box=crop)
        prepared = prepare_image(
            picture, path, entry.model, crop=choice.loader_box, preprocess=preprocess
        )
        return _ImageEntry(original, prepared, choice.box, choice.kind)


def bundled_paths() -> tuple[Path | None, Path | None]:
    """The shipped default model file and run directory, each None if not there."""
    from models.default_model import default_model_path, default_run_path

    model, run = Path(default_model_path()), Path(default_run_path())
    return (model if model.is_file() else None), (run if run.is_dir() else None)
