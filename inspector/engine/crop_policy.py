"""Which part of a photo the model sees: the one crop rule of the app and the commands.

``inspect --crop``, ``evaluate --crop`` and the app's *Input and crop* panel all
ask ``choose_crop``:

1. a box the user gave is used, clipped to the image (kind ``"user"``);
2. otherwise, with the automatic crop on and the photo larger than the model's
   input, the largest face (``face_crop``: the LBP cascade) at the model's aspect
   (kind ``"face"``);
3. otherwise the centre at the model's aspect (kind ``"centre"``), or the whole
   image when its aspect already matches (kind ``"none"``).

A photo no larger than the input is never searched for a face: it is already
the model's view, and the cascade's 24-pixel window finds nothing reliable in it.
Boxes are ``(left, top, right, bottom)`` in pixels of the original, right and
bottom exclusive, as ``Image.crop`` and ``prepare_image(crop=...)`` take them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from inspector.engine.errors import ImageLoadError
from inspector.engine.face_crop import face_crop_box

Box = tuple[int, int, int, int]
# (RGB uint8 (H, W, 3), width / height of the model input) -> a face box or None.
FaceFinder = Callable[[np.ndarray, float], "Box | None"]
KINDS = ("user", "face", "centre", "none")


@dataclass(frozen=True)
class CropChoice:
    """The region of the original the model sees, and how it was chosen.

    Attributes:
        box: that region (None: the whole image), what a view draws.
        kind: ``"user"``, ``"face"``, ``"centre"`` or ``"none"``.
    """

    box: Box | None
    kind: str

    @property
    def loader_box(self) -> Box | None:
        """The box to hand to ``prepare_image``: a centre crop it makes itself (and
        names as such in the preprocessing steps), so only a user's or a face box."""
        return self.box if self.kind in ("user", "face") else None


def checked_box(box: Box, shape: tuple[int, ...]) -> Box:
    """``box`` clipped to an image of ``shape`` ``(H, W, ...)``.

    Raises:
        ImageLoadError: nothing of the box lies inside the image.
    """
    left, top, right, bottom = (int(v) for v in box)
    clipped = (max(0, left), max(0, top), min(shape[1], right), min(shape[0], bottom))
    if clipped[2] - clipped[0] < 1 or clipped[3] - clipped[1] < 1:
        raise ImageLoadError(
            f"Expected a crop box (left, top, right, bottom) inside the "
            f"{shape[1]}x{shape[0]} image. Received: box={tuple(box)}."
        )
    return clipped


def centre_box(shape: tuple[int, ...], aspect: float) -> Box | None:
    """The largest centred box of width / height ``aspect`` in an image of ``shape``
    (None when the image already has that aspect); ``prepare_image``'s own rule."""
    image_h, image_w = shape[:2]
    if abs(image_w / image_h - aspect) <= 1e-3:
        return None
    if image_w / image_h > aspect:  # too wide: full height, trimmed width
        crop_w, crop_h = round(image_h * aspect), image_h
    else:
        crop_w, crop_h = image_w, round(image_w / aspect)
    left, top = (image_w - crop_w) // 2, (image_h - crop_h) // 2
    return (left, top, left + crop_w, top + crop_h)


def choose_crop(
    original: np.ndarray,
    input_hw: tuple[int | None, int | None],
    *,
    box: Box | None = None,
    automatic: bool = True,
    find_face: FaceFinder | None = None,
) -> CropChoice:
    """The crop of ``original`` for a model whose input is ``input_hw`` (see above).

    Args:
        original: uint8 RGB ``(H, W, 3)``.
        input_hw: the model input's ``(height, width)``; None entries: any size.
        box: the user's box, if any (it wins).
        automatic: look for a face (``--crop auto``, the app's default).
        find_face: the finder (default: ``face_crop.face_crop_box``).

    Raises:
        ImageLoadError: a user box outside the image.
    """
    if box is not None:
        return CropChoice(checked_box(box, original.shape), "user")
    height, width = input_hw
    if height is None or width is None:
        return CropChoice(None, "none")
    aspect = width / height
    image_h, image_w = original.shape[:2]
    if automatic and (image_w > width or image_h > height):
        found = (find_face or face_crop_box)(original, aspect)
        if found is not None:
            return CropChoice(checked_box(tuple(int(v) for v in found), original.shape), "face")
    centre = centre_box(original.shape, aspect)
    return CropChoice(centre, "centre" if centre is not None else "none")
