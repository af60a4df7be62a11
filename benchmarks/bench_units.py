"""Benchmark: top-k mining against a bare batched forward pass of the same layers.

The floor runs the SAME input pipeline (``sources.batches``: a reader thread
up to two batches ahead) and the SAME compiled pass over the chosen layers, and keeps nothing;
mining adds the per-channel statistics (per-image max and where it is, sums,
the fixed-bin histogram of every position) and the top-k insert and merge. Both sides
are timed the same way (medians of interleaved repeats), so the ratio is the
price of mining. Wall-clock ratios move with other users' load on a shared
machine, so the process CPU-time ratio is printed beside them.

``ablation`` times one batch's pass, then adds the per-channel statistics on
one thread and on all, then the top-k insert and merge (no pipeline), and
prints each step's extra cost per batch and per activation element: where
mining's time goes. Also: peak RSS at N and 10 N (each in a
fresh process, with a source that makes images on demand, so the data itself
takes no memory), Dask ``local:2`` against one process, and
feature-visualisation seconds per layer.

Run: python benchmarks/bench_units.py [--repeats 3]
    [--parts mining,ablation,memory,dask,visualize]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np

from inspector.engine.model_loading import load_model
from inspector.units.mining import ShardMiner
from inspector.units.probe import LayerProbe
from inspector.units.sources import batches


class NoiseSource:
    """Images made on demand from their index: memory does not grow with N."""

    def __init__(self, count: int, shape: tuple, high: float) -> None:
        self.count, self.shape, self.high = count, tuple(shape), high

    def __len__(self) -> int:
        return self.count

    def fingerprint(self) -> None:
        return None

    def name_of(self, index: int) -> int:
        return index

    def read(self, start: int, stop: int):
        rng = np.random.default_rng(start)
        images = rng.uniform(0, self.high, (stop - start, *self.shape)).astype(np.float32)
        return images, np.arange(start, stop, dtype=np.int64)


def top_value(probe: LayerProbe) -> float:
    """The largest model-input value a real image reaches (raw 255 preprocessed)."""
    return float(probe.preprocess.bounds(probe.input_shape[2])[1].max())


def face_model():
    from models.default_model import default_model_path

    return load_model(default_model_path()), str(default_model_path())


def mobilenet():
    return keras.applications.MobileNetV2(input_shape=(224, 224, 3), weights=None), None


def _timed(run) -> tuple[float, float]:
    """Wall and process CPU seconds (all threads) of ``run()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def _floor(probe: LayerProbe, source, batch_size: int) -> tuple[float, float]:
    def run():
        for images, _ in batches(source, 0, len(source), batch_size):
            probe.forward(images)  # eager call of the traced pass: returns when computed

    return _timed(run)


def _mine(miner: ShardMiner, source) -> tuple[float, float]:
    return _timed(lambda: miner.mine(source, 0, len(source)))


def _medians(sides: dict, repeats: int) -> dict:
    """name -> (median wall, median CPU) seconds; the sides run interleaved, so
    load changes hit all of them alike."""
    times = {name: [] for name in sides}
    for _ in range(repeats):
        for name, run in sides.items():
            times[name].append(run())
    return {
        name: tuple(statistics.median(column) for column in zip(*rows, strict=True))
        for name, rows in times.items()
    }


def bench_mining(name: str, build, count: int, batch_size: int, repeats: int) -> None:
    model, _ = build()
    probe = LayerProbe(model)
    source = NoiseSource(count, probe.input_shape, top_value(probe))
    miner = ShardMiner(probe, k=9, batch_size=batch_size)
    small = NoiseSource(batch_size * 2, probe.input_shape, top_value(probe))
    _floor(probe, small, batch_size), _mine(miner, small)  # trace both before timing
    sides = {
        "floor": lambda: _floor(probe, source, batch_size),
        "mine": lambda: _mine(miner, source),
    }
    (floor, floor_cpu), (mine, mine_cpu) = _medians(sides, repeats).values()
    print(
        f"{name}: {len(probe.layers)} layers, N={count}, batch {batch_size}: "
        f"forward floor {count / floor:.0f} img/s, mining {count / mine:.0f} img/s, "
        f"throughput ratio {floor / mine:.2f} (goal >= 0.8); CPU-time ratio "
        f"{floor_cpu / mine_cpu:.2f}; load average {os.getloadavg()[0]:.1f}"
    )


