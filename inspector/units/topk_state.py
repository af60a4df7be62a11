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
(zeros and negatives), bin 1 values up to 2**-10 (about 1e-3), then two bins
per octave (edges 2**e and 1.5 * 2**e, 6.6 per decade) up to 2**10 (about 1e3),
and the last bin everything above. The edges sit where a float32's bits change,
so a value's bin is its exponent and first mantissa bit (``bin_of_bits``): no
search and no table. Every position of every image is counted, so a channel's
counts add up to images x h x w.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

_OCTAVES = 2.0 ** np.arange(-10, 10)
HIST_EDGES = np.concatenate(
    [[np.finfo(np.float32).tiny], np.stack([_OCTAVES, 1.5 * _OCTAVES], 1).ravel(), [2.0**10]]
).astype(np.float32)
HIST_BINS = len(HIST_EDGES) + 1
# A float32's bits shifted right by 22 keep its sign, exponent and first mantissa
# bit: one key per half octave. TINY_KEY is the key of the smallest normal float,
# FIRST_KEY the key of 2**-10, the first edge after it.
TINY_KEY = int(HIST_EDGES[:1].view(np.int32)[0] >> 22)
FIRST_KEY = int(HIST_EDGES[1:2].view(np.int32)[0] >> 22)
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


def bin_of_bits(bits: int) -> int:
    """The bin of one float32 from its int32 bits, as ``searchsorted(HIST_EDGES, x, "right")``.

    Plain Python on one integer, so Numba compiles it into the mining loop
    cheaply (NumPy ufuncs there tripled the compile time). The bits of
    non-negative floats sort like the floats and negative floats have negative
    bits, so ``bits >> 22`` (arithmetic) is below TINY_KEY for zeros, subnormals
    and negatives (bin 0), and from FIRST_KEY on counts half octaves (the edges
    are exactly where that key steps). A NaN with its sign bit set lands in bin 0,
    any other NaN in the last bin.
    """
    key = bits >> 22
    low = 1 if key >= TINY_KEY else 0
    return low + min(max(key - (FIRST_KEY - 1), 0), HIST_BINS - 2)


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
