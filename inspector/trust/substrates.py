"""What a removed pixel becomes: the substrates of the deletion and insertion games.

Petsiuk et al. (RISE, BMVC 2018) delete pixels by setting them to zero (black)
and insert pixels into a blurred copy of the image. Here one substrate, named in
every result, serves both curves, so that the two curves of a method are
comparable: ``zero`` (black in the model's own input scale), ``blur`` or
``mean``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.ndimage import gaussian_filter

from inspector.engine.errors import AttributionError
from inspector.engine.preprocessing import black_value as preset_black_value
from inspector.engine.preprocessing import decide_preprocessing

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection

SUBSTRATE_NAMES = ("blur", "zero", "mean")
# RISE's evaluation code blurs 224x224 images with a Gaussian of sigma 5 px
# truncated to an 11x11 kernel (radius = sigma); scaled to the image's size here,
# so a 64-pixel face loses as much of its detail as a 224-pixel photo does.
PAPER_SIGMA, PAPER_SIDE = 5.0, 224


def black_value(inspection: Inspection, inspector: Inspector) -> np.ndarray:
    """A black pixel in the model's input space: float32 ``(C,)``.

    That is raw pixel 0 after the inspection's preprocessing preset (0 for the
    0..1 and 0..255 scales, -1 for ``tf``, minus the ImageNet mean for
    ``caffe``). An array given as is (no preset) falls back on the model's own
    preprocessing (``decide_preprocessing``).
    """
    channels = inspection.image.shape[-1]
    preset = getattr(inspection, "preset", "")
    if preset:
        return np.asarray(preset_black_value(preset, channels), np.float32)
    return decide_preprocessing(inspector.model).bounds(channels)[0]


def paper_blur_sigma(height: int, width: int) -> float:
    """RISE's blur (sigma 5 px at 224 px), scaled to an image of ``height x width``."""
    return PAPER_SIGMA * max(height, width) / PAPER_SIDE


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Blur each channel of ``image`` ``(H, W, C)`` with a Gaussian of ``sigma`` pixels.

    The kernel is truncated at one sigma, like the paper's 11x11 kernel of sigma
    5. Borders are mirrored rather than zero-padded (the paper's convolution pads
    with zeros), so that ``blur`` never mixes in the ``zero`` substrate.

    Returns:
        float32 ``(H, W, C)``, values within the image's own range.
    """
    if sigma <= 0:
        return np.asarray(image, np.float32).copy()
    blurred = gaussian_filter(
        np.asarray(image, np.float64), sigma=(sigma, sigma, 0), mode="reflect", truncate=1.0
    )
    return blurred.astype(np.float32)


def substrate_image(
    name: str,
    inspection: Inspection,
    inspector: Inspector,
    blur_sigma: float | None = None,
) -> np.ndarray:
    """The image a fully deleted picture becomes, float32 ``(H, W, C)``.

    Args:
        name: ``"blur"`` (Gaussian blur of the image; ``blur_sigma`` pixels, default
            ``paper_blur_sigma``), ``"zero"`` (black in the model's input scale, see
            ``black_value``) or ``"mean"`` (the image's per-channel mean).
        inspection: gives the image and its preprocessing record.
        inspector: gives the model, for images given as bare arrays.
        blur_sigma: the blur's sigma in pixels, for ``"blur"`` only.

    Raises:
        AttributionError: an unknown name, listing the valid ones.
    """
    image = inspection.image
    if name == "blur":
        sigma = paper_blur_sigma(*image.shape[:2]) if blur_sigma is None else blur_sigma
        return gaussian_blur(image, float(sigma))
    if name == "zero":
        return np.broadcast_to(black_value(inspection, inspector), image.shape).astype(np.float32)
    if name == "mean":
        return np.broadcast_to(image.mean(axis=(0, 1)), image.shape).astype(np.float32)
    raise AttributionError(
        f"Expected a baseline among {', '.join(SUBSTRATE_NAMES)}. Received: baseline={name!r}."
    )
