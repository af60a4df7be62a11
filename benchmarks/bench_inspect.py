"""Benchmark: Inspector.inspect against a bare compiled forward+backward pass.

The floor is the cheapest way to get anything gradient-shaped out of the model:
one ``tf.function`` that runs the model and returns d(score)/d(input) only.
``inspect`` returns every layer's activation and gradient as NumPy, so the ratio
is the price of seeing everything. Memory: the peak RSS growth of one inspection
against the summed size of the arrays it holds.

Run: python benchmarks/bench_inspect.py [--repeats 15] [--models small,mobilenet]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np
import tensorflow as tf

from inspector import Inspector


def small_face_cnn() -> keras.Model:
    inputs = keras.Input((64, 64, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    for filters in (16, 32, 64):
        x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))


def mobilenet() -> keras.Model:
    return keras.applications.MobileNetV2(input_shape=(224, 224, 3), weights=None)


def floor_fn(model):
    @tf.function(autograph=False)
    def forward_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = model(x, training=False)[0, 0]
        return tape.gradient(score, x)

    return forward_backward


def median_seconds(call, repeats: int) -> float:
    call()  # trace and warm up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize()


def release_free_memory() -> None:
    """Hand freed heap pages back to the OS, so RSS growth shows real allocation."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def peak_rss_during(call) -> tuple[int, object]:
    """Peak RSS growth (bytes) while ``call`` runs, sampled every millisecond."""
    release_free_memory()
    baseline, peak, running = rss_bytes(), [0], [True]

    def sample():
        while running[0]:
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    result = call()
    running[0] = False
    sampler.join()
    return max(peak[0], rss_bytes()) - baseline, result


def bench(name: str, model: keras.Model, repeats: int) -> dict:
    shape = tuple(model.inputs[0].shape[1:])
    image = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
    floor = floor_fn(model)
    batch = tf.constant(image[None])
    inspector = Inspector(model)
    floor_time = median_seconds(lambda: floor(batch).numpy(), repeats)
    inspect_time = median_seconds(lambda: inspector.inspect(image), repeats)
    floor_time = min(floor_time, median_seconds(lambda: floor(batch).numpy(), repeats))
    grown, inspection = peak_rss_during(lambda: inspector.inspect(image))
    return {
        "model": name,
        "layers": len(inspection.layers),
        "floor_ms": floor_time * 1e3,
        "inspect_ms": inspect_time * 1e3,
        "ratio": inspect_time / floor_time,
        "arrays_mb": inspection.nbytes / 1e6,
        "peak_mb": grown / 1e6,
        "memory_ratio": grown / inspection.nbytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--models", default="small,mobilenet")
    args = parser.parse_args()
    builders = {"small": small_face_cnn, "mobilenet": mobilenet}
    print(
        f"{'model':<10} {'layers':>6} {'floor ms':>9} {'inspect ms':>10} {'ratio':>6} "
        f"{'arrays MB':>9} {'peak MB':>8} {'mem ratio':>9}"
    )
    for name in args.models.split(","):
        keras.utils.set_random_seed(0)
        row = bench(name, builders[name](), args.repeats)
        print(
            f"{row['model']:<10} {row['layers']:>6} {row['floor_ms']:>9.1f} "
            f"{row['inspect_ms']:>10.1f} {row['ratio']:>6.2f} {row['arrays_mb']:>9.1f} "
            f"{row['peak_mb']:>8.1f} {row['memory_ratio']:>9.2f}"
        )


if __name__ == "__main__":
    main()