def bench_ablation(name: str, build, batch_size: int, batches_: int, repeats: int) -> None:
    import tensorflow as tf

    from inspector.units import channel_stats

    model, _ = build()
    probe = LayerProbe(model)
    images = NoiseSource(batch_size, probe.input_shape, top_value(probe)).read(0, batch_size)
    images = tf.constant(images[0])
    elements = batch_size * sum(int(np.prod(layer.shape)) for layer in probe.layers)
    miner = ShardMiner(probe, k=9, batch_size=batch_size)
    state, index_of = miner.empty_state(), np.arange(batch_size)

    def statistics_(threads):
        return lambda: channel_stats.batch_statistics(probe.forward(images), threads)

    def everything():
        results = channel_stats.batch_statistics(probe.forward(images))
        for layer, values in zip(probe.layers, results, strict=True):
            miner._merge_batch(state.layers[layer.name], values, index_of, 0)

    pieces = {
        "forward only": lambda: probe.forward(images),
        "+ statistics, 1 thread": statistics_(1),
        f"+ statistics, {os.cpu_count()} threads": statistics_(os.cpu_count()),
        "+ top-k insert and merge (= mining)": everything,
    }

    def timed(piece):
        piece()  # trace and compile before timing

        def run():
            # Each result is dropped at once: a list of them kept every batch's
            # activations alive, and the page faults of that fresh memory made
            # "forward only" as slow as forward plus statistics on the face model.
            for _ in range(batches_):
                piece()

        return lambda: _timed(run)

    times = _medians({label: timed(piece) for label, piece in pieces.items()}, repeats)
    floor, floor_cpu = times["forward only"]
    print(f"ablation, {name}: batch {batch_size}, {elements / batch_size:.3g} elements/image")
    for label, (wall, cpu) in times.items():
        extra, extra_cpu = (wall - floor) / batches_, (cpu - floor_cpu) / batches_
        print(
            f"  {label:36s} {1000 * wall / batches_:7.1f} ms/batch (+{1000 * extra:6.1f}), "
            f"CPU +{1000 * extra_cpu:6.1f} ms = {1e9 * extra_cpu / elements:.2f} ns/element"
        )
    print(f"  load average {os.getloadavg()[0]:.1f}")


def _rss_child(count: int) -> None:
    model, _ = face_model()
    probe = LayerProbe(model)
    miner = ShardMiner(probe, k=9, batch_size=64)
    miner.mine(NoiseSource(count, probe.input_shape, top_value(probe)), 0, count)
    print(json.dumps({"peak_kb": _peak_rss_kb()}))


def _peak_rss_kb() -> int:
    """This process's own peak RSS. Not ``ru_maxrss``: on Linux a child started by
    fork and exec keeps the parent's peak there, so a child of a big parent would
    report the parent's size (2.7 GB after the MobileNetV2 ablation, measured)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def bench_memory(count: int) -> None:
    peaks = {}
    for n in (count, 10 * count):
        output = (
            subprocess.run(
                [sys.executable, __file__, "--rss-child", str(n)],
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        peaks[n] = json.loads(output)["peak_kb"] / 1024
    low, high = peaks[count], peaks[10 * count]
    print(
        f"memory (face model): peak RSS {low:.0f} MB at N={count}, {high:.0f} MB at "
        f"N={10 * count}: {100 * (high - low) / low:+.1f} % (goal within 10 %)"
    )


def bench_dask(count: int, shard_size: int) -> None:
    from inspector.units.cluster import ProbeSpec, dask_client, dask_shard_map
    from inspector.units.run import mine_units
    from inspector.units.sources import ArraySource

    model, path = face_model()
    probe = LayerProbe(model)
    images = NoiseSource(count, probe.input_shape, top_value(probe)).read(0, count)[0]
    source = ArraySource(images)
    settings = dict(k=9, batch_size=64, shard_size=shard_size, cache_dir=False)
    mine_units(probe, ArraySource(images[:128]), **settings)  # trace
    started = time.perf_counter()
    mine_units(probe, source, **settings)
    alone = time.perf_counter() - started
    started = time.perf_counter()
    with dask_client("local:2") as client:
        ready = time.perf_counter()
        shard_map = dask_shard_map(client, ProbeSpec.of(Path(path), probe), 9, 64, source)
        mine_units(probe, source, shard_map=shard_map, **settings)
        spread = time.perf_counter() - ready
    print(
        f"dask local:2 (face model, N={count}, shards of {shard_size}): one process "
        f"{alone:.1f} s, local:2 {spread:.1f} s (includes each worker's model load) -> "
        f"speed-up {alone / spread:.2f}x; cluster start-up {ready - started:.1f} s extra"
    )


def bench_visualize() -> None:
    from inspector.units.feature_visualization import FeatureVisualizer

    model, _ = face_model()
    probe = LayerProbe(model)
    visualizer = FeatureVisualizer(probe)
    for layer in probe.layers:
        channels = np.arange(layer.shape[2])
        visualizer.visualize(layer.name, channels[:1])  # trace
        started = time.perf_counter()
        visualizer.visualize(layer.name, channels)
        seconds = time.perf_counter() - started
        print(f"feature visualisation {layer.name}: {len(channels)} channels in {seconds:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", default="mining,ablation,memory,dask,visualize")
    parser.add_argument("--rss-child", type=int)
    args = parser.parse_args()
    if args.rss_child:
        _rss_child(args.rss_child)
        return
    parts = args.parts.split(",")
    print(f"machine: {os.cpu_count()} CPUs")
    if "mining" in parts:
        bench_mining("face model 64 px", face_model, 4096, 64, args.repeats)
        bench_mining("MobileNetV2 224 px", mobilenet, 128, 32, args.repeats)
    if "ablation" in parts:
        bench_ablation("face model 64 px", face_model, 64, 20, args.repeats)
        bench_ablation("MobileNetV2 224 px", mobilenet, 32, 2, args.repeats)
    if "memory" in parts:
        bench_memory(1000)
    if "dask" in parts:
        bench_dask(8192, 1024)
    if "visualize" in parts:
        bench_visualize()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
