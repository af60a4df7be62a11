"""Per-image unit responses, the raw material of the selectivity measures.

One compiled pass returns, for every chosen layer and every image, each unit's
value at the centre of its map, its maximum over the map and where that
maximum is (the earliest position on ties, so the answer is the same in any
process). The measures need nothing else, so a model variant costs one
forward pass per image, and the work is a map over row ranges whose results
concatenate (``merge``), here or on Dask workers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from inspector.defaults import BATCH_SIZE
from inspector.engine.inspection import read_only
from inspector.engine.model_copy import reinitialized_copy
from inspector.units.probe import LayerProbe


@dataclass(frozen=True)
class LayerResponses:
    """Responses of one layer's units to N images.

    Attributes:
        centre: float32 ``(N, C)`` the activation at map position ``(h // 2, w // 2)``.
        maxima: float32 ``(N, C)`` the maximum over the map.
        argmax: int64 ``(N, C)`` the flat (row-major) position of that maximum.
    """

    centre: np.ndarray
    maxima: np.ndarray
    argmax: np.ndarray

    def rows(self, part: slice) -> LayerResponses:
        return LayerResponses(self.centre[part], self.maxima[part], self.argmax[part])


def merge(parts: list[list[LayerResponses]]) -> list[LayerResponses]:
    """Per layer, the responses of consecutive row ranges, in row order."""
    return [
        LayerResponses(
            read_only(np.concatenate([p[i].centre for p in parts])),
            read_only(np.concatenate([p[i].maxima for p in parts])),
            read_only(np.concatenate([p[i].argmax for p in parts])),
        )
        for i in range(len(parts[0]))
    ]


class ResponseMeter:
    """The compiled response pass over ``probe``'s layers.

    Args:
        probe: the model (or a random copy) and its chosen layers.
        batch_size: images per compiled call.
    """

    def __init__(self, probe: LayerProbe, batch_size: int = BATCH_SIZE) -> None:
        self.probe, self.batch_size = probe, batch_size
        spec = tf.TensorSpec((None, *probe.input_shape), tf.float32)
        self._pass = tf.function(self._responses, input_signature=[spec], autograph=False)

    def _responses(self, x):
        out = []
        for a in self.probe.outputs(x):
            h, w = a.shape[1], a.shape[2]
            flat = tf.reshape(a, [tf.shape(a)[0], h * w, a.shape[3]])
            top = tf.reduce_max(flat, axis=1)
            positions = tf.range(h * w, dtype=tf.int64)[None, :, None]
            first = tf.reduce_min(
                tf.where(flat >= top[:, None, :], positions, tf.constant(h * w, tf.int64)), axis=1
            )
            out.append((a[:, h // 2, w // 2, :], top, first))
        return out

    def run(self, images: np.ndarray, start: int, stop: int) -> list[LayerResponses]:
        """Responses to rows ``[start, stop)`` of ``images`` (float ``(N, H, W, C)`` in
        [0, 1], made the model's input here by its own preprocessing)."""
        parts = []
        for low in range(start, stop, self.batch_size):
            batch = images[low : min(low + self.batch_size, stop)]
            x = tf.constant(self.probe.preprocess.apply(np.asarray(batch) * 255.0))
            parts.append(
                [
                    LayerResponses(np.asarray(c), np.asarray(m), np.asarray(i, np.int64))
                    for c, m, i in self._pass(x)
                ]
            )
        return merge(parts)


def variant_meter(probe: LayerProbe, seed: int | None, batch_size: int) -> ResponseMeter:
    """The meter of the trained model (``seed`` None) or of its copy re-initialised
    with ``seed`` (``inspector.engine.model_copy.reinitialized_copy``), same layers."""
    if seed is None:
        return ResponseMeter(probe, batch_size)
    # The copy is fed exactly what the model is.
    copy = probe.with_layers(list(probe.names), reinitialized_copy(probe.model, seed))
    return ResponseMeter(copy, batch_size)
