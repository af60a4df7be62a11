"""Mining on a Dask cluster: the shard map runs on workers, the merge stays here.

Why Dask (``dask.distributed``) and not ``tf.distribute``: mining is an
embarrassingly parallel map over shards followed by an associative merge of
small states; it needs no gradient all-reduce, which is all
``MultiWorkerMirroredStrategy`` offers, and that strategy fails under Keras 3
upstream (keras-team/keras#20585). Dask runs on a laptop (``LocalCluster``) and
on any cluster a user already has (a ``tcp://`` scheduler address).

Each worker process loads the model ONCE: ``_worker_miner`` keeps one
``ShardMiner`` per (model file, its modification time, layers, k, batch size)
in a module-level dict, and every later task on that worker reuses it.
Dask is an optional extra (``pip install -e ".[cluster]"``); nothing here is
imported unless a scheduler is asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inspector.engine.errors import ClusterError
from inspector.units.topk_state import MiningState

_WORKER_MINERS: dict[tuple, object] = {}
LOADS = {"count": 0}  # model loads in THIS process (read on workers by the tests)


def parse_scheduler(text: str) -> tuple[str, int | str]:
    """``local:N`` -> ``("local", N)``; ``tcp://HOST:PORT`` -> ``("tcp", text)``.

    Raises:
        ClusterError: anything else.
    """
    match = re.fullmatch(r"local:(\d+)", text.strip())
    if match and int(match.group(1)) >= 1:
        return "local", int(match.group(1))
    if re.fullmatch(r"tcp://[^\s:/]+:\d+", text.strip()):
        return "tcp", text.strip()
    raise ClusterError(
        "Expected --scheduler local:N (N >= 1 worker processes) or tcp://HOST:PORT. "
        f"Received: {text!r}."
    )


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ClusterError(
            'Expected dask.distributed for --scheduler (pip install -e ".[cluster]"). '
            "Received: it is not installed."
        ) from None
    return distributed


@contextmanager
def dask_client(scheduler: str, timeout: float = 10.0):
    """A connected ``distributed.Client`` for ``local:N`` or ``tcp://...``; closed after."""
    kind, value = parse_scheduler(scheduler)
    distributed = _import_distributed()
    cluster = None
    try:
        if kind == "local":
            cluster = distributed.LocalCluster(
                n_workers=value, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(value, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as error:
        if cluster is not None:
            cluster.close()
        raise ClusterError(
            f"Expected a reachable Dask scheduler. Received: {scheduler!r} ({error})."
        ) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _worker_miner(model_path: str, layers: tuple | None, k: int, batch_size: int):
    key = (model_path, Path(model_path).stat().st_mtime_ns, layers, k, batch_size)
    if key not in _WORKER_MINERS:
        from inspector.engine.model_loading import load_model
        from inspector.units.mining import ShardMiner
        from inspector.units.probe import LayerProbe

        LOADS["count"] += 1
        probe = LayerProbe(load_model(model_path), list(layers) if layers else None)
        _WORKER_MINERS[key] = ShardMiner(probe, k, batch_size)
    return _WORKER_MINERS[key]


def _mine_on_worker(model_path, layers, k, batch_size, source, start, stop) -> MiningState:
    return _worker_miner(model_path, layers, k, batch_size).mine(source, start, stop)


def _load_count() -> int:
    return LOADS["count"]


def worker_loads(client) -> dict:
    """How many times each worker has loaded a model (for tests and the benchmark)."""
    return client.run(_load_count)


def dask_shard_map(client, model_path: Path, layers, k: int, batch_size: int, source):
    """A ``ShardMap`` for ``mine_units`` that mines each shard on the cluster.

    The source is scattered once to every worker; states come back as they finish
    (any order: the merge does not care).
    """
    distributed = _import_distributed()
    layers = tuple(layers) if layers else None
    shared = client.scatter(source, broadcast=True)

    def run(ranges: list[tuple[int, int]]) -> Iterator[MiningState]:
        futures = [
            client.submit(
                _mine_on_worker,
                str(model_path),
                layers,
                k,
                batch_size,
                shared,
                start,
                stop,
                pure=False,
            )
            for start, stop in ranges
        ]
        for future in distributed.as_completed(futures):
            yield future.result()

    return run
