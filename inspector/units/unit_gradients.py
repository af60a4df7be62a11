"""What the top images show: each receptive-field crop and the unit's gradient on it.

DeepVis (Yosinski et al., "Understanding Neural Networks Through Deep
Visualization", ICML DL workshop 2015, section 3) shows beside each of a unit's
top-9 crops a "deconv" of the unit: which pixels of the patch drive it. Here
that role is played by the plain gradient of the unit's activation at its
maximum, ``d a[row, col, c] / d x``, restricted to the crop (outside the
receptive field it is exactly zero). Gradients are computed in batches: the
activations of independent images are summed, so one backward pass gives each
image its own gradient.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from inspector.defaults import BATCH_SIZE
from inspector.engine.inspection import read_only
from inspector.units.probe import LayerProbe
from inspector.units.results import LayerUnits, context_side
from inspector.units.sources import ImageSource


@dataclass(frozen=True)
class TopCrops:
    """The top images of every channel of one layer, cut around their receptive fields.

    A field of 3 to 5 pixels (a first conv layer) cut alone shows as a few giant
    squares that nobody can read, so each crop is the field's box grown to at least
    ``context`` pixels a side, with the box kept in ``frames`` for drawing.

    Attributes:
        layer: the layer's record name.
        crops: ``crops[c][j]`` float32 ``(h, w, C_in)`` in the model's value scale,
            the j-th best image of channel c around its box (clipped to the image,
            so border crops can be smaller).
        gradients: same shapes: d(unit activation)/d(pixel) on that crop (zero
            outside the box: the unit does not see it).
        scores: float32 ``(C, k)`` the activations the crops were ranked by.
        frames: ``frames[c][j]`` the field's box inside the crop, ``(left, top,
            right, bottom)`` in crop pixels; the whole crop when no margin was added.
        marks: ``marks[c]`` float64 ``(n, 2)``: the centre of the unit's field in
            each crop, ``(x, y)`` fractions of the crop (the pointing game's point).
    """

    layer: str
    crops: tuple[tuple[np.ndarray, ...], ...]
    gradients: tuple[tuple[np.ndarray, ...], ...]
    scores: np.ndarray
    frames: tuple[tuple[tuple[int, int, int, int], ...], ...] = ()
    marks: tuple[np.ndarray, ...] = ()


def context_window(box, height: int, width: int, side: int) -> tuple[int, int, int, int]:
    """``box`` ``(left, top, right, bottom)`` grown about its centre to at least
    ``side`` pixels on each axis, moved (not shrunk) to stay inside the image."""
    left, top, right, bottom = (int(v) for v in box)

    def grow(low: int, high: int, limit: int) -> tuple[int, int]:
        size = min(max(high - low, side), limit)
        start = min(max(0, (low + high - size) // 2), limit - size)
        return start, start + size

    left, right = grow(left, right, width)
    top, bottom = grow(top, bottom, height)
    return left, top, right, bottom


class UnitGradients:
    """Batched gradients of single units with respect to the input.

    Args:
        probe: the model and its chosen layers.
    """

    def __init__(self, probe: LayerProbe) -> None:
        self.probe = probe
        self._functions: dict[int, tf.types.experimental.GenericFunction] = {}

    def _function(self, index: int):
        if index not in self._functions:
            spec = tf.TensorSpec((None, *self.probe.input_shape), tf.float32)
            where = tf.TensorSpec((None, 3), tf.int32)

            def gradient(x, units):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    activation = self.probe.outputs(x)[index]
                    # (n, row, col, channel) per image. gather_nd's batch_dims=1 does the
                    # same through an int32 transpose, which oneDNN logs an error line
                    # about on CPUs without AVX-512.
                    image = tf.range(tf.shape(units)[0])[:, None]
                    picked = tf.gather_nd(activation, tf.concat([image, units], axis=1))
                    total = tf.reduce_sum(picked)
                return tape.gradient(total, x), picked

            self._functions[index] = tf.function(
                gradient, input_signature=[spec, where], autograph=False
            )
        return self._functions[index]

    def gradients(self, layer: str, images: np.ndarray, units: np.ndarray) -> tuple:
        """d a[row, col, channel] / d x for image n and unit ``units[n]``.

        Args:
            layer: a chosen layer's name.
            images: float32 ``(N, H, W, C)``.
            units: int ``(N, 3)`` ``(row, col, channel)`` per image.

        Returns:
            ``(gradients (N, H, W, C) float32, activations (N,) float32)``.
        """
        index = self.probe.names.index(layer)
        grads, picked = self._function(index)(
            tf.constant(images, tf.float32), tf.constant(units, tf.int32)
        )
        return np.asarray(grads), np.asarray(picked)


def top_crops(
    units: LayerUnits,
    source: ImageSource,
    gradients: UnitGradients,
    batch_size: int = BATCH_SIZE,
    channels: Sequence[int] | None = None,
    context: int | None = None,
) -> TopCrops:
    """Crops and gradient maps of the channels' top images (one batch per ``batch_size``).

    Args:
        channels: which channels (None: all); the others get no crops (empty tuples),
            so a view can ask for the one channel it shows and have it at once.
        context: the smallest crop side in pixels around a field's box (None:
            ``context_side`` of the image; 0: the box alone).
    """
    count, k = units.images.shape
    height, width = gradients.probe.input_shape[:2]
    side = context_side(height, width) if context is None else int(context)
    wanted = range(count) if channels is None else sorted(set(int(c) for c in channels))
    slots = [(c, j) for c in wanted for j in range(k) if units.images[c, j] >= 0]
    crops = [[None] * k for _ in range(count)]
    grads = [[None] * k for _ in range(count)]
    frames = [[None] * k for _ in range(count)]
    marks = [[None] * k for _ in range(count)]
    centres: dict[int, np.ndarray] = {}
    for low in range(0, len(slots), batch_size):
        part = slots[low : low + batch_size]
        images = np.stack([_read_one(source, int(units.images[c, j])) for c, j in part])
        where = np.array([(*units.positions[c, j], c) for c, j in part], np.int32)
        grad, _ = gradients.gradients(units.layer.name, images, where)
        for n, (c, j) in enumerate(part):
            box = units.boxes[c, j]
            left, top, right, bottom = context_window(box, height, width, side)
            crops[c][j] = read_only(images[n, top:bottom, left:right])
            grads[c][j] = read_only(grad[n, top:bottom, left:right])
            frames[c][j] = (
                int(box[0]) - left,
                int(box[1]) - top,
                int(box[2]) - left,
                int(box[3]) - top,
            )
            if c not in centres:
                centres[c] = units.centres_in_boxes(c)  # (k, 2) fractions of each box
            centre = centres[c][j]
            marks[c][j] = (
                (box[0] + centre[0] * (box[2] - box[0]) - left) / max(right - left, 1),
                (box[1] + centre[1] * (box[3] - box[1]) - top) / max(bottom - top, 1),
            )

    def kept(rows):
        return tuple(tuple(x for x in row if x is not None) for row in rows)

    return TopCrops(
        units.layer.name,
        kept(crops),
        kept(grads),
        units.scores,
        kept(frames),
        tuple(np.asarray(row, np.float64).reshape(-1, 2) for row in kept(marks)),
    )


def _read_one(source: ImageSource, index: int) -> np.ndarray:
    images, _ = source.read(index, index + 1)
    return images[0]
