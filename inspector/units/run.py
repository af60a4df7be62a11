"""``mine_units``: shards, the cache, resuming, progress, cancel, and an optional cluster.

The data set's listing is cut into fixed shards of ``shard_size`` images. Each
shard is mined on its own (here, or on a Dask worker), stored in the cache as
soon as it is done, and merged into the total. Shard boundaries and the batches
inside a shard do not depend on where a shard runs, so every worker computes
bit-identical numbers and the associative merge gives the single-process result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from inspector.defaults import BATCH_SIZE, TOP_K
from inspector.engine.progress import Cancelled, Progress, check_cancelled, report
from inspector.units.cache import (
    cache_key,
    default_cache_root,
    finished_shards,
    read_state,
    shard_stem,
    weights_hash,
    write_state,
)
from inspector.units.mining import ShardMiner
from inspector.units.probe import LayerProbe
from inspector.units.results import UnitsResult, finish
from inspector.units.sources import ImageSource
from inspector.units.topk_state import MiningState, merge_states

# Given the shard ranges still to do, yields each one's MiningState as it finishes.
ShardMap = Callable[[list[tuple[int, int]]], Iterable[MiningState]]

__all__ = ["mine_units", "shard_ranges"]
MINED = "images mined"  # what the progress reports count


def shard_ranges(count: int, shard_size: int) -> list[tuple[int, int]]:
    """``[(0, s), (s, 2s), ...]`` covering ``count`` images."""
    return [(start, min(start + shard_size, count)) for start in range(0, count, shard_size)]


def mine_units(
    probe: LayerProbe,
    source: ImageSource,
    *,
    k: int = TOP_K,
    batch_size: int = BATCH_SIZE,
    shard_size: int = 1024,
    cache_dir: Path | bool | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
    shard_map: ShardMap | None = None,
) -> UnitsResult:
    """Top-k images and statistics of every channel of ``probe``'s layers over ``source``.

    Args:
        probe: the model and its chosen layers.
        source: the images (any ``ImageSource``).
        k: top images per channel (DeepVis shows 9).
        batch_size: images per compiled forward pass.
        shard_size: images per shard: the unit of caching, resuming and distribution.
        cache_dir: cache root (None: ``default_cache_root()``; False: no cache).
        progress: ``(images done, total, "images mined")`` after every batch or shard
            (``inspector.engine.progress``).
        cancelled: polled between batches; True stops with ``CancelledError``,
            keeping every finished shard in the cache.
        shard_map: runs the remaining shards elsewhere (``cluster.dask_shard_map``).

    Returns:
        The frozen ``UnitsResult``.
    """
    ranges = shard_ranges(len(source), shard_size)
    folder = _cache_folder(probe, source, k, batch_size, shard_size, cache_dir)
    miner_state = _cached_complete(folder)
    if miner_state is None:
        miner_state = _mine_missing(
            probe, source, ranges, folder, k, batch_size, progress, cancelled, shard_map
        )
    else:
        report(progress, len(source), len(source), MINED)
    return finish(miner_state, probe, source.name_of)


def _cache_folder(probe, source, k, batch_size, shard_size, cache_dir) -> Path | None:
    if cache_dir is False:
        return None
    listing = source.fingerprint()
    if listing is None:
        return None
    key = cache_key(
        {
            "weights": weights_hash(probe.model),
            "data": listing,
            "layers": list(probe.names),
            "k": k,
            "batch_size": batch_size,
            "shard_size": shard_size,
        }
    )
    return Path(cache_dir or default_cache_root()) / "units" / key


def _cached_complete(folder: Path | None) -> MiningState | None:
    return None if folder is None else read_state(folder, "complete")


def _mine_missing(probe, source, ranges, folder, k, batch_size, progress, cancelled, shard_map):
    miner = ShardMiner(probe, k, batch_size)
    total_state = miner.empty_state()
    done = set()
    if folder is not None:
        for start, stop in finished_shards(folder):
            stored = read_state(folder, shard_stem(start, stop))
            if stored is not None and (start, stop) in ranges:
                total_state = merge_states(total_state, stored)
                done.add((start, stop))
    todo = [r for r in ranges if r not in done]
    counter = _Counter(len(source), progress)
    counter.add(sum(stop - start for start, stop in done))
    if shard_map is None:
        states = _local_states(miner, source, todo, counter, cancelled)
    else:
        states = _remote_states(shard_map(todo), counter, cancelled)
    for state in states:
        if folder is not None:
            write_state(state, folder, shard_stem(*state.shards[0]))
        total_state = merge_states(total_state, state)
    if folder is not None:
        write_state(total_state, folder, "complete")
    return total_state


def _local_states(miner, source, todo, counter, cancelled) -> Iterator[MiningState]:
    for start, stop in todo:
        yield miner.mine(source, start, stop, counter.add, cancelled)


def _remote_states(states: Iterable[MiningState], counter, cancelled) -> Iterator[MiningState]:
    for state in states:
        check_cancelled(cancelled, "mining")
        counter.add(state.images_listed)
        yield state


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress

    def add(self, count: int) -> None:
        self.done += count
        report(self.progress, self.done, self.total, MINED)
