"""The mergeable state of top-k mining: what a shard leaves behind, and how two combine.

The DeepVis toolbox (Yosinski et al., "Understanding Neural Networks Through Deep
Visualization", ICML DL workshop 2015) ranks a unit's dataset images by the
unit's maximum activation over positions; we keep the k best per channel.

Every field merges exactly, so shards can be mined in any order, on any
machine, and merged in any grouping with the SAME result (the merge is
associative and commutative, and a test checks it):

* top-k: the union of both candidate lists sorted by (score descending, image
  index ascending), cut to k. Ties therefore go to the earlier image.
* counts (active positions, histogram bins, images read): integer sums.
* activation sums: floating-point addition is not associative, so each shard
  keeps its own float64 sum, keyed by its first image index; the mean adds them
  in index order only when it is read.

Histogram bins are FIXED before any data is seen (not from a first pass), so
shards need no agreement: bin 0 holds values below the smallest normal float32
(zeros and negatives), bin 1 values up to 1e-3, then 36 log-spaced bins (six
per decade) up to 1e3, and the last bin everything above. Every position of
every image is counted, so a channel's counts add up to images x h x w.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

HIST_EDGES = np.concatenate([[np.finfo(np.float32).tiny], np.logspace(-3, 3, 37)]).astype(
    np.float32
)
HIST_BINS = len(HIST_EDGES) + 1
KEY_SHIFT = 20  # a float32's top 12 bits: sign, exponent and 3 mantissa bits
NO_IMAGE = np.iinfo(np.int64).max  # sorts after every real index


@dataclass
class LayerState:
    """Top-k candidates and statistics of one layer's C channels.

    Attributes:
        scores: float32 ``(C, k)`` max activation of each top image, best first
            (``-inf`` for empty slots).
        images: int64 ``(C, k)`` listing index of each top image (``NO_IMAGE`` if empty).
        locations: int32 ``(C, k)`` flat ``row * w + col`` of that maximum.
        sums: shard start -> float64 ``(C,)`` sum of activations over that shard.
        active: int64 ``(C,)`` positions with activation > 0.
        histogram: int64 ``(C, HIST_BINS)`` positions per fixed bin.
    """

    scores: np.ndarray
    images: np.ndarray
    locations: np.ndarray
    sums: dict[int, np.ndarray] = field(default_factory=dict)
    active: np.ndarray | None = None
    histogram: np.ndarray | None = None

    @classmethod
    def empty(cls, channels: int, k: int) -> LayerState:
        return cls(
            np.full((channels, k), -np.inf, np.float32),
            np.full((channels, k), NO_IMAGE, np.int64),
            np.full((channels, k), -1, np.int32),
            {},
            np.zeros(channels, np.int64),
            np.zeros((channels, HIST_BINS), np.int64),
        )


@dataclass
class MiningState:
    """Everything mining keeps: per-layer states and which image ranges are covered.

    Attributes:
        layers: layer name -> ``LayerState``.
        shards: ``(start, stop)`` of every image range merged in, sorted.
        images_read: images that were read (ranges minus unreadable files).
        k: how many top images per channel.
    """

    layers: dict[str, LayerState]
    shards: tuple[tuple[int, int], ...]
    images_read: int
    k: int

    @property
    def images_listed(self) -> int:
        return sum(stop - start for start, stop in self.shards)


@functools.cache
def bin_tables() -> tuple[np.ndarray, np.ndarray]:
    """Tables that bin a float32 by its bits, exactly as ``searchsorted(HIST_EDGES, x, "right")``.

    The int32 bits of non-negative floats sort like the floats, and negative
    floats have negative bits, below every (positive) edge. The top
    ``32 - KEY_SHIFT`` bits name an interval whose ends differ by a factor of at
    most 1 + 2**-3, narrower than a bin (10**(1/6) = 1.47), so it holds at most one
    edge: ``bin = first[key] + (bits >= edge[key])``. Two lookups in 16 KB tables
    (they stay in the L1 cache) replace a binary search per position.

    Returns:
        first: int32 ``(2**12,)`` the bin of the interval's lowest value.
        edge: int32 ``(2**12,)`` the bits of the edge inside it, or int32 max.
    """
    edge_bits = HIST_EDGES.view(np.int32)
    keys = np.arange(2 ** (32 - KEY_SHIFT), dtype=np.int64)
    low = (keys << KEY_SHIFT).astype(np.uint32).view(np.int32)
    high = ((keys + 1) << KEY_SHIFT) - 1
    high = high.astype(np.uint32).view(np.int32)
    first = np.searchsorted(edge_bits, low, side="right")
    last = np.searchsorted(edge_bits, high, side="right")
    if np.any(last - first > 1):
        raise ValueError("Expected at most one edge per key interval. Received: more.")
    # Keys with the sign bit set (negative floats) have negative bits: bin 0, no edge.
    inner = edge_bits[np.minimum(first, len(edge_bits) - 1)]
    edge = np.where(last > first, inner, np.iinfo(np.int32).max)
    return first.astype(np.int32), edge.astype(np.int32)


def best_k(scores, images, locations, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep, per row, the k candidates with the highest score; ties to the lower index.

    Args:
        scores, images, locations: ``(C, m)`` candidates.

    Returns:
        The three arrays cut to ``(C, k)``, best first.
    """
    # np.lexsort sorts by the LAST key first: score descending, then image index.
    order = np.lexsort((images, -scores.astype(np.float64)), axis=-1)[:, :k]
    take = np.take_along_axis
    return take(scores, order, -1), take(images, order, -1), take(locations, order, -1)


def merge_layer(a: LayerState, b: LayerState, k: int) -> LayerState:
    scores, images, locations = best_k(
        np.concatenate([a.scores, b.scores], 1),
        np.concatenate([a.images, b.images], 1),
        np.concatenate([a.locations, b.locations], 1),
        k,
    )
    overlap = set(a.sums) & set(b.sums)
    if overlap:
        raise ValueError(f"Expected disjoint shards. Received: both hold shard {min(overlap)}.")
    return LayerState(
        scores,
        images,
        locations,
        {**a.sums, **b.sums},
        a.active + b.active,
        a.histogram + b.histogram,
    )


def merge_states(a: MiningState, b: MiningState) -> MiningState:
    """The state of both states' images together; associative and commutative."""
    if a.k != b.k or list(a.layers) != list(b.layers):
        raise ValueError("Expected states of the same layers and k.")
    return MiningState(
        {name: merge_layer(a.layers[name], b.layers[name], a.k) for name in a.layers},
        tuple(sorted(a.shards + b.shards)),
        a.images_read + b.images_read,
        a.k,
    )


def total_sum(state: LayerState) -> np.ndarray:
    """float64 ``(C,)`` sum over every shard, added in shard order (so it is exact-repeatable)."""
    total = np.zeros(len(state.active), np.float64)
    for start in sorted(state.sums):
        total = total + state.sums[start]
    return total
