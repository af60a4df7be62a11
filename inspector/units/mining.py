"""Top-k mining of one shard: one compiled forward pass per batch, one read of its activations.

Per batch, the probe's traced pass computes the chosen layers, and
``channel_stats.batch_statistics`` reads each activation once, where TensorFlow
left it, for every image's per-channel maximum (and where it is), sum and
fixed-bin histogram of EVERY position (which also gives the count of active
positions: all bins but bin 0). Only those few numbers per image and channel
are kept; each batch's activations are freed before the next is computed, so
memory is flat in the number of images. The host takes each channel's batch
top k (a stable sort, so ties go to the lower index) and merges it into the
running ``LayerState`` with ``topk_state.merge_layer``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np

from inspector.engine.errors import CancelledError
from inspector.units.channel_stats import batch_statistics
from inspector.units.probe import LayerProbe
from inspector.units.sources import ImageSource, batches
from inspector.units.topk_state import LayerState, MiningState, merge_layer

Progress = Callable[[int], None]  # called with the number of images just finished
Cancelled = Callable[[], bool]


class MiningCancelled(CancelledError):
    """Raised inside a shard when the cancel check says stop; the shard is discarded."""


def batch_top(maxima: np.ndarray, where: np.ndarray, k: int) -> tuple:
    """Each channel's best k images of one batch.

    Args:
        maxima: float32 ``(B, C)`` each image's maximum; where: int32 ``(B, C)`` its position.

    Returns:
        float32 ``(C, k')`` scores, best first; int ``(C, k')`` batch positions of
        those images; int32 ``(C, k')`` their maxima's positions; ``k' = min(k, B)``.
        A stable sort of the negated scores puts the lower index first on ties.
    """
    per_channel = maxima.T  # (C, B)
    order = np.argsort(-per_channel, axis=1, kind="stable")[:, :k]
    scores = np.take_along_axis(per_channel, order, axis=1)
    return scores, order, np.take_along_axis(where.T, order, axis=1)


class ShardMiner:
    """Mines ranges of an ``ImageSource``: per batch, one traced pass and one read of it.

    Args:
        probe: the model's chosen layers.
        k: top images kept per channel.
        batch_size: images per compiled call.
    """

    def __init__(self, probe: LayerProbe, k: int = 9, batch_size: int = 64) -> None:
        self.probe, self.k, self.batch_size = probe, int(k), int(batch_size)

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
        with contextlib.closing(batches(source, start, stop, self.batch_size)) as pipeline:
            for images, index_of in pipeline:
                if cancelled is not None and cancelled():
                    raise MiningCancelled
                results = batch_statistics(self.probe.forward(images))
                for layer, values in zip(self.probe.layers, results, strict=True):
                    layers[layer.name] = self._merge_batch(
                        layers[layer.name], values, index_of, start
                    )
                read += len(index_of)
                if progress is not None:
                    progress(len(index_of))
        return MiningState(layers, ((start, stop),), read, self.k)

    def _merge_batch(self, state: LayerState, values, index_of: np.ndarray, start: int):
        maxima, where, sums, histogram = values
        scores, positions, locations = batch_top(maxima, where, self.k)
        batch = LayerState(
            scores,
            index_of[positions],
            locations,
            # One float64 sum per shard; images and batches add in their fixed order.
            {start: state.sums.get(start, 0.0) + sums.sum(axis=0)},
            # Bin 0 is below the smallest normal float32; TF's CPU kernels flush
            # subnormal results to zero, so the other bins are exactly a > 0.
            histogram[:, 1:].sum(axis=1),
            histogram,
        )
        previous = LayerState(
            state.scores, state.images, state.locations, {}, state.active, state.histogram
        )
        return merge_layer(previous, batch, self.k)
