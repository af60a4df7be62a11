"""Small pieces shared by several attribution methods.

Kept apart from the method modules so that each method stays one file and no
two methods carry copies of the same code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from inspector.attribution.base import AttributionError
from inspector.engine.preprocessing import black_value, decide_preprocessing, grey_value

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection

BASELINE_NAMES = ("black", "grey", "mean")


def resize_bilinear(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize a 2-D map bilinearly, with pixel centres at half-integer positions.

    This is the convention of ``tf.image.resize(..., "bilinear")`` and Pillow
    for upsampling: output pixel ``i`` samples the input at
    ``(i + 0.5) * n_in / n_out - 0.5``, clamped to the edge pixels.

    Args:
        array: ``(h, w)`` map, any float values.
        size: ``(H, W)`` wanted.

    Returns:
        float32 ``(H, W)``; values stay within ``[array.min(), array.max()]``.
    """
    array = np.asarray(array, dtype=np.float64)
    rows = interpolation_matrix(array.shape[0], size[0])
    cols = interpolation_matrix(array.shape[1], size[1])
    # Bilinear interpolation is separable: interpolate rows, then columns.
    return (rows @ array @ cols.T).astype(np.float32)


def resize_bilinear_channels(stack: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``resize_bilinear`` applied to every channel of ``(h, w, K)``: float32 ``(K, H, W)``."""
    rows = interpolation_matrix(stack.shape[0], size[0])
    cols = interpolation_matrix(stack.shape[1], size[1])
    channels_first = np.moveaxis(np.asarray(stack, np.float64), -1, 0)
    # Two batched matrix products (BLAS); einsum would not use it here.
    return (rows @ channels_first @ cols.T).astype(np.float32)


def interpolation_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` matrix of linear-interpolation weights along one axis.

    Output ``i`` samples the input at ``(i + 0.5) * n_in / n_out - 0.5``,
    clamped to the edge pixels (the convention of ``resize_bilinear``).
    """
    position = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    position = np.clip(position, 0.0, n_in - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    fraction = position - low
    matrix = np.zeros((n_out, n_in))
    index = np.arange(n_out)
    np.add.at(matrix, (index, low), 1.0 - fraction)
    np.add.at(matrix, (index, high), fraction)
    return matrix


def max_abs_over_channels(gradient: np.ndarray) -> np.ndarray:
    """``max_c |gradient[..., c]|``: ``(H, W, C)`` to non-negative ``(H, W)``."""
    return np.max(np.abs(gradient), axis=-1)


def batch_slices(total: int, batch_size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``batch_size`` covering ``range(total)``."""
    for start in range(0, total, batch_size):
        yield slice(start, min(start + batch_size, total))


# What one batch of extra passes may hold in activations. Measured on MobileNetV2
# (224x224, 87 MB of activations per image): Integrated Gradients at a batch of 32
# raised the resident memory by 0.8 GB for good (the allocators keep their
# high-water mark), at a batch of 8 by 0.27 GB, at the same speed on 2 cores. The
# batch changes a method's speed and memory, never its result.
BATCH_MEMORY = 512 * 2**20


def memory_batch(inspection: Inspection, wanted: int, gradients: bool) -> int:
    """At most ``wanted`` images per batch, fewer when their activations would pass
    ``BATCH_MEMORY``: a forward pass holds each image's activations (the inspection's,
    whose sizes are known), a gradient pass about twice that (the activations kept
    for the backward pass, and their gradients)."""
    per_image = sum(record.activation.nbytes for record in inspection.layers)
    per_image *= 2 if gradients else 1
    return max(1, min(int(wanted), BATCH_MEMORY // max(per_image, 1)))


def batched_input_gradients(
    inspector: Inspector, inspection: Inspection, images: np.ndarray, batch_size: int
) -> np.ndarray:
    """d(logit[target])/d(input) for ``images`` ``(N, H, W, C)``, ``batch_size`` at a time.

    Uses the inspection's target and model output so that every extra pass
    differentiates the same score as the inspection did.
    """
    parts = [
        inspector.input_gradients(images[part], inspection.target, inspection.output_index)
        for part in batch_slices(len(images), batch_size)
    ]
    return np.concatenate(parts, axis=0)


def baseline_image(
    baseline: str | float | np.ndarray, inspection: Inspection, inspector: Inspector
) -> np.ndarray:
    """The reference image that stands for "no signal", in the model's value scale.

    Args:
        baseline: ``"black"`` (a black pixel after the inspection's preprocessing
            preset: 0 for 0..1 and 0..255, -1 for ``tf``, the negated mean for
            ``caffe``; for an array given as is, the low end of the model's pixel
            range), ``"grey"`` (raw 127.5 after the preset, or the middle of
            that range), ``"mean"`` (the image's per-channel mean), a
            number (every pixel and channel), or an array broadcastable to the
            image's ``(H, W, C)``.
        inspection: gives the image and its shape.
        inspector: gives the model, whose first layers tell its pixel range.

    Returns:
        float32 ``(H, W, C)``.
    """
    image = inspection.image
    if isinstance(baseline, str):
        if baseline not in BASELINE_NAMES:
            raise AttributionError(
                f"Expected a baseline among {', '.join(BASELINE_NAMES)}, a number or an "
                f"array. Received: baseline={baseline!r}."
            )
        if baseline == "mean":
            values = image.mean(axis=(0, 1))
        elif inspection.preset:
            # Defined in the model's input space: "black" is a black image after
            # the inspection's own preprocessing (-1 for tf, minus the mean for caffe).
            named = black_value if baseline == "black" else grey_value
            values = named(inspection.preset, image.shape[-1])
        else:  # an array given as is: the model's own preprocessing says what black is
            low, high = decide_preprocessing(inspector.model).bounds(image.shape[-1])
            values = low if baseline == "black" else (low + high) / 2.0
        return np.broadcast_to(np.float32(values), image.shape).astype(np.float32)
    try:
        values = np.broadcast_to(np.asarray(baseline, np.float32), image.shape)
    except (TypeError, ValueError):
        values = None
    # np.asarray(None, float32) is NaN rather than an error, hence the finiteness test.
    if values is None or not np.all(np.isfinite(values)):
        raise AttributionError(
            f"Expected a baseline name, a finite number or an array broadcastable to the "
            f"image shape {image.shape}. Received: {_describe(baseline)}."
        )
    return values.astype(np.float32)


def _describe(value) -> str:
    shape = getattr(value, "shape", None)
    return f"array of shape {shape}" if shape is not None else f"baseline={value!r}"
