"""The bundled face photos, framed the way the app frames a face, with their parts.

Two sources, both inside the repository or its dependencies:

* ORL (``models/data/orl_faces.npz``, made by ``models/data/make_orl.py``): 400
  photos of 40 people, 92x112 grey. Credit: Olivetti Research Laboratory
  (Samaria & Harter, IEEE WACV 1994); see ``models/data/DATA.md``.
* The 100 faces of ``skimage.data.lfw_subset()``, 25x25.

**Framing.** ``inspect --crop auto`` and the app crop a photo to the LBP cascade's
face box grown by 25 % per side (``inspector.engine.face_crop``). Training faces must look
like that, so every face is cut out with the same framing, expressed through its
landmarks: the part file records the cascade's box on the 267 ORL photos where it
fires, and ``framing()`` is the mean of that box relative to the eyes and the mouth
(centre offset and side, in units of the eye-to-mouth distance). Where the frame
runs past the photo's edge the photo is mirrored and blurred there, which reads
as an out-of-focus background rather than a second face; the negatives are cut
with the same function, often past their photo's edge too, so a padded border
is no clue to the class.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageFilter

from models.datasets.face_parts import (
    PART_FILE,
    bundled_parts,
    map_boxes,
    part_boxes,
    read_part_file,
)

ORL_FILE = PART_FILE.parent / "orl_faces.npz"
APP_MARGIN = 0.25  # inspector.engine.face_crop.face_crop_box's default margin per side


@dataclass(frozen=True)
class FaceImages:
    """Framed face images and where their parts are, in model-input pixels.

    Attributes:
        images: uint8 ``(N, S, S, 1)`` raw grey pixels, S the model input size.
        source: ``(N,)`` str, ``"orl"`` or ``"lfw"``.
        person: int ``(N,)``, the ORL subject 1..40; -1 for LFW (one photo each).
        index: int ``(N,)``, the image's index within its source.
        landmarks: float32 ``(N, 5, 2)`` in model-input pixels.
        part_boxes: float32 ``(N, 4, 4)`` ``(left, top, right, bottom)``, model-input pixels.
        methods: how each face's parts were found (``"mtcnn_x2"``, ``"template"``, ...).
        crops: float32 ``(N, 4)`` the square frame in the raw image's pixels.
    """

    images: np.ndarray
    source: np.ndarray
    person: np.ndarray
    index: np.ndarray
    landmarks: np.ndarray
    part_boxes: np.ndarray
    methods: tuple[str, ...]
    crops: np.ndarray

    def __len__(self) -> int:
        return int(self.images.shape[0])


def orl_faces() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bundled ORL photos: ``(images uint8 (400, 112, 92), subject (400,), photo (400,))``."""
    with np.load(ORL_FILE, allow_pickle=False) as stored:
        return (
            stored["images"],
            stored["subject"].astype(np.int64),
            stored["photo"].astype(np.int64),
        )


def lfw_faces() -> np.ndarray:
    """The 100 LFW-subset faces as uint8 ``(100, 25, 25)``."""
    from skimage.data import lfw_subset

    return np.clip(np.rint(lfw_subset()[:100] * 255.0), 0, 255).astype(np.uint8)


@lru_cache(maxsize=1)
def framing() -> tuple[float, float, float]:
    """The app's crop relative to a face's landmarks, measured on the ORL photos.

    Returns:
        ``(dx, dy, side)``: the crop's centre is the eyes-mouth midpoint plus
        ``(dx, dy)`` and its side is ``side``, all in eye-to-mouth distances.
    """
    rows = []
    for entry in read_part_file()["orl"]:
        if entry["cascade_box"] is None:
            continue
        box = np.asarray(entry["cascade_box"], np.float64)
        centre, scale = _face_centre_and_scale(np.asarray(entry["landmarks"]))
        rows.append(
            [
                ((box[0] + box[2]) / 2 - centre[0]) / scale,
                ((box[1] + box[3]) / 2 - centre[1]) / scale,
                (box[2] - box[0]) * (1 + 2 * APP_MARGIN) / scale,
            ]
        )
    dx, dy, side = np.mean(rows, axis=0)
    return float(dx), float(dy), float(side)


