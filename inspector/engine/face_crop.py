"""Find a face in a photo and choose the crop that feeds it to the model.

Qt-free: the GUI calls these functions on its worker thread when an image is
bigger than the model's input. Detection uses the LBP frontal-face cascade
that scikit-image ships (an OpenCV-trained cascade, Liao et al., 2007), run on
a downscaled copy so that a 24-megapixel photo costs the same as a small one.

Boxes are ``(left, top, right, bottom)`` in pixels of the ORIGINAL image, with
``right``/``bottom`` exclusive, as Pillow's ``Image.crop`` and
``inspector.load_image(crop=...)`` take them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from inspector.engine.errors import ImageLoadError

Box = tuple[int, int, int, int]

# Longest side of the copy the cascade scans. A portrait's face stays well above
# the cascade's 24-pixel window at this size, and one scan takes ~50 ms on one
# core whatever the photo's size (512 pixels costs ~4x as much).
DETECTION_MAX_SIDE = 320
# The smallest face searched for, as a fraction of the downscaled image's shorter
# side: we want the face to crop to, not every face in a crowd. Smaller values
# also let in false positives (a hand on skimage's astronaut at 0.08).
MIN_FACE_FRACTION = 0.12
_CASCADE_WINDOW = 24


@lru_cache(maxsize=1)
def _cascade():
    # Parsing the XML takes a few ms; the Cascade object is read-only afterwards.
    from skimage.data import lbp_frontal_face_cascade_filename
    from skimage.feature import Cascade

    return Cascade(lbp_frontal_face_cascade_filename())


def _as_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Accept (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8; return (H, W, 3)."""
    array = np.asarray(image)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise ImageLoadError(
            "Expected a uint8 image of shape (H, W, 3). "
            f"Received: dtype={array.dtype}, shape={array.shape}."
        )
    if array.ndim == 2:
        array = array[..., None]
    if array.shape[-1] not in (1, 3, 4) or min(array.shape[:2]) < 1:
        raise ImageLoadError(
            "Expected a uint8 image of shape (H, W, 3). "
            f"Received: dtype={array.dtype}, shape={array.shape}."
        )
    if array.shape[-1] == 1:
        return np.repeat(array, 3, axis=-1)
    return array[..., :3]


def _downscaled(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """A copy whose longest side is at most DETECTION_MAX_SIDE, and its scale."""
    height, width = rgb.shape[:2]
    scale = min(1.0, DETECTION_MAX_SIDE / max(height, width))
    if scale == 1.0:
        return rgb, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(np.ascontiguousarray(rgb)).resize(
        size, Image.Resampling.BILINEAR, reducing_gap=2.0
    )
    return np.asarray(small), size[0] / width


def detect_faces(image: np.ndarray) -> list[Box]:
    """Every frontal face the cascade finds, largest first.

    Args:
        image: uint8 ``(H, W, 3)`` RGB (grey ``(H, W)`` and RGBA are accepted too).

    Returns:
        Boxes ``(left, top, right, bottom)`` in the image's own pixels.

    Raises:
        ImageLoadError: if ``image`` is not a uint8 picture.
    """
    small, scale = _downscaled(_as_rgb_uint8(image))
    short_side = min(small.shape[:2])
    if short_side < _CASCADE_WINDOW:
        return []
    smallest = max(_CASCADE_WINDOW, round(short_side * MIN_FACE_FRACTION))
    found = _cascade().detect_multi_scale(
        img=small,
        scale_factor=1.2,
        step_ratio=1,
        min_size=(smallest, smallest),
        max_size=(short_side, short_side),
        min_neighbor_number=4,
    )
    height, width = np.asarray(image).shape[:2]
    boxes = []
    for hit in found:
        left, top = hit["c"] / scale, hit["r"] / scale
        right, bottom = left + hit["width"] / scale, top + hit["height"] / scale
        boxes.append(
            (
                max(0, round(left)),
                max(0, round(top)),
                min(width, round(right)),
                min(height, round(bottom)),
            )
        )
    return sorted(boxes, key=_area, reverse=True)


def _area(box: Box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def detect_face(image: np.ndarray) -> Box | None:
    """The largest frontal face in ``image``, or None if there is none.

    Args:
        image: uint8 ``(H, W, 3)`` RGB.

    Returns:
        ``(left, top, right, bottom)`` in the image's pixels, or None.
    """
    faces = detect_faces(image)
    return faces[0] if faces else None


def padded_box(
    box: Box, image_size: tuple[int, int], aspect: float = 1.0, margin: float = 0.25
) -> Box:
    """Grow ``box`` by ``margin`` per side, widen it to ``aspect``, keep it inside.

    The result keeps the requested aspect ratio (width / height) exactly up to
    rounding, because ``load_image`` resizes a given crop without re-cropping:
    a wrong aspect would squash the face. It is shifted, and if need be shrunk
    about its centre, to lie inside the image.

    Args:
        box: ``(left, top, right, bottom)``.
        image_size: ``(width, height)`` of the image.
        aspect: wanted width / height (the model input's W / H), > 0.
        margin: extra border on each side as a fraction of the face size, >= 0.

    Returns:
        ``(left, top, right, bottom)`` inside ``(0, 0, width, height)``.
    """
    if aspect <= 0 or margin < 0:
        raise ValueError(f"Expected aspect > 0 and margin >= 0. Received: {aspect}, {margin}")
    image_w, image_h = image_size
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    width = (box[2] - box[0]) * (1 + 2 * margin)
    height = (box[3] - box[1]) * (1 + 2 * margin)
    width, height = max(width, height * aspect), max(height, width / aspect)
    shrink = min(1.0, image_w / width, image_h / height)
    width, height = width * shrink, height * shrink
    left = min(max(0.0, centre_x - width / 2), image_w - width)
    top = min(max(0.0, centre_y - height / 2), image_h - height)
    right, bottom = left + width, top + height
    return (
        round(left),
        round(top),
        min(image_w, max(round(right), round(left) + 1)),
        min(image_h, max(round(bottom), round(top) + 1)),
    )


def face_crop_box(image: np.ndarray, aspect: float = 1.0, margin: float = 0.25) -> Box | None:
    """The crop around the largest face, padded and shaped for the model.

    Args:
        image: uint8 ``(H, W, 3)`` RGB, the ORIGINAL picture before any resizing.
        aspect: the model input's width / height.
        margin: border around the face on each side, as a fraction of its size.

    Returns:
        ``(left, top, right, bottom)`` inside the image, or None when no face is
        found (the caller then falls back to a centre crop).
    """
    face = detect_face(image)
    if face is None:
        return None
    height, width = np.asarray(image).shape[:2]
    return padded_box(face, (width, height), aspect=aspect, margin=margin)
