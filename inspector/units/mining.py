"""Top-k mining of one shard: one compiled forward pass per batch, one read of its activations.

Per batch, the probe's traced pass computes the chosen layers, and
``channel_stats.batch_statistics`` reads each activation once, where TensorFlow
left it, for every image's per-channel maximum (and where it is), sum and
fixed-bin histogram of EVERY position (which also gives the count of active
positions: all bins but bin 0). Only those few numbers per image and channel
are kept; each batch's activations are freed before the next is computed, so
memory is flat in the number of images. ``insert_batch`` then puts the batch's
images into each channel's running top k, in ``topk_state.best_k``'s order
(ties go to the lower index).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numba
import numpy as np

from inspector.defaults import BATCH_SIZE, TOP_K
from inspector.engine.progress import Cancelled, check_cancelled
from inspector.units.channel_stats import batch_statistics
from inspector.units.probe import LayerProbe
from inspector.units.sources import ImageSource, batches
from inspector.units.topk_state import LayerState, MiningState

BatchDone = Callable[[int], None]  # called with the number of images just finished


@numba.njit(nogil=True, boundscheck=False, cache=False)
def insert_batch(scores, images, locations, maxima, where, index_of) -> None:
    """Puts one batch's images into every channel's top list, in place.

    Args:
        scores: float32 ``(C, k)`` best first; images: int64 ``(C, k)``;
            locations: int32 ``(C, k)`` (a ``LayerState``'s top lists).
        maxima: float32 ``(B, C)`` each image's maximum; where: int32 ``(B, C)``
            its position; index_of: int64 ``(B,)`` the images' listing indices.

    The order is ``topk_state.best_k``'s (score descending, then the lower image
    index), so this equals merging the batch as a state, without sorting: most
    images fall below a channel's k-th score and cost one comparison.
    """
    k = scores.shape[1]
    for c in range(scores.shape[0]):
        top, top_images, top_locations = scores[c], images[c], locations[c]
        for b in range(maxima.shape[0]):
            value, image = maxima[b, c], index_of[b]
            if value < top[k - 1] or (value == top[k - 1] and image > top_images[k - 1]):
                continue
            j = k - 1  # shift the worse ones down one slot
            while j > 0 and (
                value > top[j - 1] or (value == top[j - 1] and image < top_images[j - 1])
            ):
                top[j], top_images[j], top_locations[j] = (
                    top[j - 1],
                    top_images[j - 1],
                    top_locations[j - 1],
                )
                j -= 1
            top[j], top_images[j], top_locations[j] = value, image, where[b, c]


class ShardMiner:
    """Mines ranges of an ``ImageSource``: per batch, one traced pass and one read of it.

    Args:
        probe: the model's chosen layers.
        k: top images kept per channel.
        batch_size: images per compiled call.
    """

    def __init__(self, probe: LayerProbe, k: int = TOP_K, batch_size: int = BATCH_SIZE) -> None:
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
        batch_done: BatchDone | None = None,
        cancelled: Cancelled | None = None,
    ) -> MiningState:
        """The state of images ``[start, stop)``: batches in order, each merged as it comes.

        ``batch_done(images)`` counts each finished batch (``mine_units`` turns the
        counts into ``inspector.engine.progress`` reports).

        Raises:
            CancelledError: when ``cancelled()`` turns True between batches; the
                shard is discarded.
        """
        state = self.empty_state()
        layers = state.layers
        read = 0
        with contextlib.closing(batches(source, start, stop, self.batch_size)) as pipeline:
            for images, index_of in pipeline:
                check_cancelled(cancelled, "mining")
                results = batch_statistics(self.probe.forward(images))
                for layer, values in zip(self.probe.layers, results, strict=True):
                    self._merge_batch(layers[layer.name], values, index_of, start)
                read += len(index_of)
                if batch_done is not None:
                    batch_done(len(index_of))
        return MiningState(layers, ((start, stop),), read, self.k)

    def _merge_batch(self, state: LayerState, values, index_of: np.ndarray, start: int) -> None:
        """Adds one batch's statistics to this shard's own ``state``, in place."""
        maxima, where, sums, histogram = values
        index_of = np.asarray(index_of, np.int64)  # the reader's already are: no copy
        insert_batch(state.scores, state.images, state.locations, maxima, where, index_of)
        # One float64 sum per shard; images and batches add in their fixed order.
        state.sums[start] = state.sums.get(start, 0.0) + sums.sum(axis=0)
        # Bin 0 is below the smallest normal float32; TF's CPU kernels flush
        # subnormal results to zero, so the other bins are exactly a > 0.
        state.active += histogram[:, 1:].sum(axis=1)
        state.histogram += histogram
