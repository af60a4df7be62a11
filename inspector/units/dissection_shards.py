"""Dissection as a map over shards: what every shard reads, the tasks, the exact merges.

Pass 1 keeps each unit's top ``m`` raw activations (``m`` from the WHOLE data
set, so a shard's kept values merge exactly: the top m of a union is the top m
of the parts' top m); pass 2 sums integer pixel counts. Shards are whole
batches, so a result does not depend on where or in what order they ran.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from inspector.units.concepts import ConceptSet
from inspector.units.dissection_scoring import over_negatives, shuffled_masks

Job = tuple["ShardTask", int, int]  # one pass over the rows [start, stop) of its images
# Runs jobs; yields (job index, the job's result) as each finishes, in any order.
PassMap = Callable[[list[Job]], Iterable[tuple[int, list]]]
# Binds the data (and the batch size) of one dissection: ``cluster.dask_dissection_map``.
ShardMap = Callable[["DissectionData", int], PassMap]


@dataclass(frozen=True)
class DissectionData:
    """What every shard reads, built once on the host from the whole concept set.

    Attributes:
        images: float32 ``(N, H, W, C)`` in [0, 1].
        masks: bool ``(N, H, W, K)``, concepts in column order; annotated: bool ``(N, K)``.
        shuffled: bool ``(N, H, W, K)``: the shuffled-masks control. It is drawn here
            from every image with the seed, so a shard only slices it.
        negatives: int ``(M,)`` the non-face images of the non-face control; donors:
            int ``(M,)`` the face image whose masks each one carries (M = 0: no control).
    """

    images: np.ndarray
    masks: np.ndarray
    annotated: np.ndarray
    shuffled: np.ndarray
    negatives: np.ndarray
    donors: np.ndarray

    def rows(self, kind: str) -> int:
        """How many images pass ``kind`` (a ``ShardTask.kind``) runs over."""
        return len(self.negatives) if kind == "negatives" else len(self.images)

    def part(self, kind: str, start: int, stop: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Images ``(n, H, W, C)``, masks ``(n, H, W, K)``, annotated ``(n, K)`` of rows
        ``[start, stop)`` of the count pass ``kind``."""
        if kind == "negatives":
            rows, donors = self.negatives[start:stop], self.donors[start:stop]
            return self.images[rows], self.masks[donors], self.annotated[donors]
        masks = self.shuffled if kind == "shuffled" else self.masks
        return self.images[start:stop], masks[start:stop], self.annotated[start:stop]


def dissection_data(concepts: ConceptSet, seed: int = 0) -> DissectionData:
    """The stacked masks, the seeded shuffled control and the non-face pairing of ``concepts``."""
    masks = np.stack([concepts.masks[n] for n in concepts.names], -1)
    annotated = np.stack([concepts.annotated[n] for n in concepts.names], -1)
    negatives, donors = over_negatives(concepts, annotated)
    shuffled = shuffled_masks(masks, annotated, seed)
    return DissectionData(concepts.images, masks, annotated, shuffled, negatives, donors)


@dataclass(frozen=True, eq=False)  # eq=False: no element-wise array comparisons
class ShardTask:
    """One pass, as sent with each shard.

    Attributes:
        kind: ``"top"`` (pass 1) or a count pass: ``"real"``, ``"shuffled"``, ``"negatives"``.
        wanted: pass 1: per layer, m = ceil(q * N * h * w) over the WHOLE data set.
        levels: count passes: per layer, the float32 ``(C,)`` thresholds T_k.
    """

    kind: str
    wanted: tuple[int, ...] = ()
    levels: tuple[np.ndarray, ...] = ()


def merge_shards(task: ShardTask, first: list, second: list) -> list:
    """The exact merge of two shards' results of ``task``, in either order: the top m
    values of both (pass 1) or the summed integer counts (pass 2)."""
    if task.kind == "top":
        return [top_m(b, a, m) for a, b, m in zip(first, second, task.wanted, strict=True)]
    return [(ia + ib, aa + ab) for (ia, aa), (ib, ab) in zip(first, second, strict=True)]


def kept_with(kept, values: np.ndarray, units: np.ndarray, m: int, count: int) -> np.ndarray:
    """float32 ``(C, <= m)``: the top m of each unit's kept values and its new ``values``
    (flat, of the units ``units``, in unit order). Every unit ends with the same
    number: m once any has m, and until then every value seen."""
    rows = np.split(values, np.cumsum(np.bincount(units, minlength=count))[:-1])
    if kept is not None:
        rows = [np.concatenate([old, new]) for old, new in zip(kept, rows, strict=True)]
    return np.stack([row if len(row) <= m else -np.partition(-row, m - 1)[:m] for row in rows])


def floor_of(kept: np.ndarray | None, m: int, units: int) -> np.ndarray:
    """float32 ``(C,)``: the smallest of each unit's kept values; -inf until it keeps m."""
    if kept is None or kept.shape[1] < m:
        return np.full(units, -np.inf, np.float32)
    return np.min(kept, axis=1)


def levels_of(kept: list[np.ndarray]) -> list[np.ndarray]:
    """T_k per layer: the smallest of each unit's top m values, float32 ``(C,)``."""
    return [np.min(values, axis=1) for values in kept]


def top_m(new: np.ndarray, kept: np.ndarray | None, m: int) -> np.ndarray:
    both = new if kept is None else np.concatenate([kept, new], axis=1)
    if both.shape[1] <= m:
        return both
    return -np.partition(-both, m - 1, axis=1)[:, :m]
