"""Mining and dissection on a Dask cluster: the shard map runs on workers, the merge stays here.

Why Dask (``dask.distributed``) and not ``tf.distribute``: mining and
dissection are embarrassingly parallel maps over shards followed by an
associative merge of small states; they need no gradient all-reduce, which is all
``MultiWorkerMirroredStrategy`` offers, and that strategy fails under Keras 3
upstream (keras-team/keras#20585). Dask runs on a laptop (``LocalCluster``) and
on any cluster a user already has (a ``tcp://`` scheduler address).

Each worker process loads the model ONCE: ``_worker_tool`` keeps one
``LayerProbe`` per ``ProbeSpec`` (model file, its modification time, layers,
preprocessing, inputs) and one tool (a ``ShardMiner``, a ``Dissector`` or a
response meter) per probe and settings in module-level dicts, and every later
task on that worker reuses them. The spec carries the host's preprocessing and
inputs, so a worker feeds the model exactly what a single process would. Data every shard reads
(the mining source, the dissection's images and masks) is scattered to every
worker once; a task carries only its range (and, for dissection, its pass).
Dask is an optional extra (``pip install -e ".[cluster]"``); nothing here is
imported unless a scheduler is asked for.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from inspector.engine.errors import ClusterError
from inspector.engine.preprocessing import Preprocessing
from inspector.units.topk_state import MiningState

_WORKER_PROBES: dict[tuple, object] = {}
_WORKER_TOOLS: dict[tuple, object] = {}
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


@dataclass(frozen=True)
class ProbeSpec:
    """How a worker rebuilds the host's ``LayerProbe``: the model file and every choice
    that decides what the model is fed.

    Attributes:
        model_path: the model file (every worker must see the same path).
        layers: the chosen layer names, or None for every conv layer.
        preprocess: the host's preprocessing, used as it is (not decided again).
        unsafe: load Lambda layers (the user asked for it on the host).
        image_input: which input is the image; ``other_inputs``: ``(name, array)``
            pairs fed to the others.
    """

    model_path: str
    layers: tuple | None
    preprocess: Preprocessing
    unsafe: bool = False
    image_input: int | str | None = None
    other_inputs: tuple = ()

    @classmethod
    def of(cls, model_path: Path, probe, unsafe: bool = False) -> ProbeSpec:
        """The spec of ``probe`` (built on the host from ``model_path``)."""
        plan = probe.plan
        others = tuple(
            (name, fixed)
            for name, fixed in zip(plan.names, plan.others, strict=True)
            if fixed is not None
        )
        layers = tuple(probe.names)
        return cls(str(model_path), layers, probe.preprocess, unsafe, plan.image_index, others)

    def key(self) -> tuple:
        """Hashable: the model file as it is now, and every choice."""
        others = tuple(
            (name, hashlib.sha256(array.tobytes()).hexdigest()) for name, array in self.other_inputs
        )
        mtime = Path(self.model_path).stat().st_mtime_ns
        return (
            self.model_path,
            mtime,
            self.layers,
            self.preprocess,
            self.unsafe,
            self.image_input,
            others,
        )

    def build(self):
        from inspector.engine.model_loading import load_model
        from inspector.units.probe import LayerProbe

        model = load_model(self.model_path, unsafe=self.unsafe)
        return LayerProbe(
            model,
            list(self.layers) if self.layers else None,
            self.preprocess,
            image_input=self.image_input,
            other_inputs=dict(self.other_inputs),
        )


def _worker_tool(build, spec: ProbeSpec, *settings):
    """``build(probe, *settings)``, made once on this worker over a model loaded once."""
    model_key = spec.key()
    if model_key not in _WORKER_PROBES:
        LOADS["count"] += 1
        _WORKER_PROBES[model_key] = spec.build()
    key = (build, model_key, settings)
    if key not in _WORKER_TOOLS:
        _WORKER_TOOLS[key] = build(_WORKER_PROBES[model_key], *settings)
    return _WORKER_TOOLS[key]


def _mine_on_worker(spec, k, batch_size, source, start, stop) -> MiningState:
    from inspector.units.mining import ShardMiner

    return _worker_tool(ShardMiner, spec, k, batch_size).mine(source, start, stop)


def _dissect_on_worker(spec, batch_size, data, task, start, stop) -> list:
    from inspector.units.dissection import Dissector

    return _worker_tool(Dissector, spec, batch_size).run_shard(data, task, start, stop)


def _responses_on_worker(spec, batch_size, data, seed, start, stop) -> list:
    from inspector.units.unit_responses import variant_meter

    meter = _worker_tool(variant_meter, spec, seed, batch_size)
    return meter.run(data.images, start, stop)


def _load_count() -> int:
    return LOADS["count"]


def worker_loads(client) -> dict:
    """How many times each worker has loaded a model (for tests and the benchmark)."""
    return client.run(_load_count)


def dask_shard_map(client, spec: ProbeSpec, k: int, batch_size: int, source):
    """A ``ShardMap`` for ``mine_units`` that mines each shard on the cluster.

    The source is scattered once to every worker; states come back as they finish
    (any order: the merge does not care).
    """
    distributed = _import_distributed()
    shared = client.scatter(source, broadcast=True)

    def run(ranges: list[tuple[int, int]]) -> Iterator[MiningState]:
        futures = [
            client.submit(_mine_on_worker, spec, k, batch_size, shared, start, stop, pure=False)
            for start, stop in ranges
        ]
        for future in distributed.as_completed(futures):
            yield future.result()

    return run


def _bound_map(client, on_worker, spec: ProbeSpec):
    """Binds a pass's data once, then runs its jobs ``(what, start, stop)`` as
    ``on_worker(spec, batch size, data, what, start, stop)`` tasks.

    The data (tens of MB) is scattered once to every worker when bound; each job
    then ships only what it runs and its range. Results come back as they finish
    (any order: the merges do not care); jobs still running when the caller
    stops (a cancel) are cancelled.
    """
    distributed = _import_distributed()

    def bind(data, batch_size: int):
        # hash=False: tokenizing tens of MB only to name the one copy costs time.
        shared = client.scatter(data, broadcast=True, hash=False)

        def run(jobs) -> Iterator[tuple[int, list]]:
            futures = {
                client.submit(on_worker, spec, batch_size, shared, *job, pure=False): index
                for index, job in enumerate(jobs)
            }
            try:
                for future in distributed.as_completed(futures):
                    yield futures[future], future.result()
            finally:
                pending = [future for future in futures if not future.done()]
                if pending:
                    client.cancel(pending)

        return run

    return bind


def dask_dissection_map(client, spec: ProbeSpec):
    """A ``ShardMap`` for ``Dissector.dissect``: each (pass, shard) job on the cluster."""
    return _bound_map(client, _dissect_on_worker, spec)


def dask_response_map(client, spec: ProbeSpec):
    """A ``ResponseMap`` for ``measure_selectivity``: each (variant, rows) job on the
    cluster. A worker builds each random copy once (seeded, so every worker builds
    the same copy) and keeps it."""
    return _bound_map(client, _responses_on_worker, spec)