def _face_centre_and_scale(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    eyes = (landmarks[..., 0, :] + landmarks[..., 1, :]) / 2
    mouth = (landmarks[..., 3, :] + landmarks[..., 4, :]) / 2
    return (eyes + mouth) / 2, np.linalg.norm(mouth - eyes, axis=-1)


def frame_boxes(landmarks: np.ndarray) -> np.ndarray:
    """The app-like square crop of faces from their landmarks.

    Args:
        landmarks: ``(..., 5, 2)`` in raw-image pixels.

    Returns:
        float64 ``(..., 4)`` ``(left, top, right, bottom)`` in raw-image pixels.
    """
    dx, dy, side = framing()
    centre, scale = _face_centre_and_scale(np.asarray(landmarks, np.float64))
    middle = centre + np.stack([dx * scale, dy * scale], axis=-1)
    half = (side * scale / 2)[..., None]
    return np.concatenate([middle - half, middle + half], axis=-1)


def cut(image: np.ndarray, box, size: int, *, angle: float = 0.0, blur: float = 0.0) -> np.ndarray:
    """Cut a square out of a grey image, rotated about its centre, resized to ``size``.

    Args:
        image: uint8 ``(H, W)``.
        box: ``(left, top, right, bottom)`` square, may reach past the edges
            (the image is mirrored and blurred there).
        size: output side in pixels.
        angle: degrees, counter-clockwise, about the box centre.
        blur: Gaussian sigma in OUTPUT pixels (0: none).

    Returns:
        uint8 ``(size, size)``.
    """
    left, top, right, bottom = (float(v) for v in box)
    side = right - left
    if (
        not angle
        and left >= 0
        and top >= 0
        and right <= image.shape[1]
        and bottom <= image.shape[0]
    ):
        # Inside the picture and upright: one antialiased resize of the box.
        out = Image.fromarray(image).resize(
            (size, size), Image.Resampling.BILINEAR, box=(left, top, right, bottom)
        )
        return np.asarray(out.filter(ImageFilter.GaussianBlur(blur)) if blur > 0 else out)
    pad = (int(np.ceil(side * 0.75)) if angle else 0) + 2
    # Crop a generous window first (mirrored past the edges), so that rotating and
    # resizing only ever touch pixels near the face.
    window_left, window_top = int(np.floor(left)) - pad, int(np.floor(top)) - pad
    window_size = int(np.ceil(side)) + 2 * pad
    rows = _mirror_indices(np.arange(window_top, window_top + window_size), image.shape[0])
    cols = _mirror_indices(np.arange(window_left, window_left + window_size), image.shape[1])
    window = Image.fromarray(image[np.ix_(rows, cols)])
    outside = _outside_mask(window_top, window_left, window_size, image.shape)
    if outside is not None:
        # A sharp mirror copies eyes and edges into the border; blurred, it is background.
        blurred = window.filter(ImageFilter.GaussianBlur(max(1.0, side / 25)))
        window = Image.composite(blurred, window, Image.fromarray(outside))
    centre = ((left + right) / 2 - window_left, (top + bottom) / 2 - window_top)
    if angle:
        window = window.rotate(angle, Image.Resampling.BILINEAR, center=centre)
    inner = (centre[0] - side / 2, centre[1] - side / 2, centre[0] + side / 2, centre[1] + side / 2)
    out = window.resize((size, size), Image.Resampling.BILINEAR, box=inner)
    if blur > 0:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    return np.asarray(out)


def _outside_mask(top: int, left: int, size: int, shape) -> np.ndarray | None:
    rows = np.arange(top, top + size)
    cols = np.arange(left, left + size)
    inside_rows = (rows >= 0) & (rows < shape[0])
    inside_cols = (cols >= 0) & (cols < shape[1])
    if inside_rows.all() and inside_cols.all():
        return None
    return np.where(inside_rows[:, None] & inside_cols[None, :], 0, 255).astype(np.uint8)


def _mirror_indices(indices: np.ndarray, length: int) -> np.ndarray:
    period = 2 * length
    wrapped = np.mod(indices, period)
    return np.where(wrapped < length, wrapped, period - 1 - wrapped)


@lru_cache(maxsize=4)
def face_images(input_size: int = 64) -> FaceImages:
    """All 500 bundled faces (400 ORL, then 100 LFW), framed as the app frames faces.

    Returns:
        ``FaceImages`` with ``(500, input_size, input_size, 1)`` images and every
        face's landmarks and part boxes in model-input pixels.
    """
    orl, subject, photo = orl_faces()
    sources = [("orl", list(orl), subject, photo - 1), ("lfw", list(lfw_faces()), None, None)]
    columns: dict[str, list] = {k: [] for k in ("images", "source", "person", "index", "marks")}
    methods: list[str] = []
    crops = []
    for name, images, people, indices in sources:
        parts = bundled_parts(name)
        boxes = frame_boxes(parts.landmarks)
        for i, image in enumerate(images):
            columns["images"].append(cut(image, boxes[i], input_size))
        columns["source"] += [name] * len(images)
        columns["person"] += list(people) if people is not None else [-1] * len(images)
        columns["index"] += list(indices) if indices is not None else list(range(len(images)))
        scale = input_size / (boxes[:, 2] - boxes[:, 0])
        columns["marks"].append((parts.landmarks - boxes[:, None, :2]) * scale[:, None, None])
        methods += parts.methods
        crops.append(boxes)
    landmarks = np.concatenate(columns["marks"]).astype(np.float32)
    return FaceImages(
        images=_frozen(np.stack(columns["images"])[..., None]),
        source=_frozen(np.asarray(columns["source"])),
        person=_frozen(np.asarray(columns["person"], np.int64)),
        index=_frozen(np.asarray(columns["index"], np.int64)),
        landmarks=_frozen(landmarks),
        part_boxes=_frozen(part_boxes(landmarks)),
        methods=tuple(methods),
        crops=_frozen(np.concatenate(crops).astype(np.float32)),
    )


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


__all__ = ["FaceImages", "cut", "face_images", "frame_boxes", "framing", "map_boxes"]
