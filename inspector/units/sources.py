"""Where the images come from: one small interface over folders, arrays and datasets.

Mining needs three things from a data set: how many images it lists, a stable
fingerprint of that listing (for the cache key), and the images of a range
``[start, stop)``, batched and read one batch ahead (``batches``). Everything is
read shard by shard, so memory does not grow with the number of images.

Sources: a folder (recursive, any layout), an array (the console (``layer_inspector``)'s provider of
the bundled images returns one), and a ``tf.data.Dataset``. An image is
addressed by its index in the listing. A folder's unreadable files
keep their index but are skipped when read (and counted), so shard boundaries,
and therefore results, never depend on which files happened to be broken.
"""

from __future__ import annotations

import hashlib
import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import tensorflow as tf

from inspector.engine.errors import DatasetError, ImageLoadError
from inspector.engine.image_loading import load_image
from inspector.engine.preprocessing import Preprocessing
from inspector.engine.progress import Progress

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"}


class ImageSource(Protocol):
    """What mining reads. Images are float32 ``(H, W, C)`` in the model's value scale."""

    def __len__(self) -> int: ...

    def fingerprint(self) -> str | None:
        """A hash of the listing (None: the source cannot be cached)."""

    def name_of(self, index: int) -> str | int:
        """How ``units.json`` names image ``index``: a relative path or the index."""

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Images ``[start, stop)`` that could be read, and their int64 indices."""


_END = object()  # the reader's last item


def batches(
    source: ImageSource, start: int, stop: int, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Batches ``(images float32 (B, H, W, C), indices int64 (B,))`` of ``[start, stop)``.

    A reader thread reads up to two batches ahead, so decoding overlaps with the
    model. A reading error is raised here, in the consumer. Closing the iterator
    early (a cancel, an error) stops the reader and joins it, so no thread outlives it.

    Why a thread and not ``tf.data.Dataset.from_generator``: with it, the same
    forward pass over the same batches ran at 3,200-4,900 face images/s (it
    switched between the two from run to run) against 5,800-6,000 reading in a
    plain loop, and mining was held to 1,590 (``benchmarks/bench_units.py``).
    """
    edges = [*range(start, stop, batch_size), stop]
    ahead: queue.Queue = queue.Queue(maxsize=2)
    stopping = threading.Event()

    def offer(item) -> bool:
        while not stopping.is_set():
            try:
                ahead.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read_all() -> None:
        try:
            for low, high in itertools.pairwise(edges):
                if not offer(source.read(low, high)):
                    return
        except BaseException as error:  # raised again in the consumer
            offer(error)
            return
        offer(_END)

    reader = threading.Thread(target=read_all, name="layer-inspector-reader", daemon=True)
    reader.start()
    try:
        while (item := ahead.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            images, indices = item
            if len(indices):
                yield np.asarray(images, np.float32), np.asarray(indices, np.int64)
    finally:
        stopping.set()
        reader.join()


@dataclass
class ArraySource:
    """An in-memory array ``(N, H, W, C)``.

    Without ``preprocess`` the images are model inputs as they are. With it they
    are raw 0..255 pixels (e.g. uint8), turned into model inputs per shard by the
    model's preprocessing: that costs a quarter of the memory of a float32 copy of
    the whole set, and the same preset as every other path. ``is_face``: bool
    ``(N,)``, which images are faces, where the provider knows it (the bundled
    sets do).
    """

    images: np.ndarray
    label: str = "array"
    preprocess: Preprocessing | None = None
    is_face: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.images = np.asarray(self.images)
        if self.images.ndim != 4 or len(self.images) == 0:
            raise DatasetError(
                "Expected a non-empty image array of shape (N, H, W, C). "
                f"Received: shape={self.images.shape}."
            )

    def __len__(self) -> int:
        return len(self.images)

    def fingerprint(self) -> str:
        preset = self.preprocess.preset if self.preprocess is not None else None
        digest = hashlib.sha256(repr((self.images.shape, preset)).encode())
        digest.update(np.ascontiguousarray(self.images).tobytes())
        return digest.hexdigest()

    def name_of(self, index: int) -> int:
        return int(index)

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        images = self.images[start:stop]
        if self.preprocess is not None:
            images = self.preprocess.apply(images)
        return images.astype(np.float32, copy=False), np.arange(start, stop, dtype=np.int64)


@dataclass
class FolderSource:
    """Every image file under a folder, in any layout, found recursively and sorted.

    Args:
        folder: the root folder; names in results are relative to it.
        input_shape: ``(H, W, C)`` the model wants; images are centre-cropped
            and resized to it as ``inspector.engine.load_image`` does.
        preprocess: the model's preprocessing (``decide_preprocessing``).
    """

    folder: Path
    input_shape: tuple[int, int, int]
    preprocess: Preprocessing
    files: list[Path] = field(init=False)

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)
        if not self.folder.is_dir():
            raise DatasetError(
                f"Expected --data to be a folder of images. Received: {str(self.folder)!r}, "
                "which is not a folder."
            )
        self.files = sorted(
            p for p in self.folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not self.files:
            raise DatasetError(
                f"Expected image files ({', '.join(sorted(IMAGE_SUFFIXES))}) under the folder. "
                f"Received: {str(self.folder)!r}, which holds none."
            )

    def __len__(self) -> int:
        return len(self.files)

    def fingerprint(self) -> str:
        digest = hashlib.sha256(repr((self.input_shape, self.preprocess.preset)).encode())
        for path in self.files:
            stat = path.stat()
            digest.update(
                f"{path.relative_to(self.folder)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode()
            )
        return digest.hexdigest()

    def name_of(self, index: int) -> str:
        return self.files[index].relative_to(self.folder).as_posix()

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        images, indices = [], []
        for index in range(start, stop):
            try:
                prepared = load_image(
                    self.files[index],
                    input_shape=self.input_shape,
                    preprocess=self.preprocess.preset,
                )
            except ImageLoadError:
                continue  # counted by the miner: a shard's range minus what was read
            images.append(prepared.pixels)
            indices.append(index)
        if not images:
            return np.zeros((0, *self.input_shape), np.float32), np.zeros(0, np.int64)
        return np.stack(images), np.asarray(indices, np.int64)


@dataclass
class DatasetSource:
    """A finite ``tf.data.Dataset`` of single images ``(H, W, C)`` (or ``(image, label)``).

    A dataset has no listing to hash, so results over it are not cached.
    """

    dataset: tf.data.Dataset
    count: int = field(init=False)

    def __post_init__(self) -> None:
        cardinality = int(self.dataset.cardinality())
        if cardinality < 0:
            cardinality = sum(1 for _ in self.dataset)
        if cardinality == 0:
            raise DatasetError("Expected a non-empty tf.data.Dataset. Received: 0 elements.")
        self.count = cardinality

    def __len__(self) -> int:
        return self.count

    def fingerprint(self) -> None:
        return None

    def name_of(self, index: int) -> int:
        return int(index)

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        part = self.dataset.skip(start).take(stop - start)
        images = [
            np.asarray(item[0] if isinstance(item, tuple) else item, np.float32) for item in part
        ]
        return np.stack(images), np.arange(start, stop, dtype=np.int64)


# (set name, (H, W, C), progress=...) -> an object with uint8 ``images`` (N, H, W, C),
# bool ``is_face`` (N,) and a ``description``; raises ValueError for a name or a
# shape it does not have; ``progress`` (``inspector.engine.progress``) hears a build
# that takes a while. The console (``layer_inspector``) passes
# ``models.datasets.unit_data.bundled_unit_set``.
BundledProvider = Callable[..., object]


def open_source(
    text: str,
    input_shape: tuple[int, int, int],
    preprocess: Preprocessing,
    bundled: BundledProvider | None,
    progress: Progress | None = None,
) -> ImageSource:
    """The data set named by ``text``: a bundled set (``bundled``, ``bundled-faces``,
    ``bundled-natural``, ...) through ``bundled``, else a folder of images, read with
    the model's ``preprocess``. The one reading of ``--data`` and of the app's Data
    picker. ``progress`` hears the steps of a bundled set's first build.

    Raises:
        DatasetError: an unknown bundled name, a shape the bundled set cannot fit, or a
            folder that is missing or holds no images.
    """
    if text.startswith("bundled"):
        if bundled is None:
            raise DatasetError(f"Expected --data DIR. Received: {text!r}, but none is installed.")
        try:
            chosen = bundled(text, tuple(input_shape), progress=progress)
        except ValueError as error:
            raise DatasetError(str(error)) from None  # it names what was expected
        return ArraySource(chosen.images, text, preprocess, is_face=chosen.is_face)
    return FolderSource(Path(text), tuple(input_shape), preprocess)
