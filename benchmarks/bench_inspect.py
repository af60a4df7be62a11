"""Benchmark: Inspector.inspect against a bare compiled forward+backward pass.

The floor is the cheapest way to get anything gradient-shaped out of the model:
one ``tf.function`` that runs the model and returns d(score)/d(input) only.
Both sides call their one concrete graph directly (``get_concrete_function``),
so both skip ``tf.function``'s per-call dispatch (signature matching), and both
take NumPy in (converted with ``tf.constant``) and give NumPy out.
``inspect`` returns every layer's activation and gradient as NumPy, so the ratio
is the price of seeing everything. Memory: the peak of what TensorFlow allocates
during one inspection against the summed size of the arrays the Inspection holds.

The ratio is the median of per-pair ratios over ``--repeats`` interleaved pairs.

Run: python benchmarks/bench_inspect.py [--repeats 31]
     [--models small,mobilenet,resnet50,efficientnet]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
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


def resnet50() -> keras.Model:
    return keras.applications.ResNet50(weights=None)


def efficientnet() -> keras.Model:
    return keras.applications.EfficientNetB0(weights=None)


BUILDERS = {
    "small": small_face_cnn,
    "mobilenet": mobilenet,
    "resnet50": resnet50,
    "efficientnet": efficientnet,
}


def floor_fn(model):
    shape = (1, *model.inputs[0].shape[1:])

    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)], autograph=False)
    def forward_backward(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = model(x, training=False)[0, 0]
        return tape.gradient(score, x)

    # The Inspector calls its concrete graph too: both sides skip the dispatch.
    return forward_backward.get_concrete_function()


def peak_tensor_bytes(name: str) -> tuple[int, int]:
    """(peak bytes TensorFlow allocated during one inspection, bytes it returned).

    Runs in a child process: TensorFlow reports CPU allocations only with its BFC
    allocator, which must be chosen before TensorFlow starts. RSS would not do:
    freed heap pages are reused from call to call, so RSS barely moves.
    """
    env = {**os.environ, "TF_CPU_ALLOCATOR_USE_BFC": "true"}
    done = subprocess.run(
        [sys.executable, __file__, "--memory-of", name],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    peak, held = done.stdout.split()[-2:]
    return int(peak), int(held)


def measure_memory(name: str) -> None:
    """Child process: print the peak allocation of one inspection and its array bytes."""
    model = BUILDERS[name]()
    image = np.random.default_rng(0).uniform(0, 1, model.inputs[0].shape[1:]).astype(np.float32)
    inspector = Inspector(model)
    inspector.inspect(image)  # trace first; tracing memory is not the inspection's
    gc.collect()
    before = tf.config.experimental.get_memory_info("CPU:0")["current"]
    tf.config.experimental.reset_memory_stats("CPU:0")
    inspection = inspector.inspect(image)
    peak = tf.config.experimental.get_memory_info("CPU:0")["peak"] - before
    print(peak, inspection.nbytes)


def bench(name: str, model: keras.Model, repeats: int) -> dict:
    shape = tuple(model.inputs[0].shape[1:])
    image = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
    floor = floor_fn(model)
    batch = image[None]
    inspector = Inspector(model)
    # Both take NumPy in and give NumPy out. They alternate call by call, so machine
    # noise hits both alike, and the median of the per-pair ratios counts.
    floor_call = lambda: floor(tf.constant(batch)).numpy()  # noqa: E731
    inspect_call = lambda: inspector.inspect(image)  # noqa: E731
    for call in (floor_call, inspect_call, floor_call, inspect_call):
        call()  # trace and warm up
    ratios, floor_times, inspect_times = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        floor_call()
        middle = time.perf_counter()
        result = inspect_call()
        ended = time.perf_counter()
        del result
        floor_times.append(middle - started)
        inspect_times.append(ended - middle)
        ratios.append((ended - middle) / (middle - started))
    peak, held = peak_tensor_bytes(name)
    return {
        "model": name,
        "layers": len(inspector.inspect(image).layers),
        "floor_ms": statistics.median(floor_times) * 1e3,
        "inspect_ms": statistics.median(inspect_times) * 1e3,
        "ratio": statistics.median(ratios),
        "arrays_mb": held / 1e6,
        "peak_mb": peak / 1e6,
        "memory_ratio": peak / held,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--models", default="small,mobilenet,resnet50,efficientnet")
    parser.add_argument("--memory-of", help=argparse.SUPPRESS)  # the child process's job
    args = parser.parse_args()
    if args.memory_of:
        measure_memory(args.memory_of)
        return
    print(
        f"{'model':<10} {'layers':>6} {'floor ms':>9} {'inspect ms':>10} {'ratio':>6} "
        f"{'arrays MB':>9} {'peak MB':>8} {'mem ratio':>9}"
    )
    for name in args.models.split(","):
        keras.utils.set_random_seed(0)
        row = bench(name, BUILDERS[name](), args.repeats)
        print(
            f"{row['model']:<10} {row['layers']:>6} {row['floor_ms']:>9.1f} "
            f"{row['inspect_ms']:>10.1f} {row['ratio']:>6.2f} {row['arrays_mb']:>9.1f} "
            f"{row['peak_mb']:>8.1f} {row['memory_ratio']:>9.2f}"
        )


if __name__ == "__main__":
    main()
