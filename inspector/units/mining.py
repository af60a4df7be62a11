"""Top-k mining of one shard: one compiled pass per batch, reductions inside the graph.

For every chosen layer and channel the traced function computes, per batch, the
maximum over positions of each image (and where it is), the batch's top k of
those maxima (``tf.math.top_k``, which puts the lower index first on ties), the
activation sum of each image and the fixed-bin histogram of EVERY position
(which also gives the count of active positions: all bins but bin 0).
Only these few numbers leave the graph; the activations never do, so memory is
flat in the number of images. The host merges each batch into the running
``LayerState`` with ``topk_state.merge_layer``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from inspector.engine.errors import CancelledError, InspectorError
from inspector.units.probe import LayerProbe
from inspector.units.sources import ImageSource, batches
from inspector.units.topk_state import (
    HIST_BINS,
    KEY_SHIFT,
    LayerState,
    MiningState,
    bin_tables,
    merge_layer,
)

Progress = Callable[[int], None]  # called with the number of images just finished
Cancelled = Callable[[], bool]


class MiningCancelled(CancelledError):
    """Raised inside a shard when the cancel check says stop; the shard is discarded."""


@tf.function(jit_compile=True, autograph=False)
def _bin_index(activation: tf.Tensor) -> tf.Tensor:
    """int32 ``(B * h * w * C,)`` flat ``bin * C + channel`` of every position.

    Each position is binned by its float bits (``topk_state.bin_tables``: exact,
    no log, no search). XLA fuses the shift, both lookups and the offset into one
    pass; as separate TF ops they cost 10 ns per element instead of 1.3.
    """
    channels = activation.shape[-1]
    first, edge = (tf.constant(table) for table in bin_tables())
    bits = tf.bitcast(activation, tf.int32)
    key = tf.cast(tf.bitwise.right_shift(tf.bitcast(activation, tf.uint32), KEY_SHIFT), tf.int32)
    bins = tf.gather(first, key) + tf.cast(bits >= tf.gather(edge, key), tf.int32)
    return tf.reshape(bins * channels + tf.range(channels), [-1])


def _reduce_layer(activation: tf.Tensor, k: int) -> tuple:
    """Per-batch top-k and statistics of one ``(B, h, w, C)`` activation.

    CPU time per activation element on this project's 2-core CPU, MobileNetV2
    (``bench_units.py --parts ablation``; its forward pass costs 3.3 ns):
    ``argmax`` over positions 0.8-1.2 ns (``max_pool_with_argmax`` 1.8, XLA's
    argmax 2.1), so the maxima are gathered at its positions; sums 0.4 ns; the
    histogram of every position 3.3 ns: the XLA bin index, then TF's
    ``Bincount``, which counts on both cores (XLA's scatter-add uses one).
    """
    shape = tf.shape(activation)
    channels = activation.shape[-1]
    flat = tf.reshape(activation, [shape[0], -1, channels])  # (B, h*w, C)
    where = tf.argmax(flat, axis=1, output_type=tf.int32)  # (B, C) row * w + col
    first_of_image = tf.range(shape[0])[:, None] * tf.shape(flat)[1]
    at_max = (first_of_image + where) * channels + tf.range(channels)  # flat (B, C) indices
    maxima = tf.gather(tf.reshape(activation, [-1]), at_max)
    per_channel = tf.transpose(maxima)  # (C, B)
    top = tf.math.top_k(per_channel, k=tf.minimum(k, shape[0]), sorted=True)
    # where[top image, c] for each channel c, without transposing an int32 tensor
    # (oneDNN's graph rewrite logs an error line for that on CPUs without AVX-512).
    unit = tf.broadcast_to(tf.range(channels)[:, None], tf.shape(top.indices))
    locations = tf.gather_nd(where, tf.stack([top.indices, unit], axis=-1))  # (C, k)
    sums = tf.reduce_sum(flat, axis=1)  # (B, C); the host adds images in float64
    # Integer counts; int32 indices and counts hold while B * h * w * C < 2**31.
    histogram = tf.raw_ops.Bincount(
        arr=_bin_index(activation), size=HIST_BINS * channels, weights=tf.zeros([0], tf.int32)
    )
    return top.values, top.indices, locations, sums, histogram


def _check_batch_fits(probe: LayerProbe, batch_size: int) -> None:
    """The in-graph flat indices are int32: a batch of the biggest layer must fit."""
    biggest = max(layer.shape[0] * layer.shape[1] * layer.shape[2] for layer in probe.layers)
    largest = (2**31 - 1) // biggest
    if batch_size > largest:
        raise InspectorError(
            f"Expected a batch size of at most {largest} for this model (its largest chosen "
            f"layer holds {biggest:,} values per image). Received: {batch_size}."
        )


class ShardMiner:
    """Mines ranges of an ``ImageSource`` with one traced reduction for all layers.

    Args:
        probe: the model's chosen layers.
        k: top images kept per channel.
        batch_size: images per compiled call.
    """

    def __init__(self, probe: LayerProbe, k: int = 9, batch_size: int = 64) -> None:
        self.probe, self.k, self.batch_size = probe, int(k), int(batch_size)
        _check_batch_fits(probe, self.batch_size)
        spec = tf.TensorSpec((None, *probe.input_shape), tf.float32)

        def reduce_batch(x):
            return [_reduce_layer(a, self.k) for a in probe.outputs(x)]

        self._reduce = tf.function(reduce_batch, input_signature=[spec], autograph=False)

    def empty_state(self) -> MiningState:
        layers = {
            layer.name: LayerState.empty(layer.shape[2], self.k) for layer in self.probe.layers
        }
        return MiningState(layers, (), 0, self.k)

    def mine(
        self,
        source: ImageSource,
        start: int,
        stop: int,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> MiningState:
        """The state of images ``[start, stop)``: batches in order, each merged as it comes.

        Raises:
            MiningCancelled: when ``cancelled()`` turns True between batches.
        """
        state = self.empty_state()
        layers = state.layers
        read = 0
        pipeline = batches(source, start, stop, self.batch_size, self.probe.input_shape)
        for images, indices in pipeline:
            if cancelled is not None and cancelled():
                raise MiningCancelled
            results = self._reduce(images)
            index_of = indices.numpy()
            for layer, values in zip(self.probe.layers, results, strict=True):
                layers[layer.name] = self._merge_batch(layers[layer.name], values, index_of, start)
            read += len(index_of)
            if progress is not None:
                progress(len(index_of))
        return MiningState(layers, ((start, stop),), read, self.k)

    def _merge_batch(self, state: LayerState, values, index_of: np.ndarray, start: int):
        scores, positions, locations, sums, histogram = (np.asarray(v) for v in values)
        histogram = histogram.reshape(HIST_BINS, -1).T.astype(np.int64)  # (C, HIST_BINS)
        batch = LayerState(
            scores,
            index_of[positions],
            locations,
            # One float64 sum per shard; images and batches add in their fixed order.
            {start: state.sums.get(start, 0.0) + sums.astype(np.float64).sum(axis=0)},
            # Bin 0 is below the smallest normal float32; TF's CPU kernels flush
            # subnormal results to zero, so the other bins are exactly a > 0.
            histogram[:, 1:].sum(axis=1),
            histogram,
        )
        previous = LayerState(
            state.scores, state.images, state.locations, {}, state.active, state.histogram
        )
        return merge_layer(previous, batch, self.k)
