"""Jittered crops around a frame: how users (and the app's detector) frame a face.

A user's crop, or the LBP cascade's box grown by 25 %, is never exactly the
canonical frame: it is a little larger or smaller, off-centre, slightly tilted,
and the photo may be soft. Every training face is therefore cut several times
from its photo, each copy with its own scale (0.8-1.4 of the frame's side,
log-uniform), shift (up to 12 % of the side each way), rotation (up to 12
degrees), mirror flip, and, for 40 % of copies, a Gaussian blur (sigma 0.3-1.5
output pixels) so that a sharp ORL face and a soft, upsampled 25-pixel LFW face
both look like faces. Brightness, contrast and a small shift are added again per
epoch by ``models.training.augmentation``.

ORL photos all have the same dark, even background, and a model can learn that
instead of the face (the first models called the astronaut, on white, no face).
So 70 % of the jittered ORL copies keep only a soft ellipse over the head and get
a crop of a natural photo behind it (background replacement, as in cut-and-paste
augmentation: Dwibedi, Misra & Hebert, ICCV 2017).

The scale reaches 1.4, not 1.25: the app's crop of ``astronaut.jpg`` is 4.1
eye-to-mouth distances wide against 3.27 for the mean frame (1.25x), and
``grace_hopper.jpg`` 3.17 (0.97x), so 1.25 would put a real sample at the edge.

Every choice is drawn from ``numpy.random.default_rng(seed)``: the same seed gives
the same crops, byte for byte.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from models.datasets.face_sources import cut

SCALE_RANGE = (0.8, 1.4)
MAX_SHIFT = 0.12  # of the frame's side, each way
MAX_ANGLE = 12.0  # degrees
BLUR_SHARE, BLUR_RANGE = 0.4, (0.3, 1.5)
BACKGROUND_SHARE = 0.7
# The head ellipse, in eye-to-mouth distances: centred this far above the middle
# of the face, with these half-width and half-height (chin to the top of the hair).
HEAD_RISE, HEAD_HALF_SIZE = 0.45, (1.35, 1.75)


def head_masks(photos, landmarks: np.ndarray) -> list[np.ndarray]:
    """A soft ellipse over each head (face, forehead and hair), from its landmarks.

    Args:
        photos: sequence of uint8 ``(H, W)`` photos.
        landmarks: ``(N, 5, 2)`` their landmarks.

    Returns:
        One uint8 ``(H, W)`` mask per photo: 255 on the head, 0 on the background,
        feathered over about a fifth of the eye-to-mouth distance.
    """
    masks = []
    for photo, marks in zip(photos, np.asarray(landmarks, np.float64), strict=True):
        eyes, mouth = marks[:2].mean(0), marks[3:].mean(0)
        scale = float(np.linalg.norm(mouth - eyes))
        centre = (eyes + mouth) / 2 + np.array([0.0, -HEAD_RISE * scale])
        half = np.array(HEAD_HALF_SIZE) * scale
        mask = Image.new("L", photo.shape[::-1], 0)
        ImageDraw.Draw(mask).ellipse([*(centre - half), *(centre + half)], fill=255)
        masks.append(np.asarray(mask.filter(ImageFilter.GaussianBlur(0.2 * scale))))
    return masks


def jittered_crops(
    photos,
    frames: np.ndarray,
    copies: int,
    size: int,
    seed: int,
    *,
    keep_first: bool = True,
    masks=None,
    backgrounds: np.ndarray | None = None,
) -> np.ndarray:
    """``copies`` jittered crops of every photo around its frame.

    Args:
        photos: sequence of uint8 ``(H, W)`` grey photos (sizes may differ).
        frames: ``(N, 4)`` square frames ``(left, top, right, bottom)`` in each photo's pixels.
        copies: crops per photo.
        size: output side in pixels.
        seed: all random choices follow from it.
        keep_first: make each photo's first copy the frame itself, unjittered.
        masks: optional ``head_masks`` of the photos; with ``backgrounds``, a share
            ``BACKGROUND_SHARE`` of the jittered copies keep only the head and get a
            new background.
        backgrounds: uint8 ``(M, size, size)`` pictures to put behind those heads.

    Returns:
        uint8 ``(N * copies, size, size)``, photo by photo.
    """
    rng = np.random.default_rng(seed)
    crops = []
    for index, (photo, frame) in enumerate(
        zip(photos, np.asarray(frames, np.float64), strict=True)
    ):
        centre = (frame[:2] + frame[2:]) / 2
        side = frame[2] - frame[0]
        for copy in range(copies):
            if keep_first and copy == 0:
                crops.append(cut(photo, frame, size))
                continue
            scaled = side * np.exp(rng.uniform(*np.log(SCALE_RANGE)))
            middle = centre + rng.uniform(-MAX_SHIFT, MAX_SHIFT, 2) * side
            box = (*(middle - scaled / 2), *(middle + scaled / 2))
            angle = rng.uniform(-MAX_ANGLE, MAX_ANGLE)
            blur = rng.uniform(*BLUR_RANGE) if rng.random() < BLUR_SHARE else 0.0
            image = cut(photo, box, size, angle=angle, blur=blur)
            if backgrounds is not None and rng.random() < BACKGROUND_SHARE:
                alpha = cut(masks[index], box, size, angle=angle).astype(np.float32) / 255.0
                behind = backgrounds[rng.integers(len(backgrounds))].astype(np.float32)
                image = np.rint(alpha * image + (1 - alpha) * behind).astype(np.uint8)
            crops.append(image[:, ::-1] if rng.random() < 0.5 else image)
    return np.stack(crops)
