"""Where the time of one ``Inspector.inspect`` goes, stage by stage, against the floor.

Stages, each a concrete graph called directly (no ``tf.function`` dispatch) with a
1-image batch, interleaved call by call, medians of the per-call times:

* ``floor``: the model's forward pass and d(score)/d(input) only (what
  ``bench_inspect.py`` compares against);
* ``walked``: the same two outputs through the Inspector's own graph walk
  (``run_model`` with its recorder), so the walk itself is priced;
* ``all tensors``: the Inspector's full pass (every activation and gradient
  returned as tensors), not converted;
* ``inspect``: the whole call: the pass, NumPy views, the layer records.

Each stage also reports its minor page faults per call (fresh memory the kernel
had to map) and, with ``--no-grappler``, runs with TensorFlow's graph optimiser
off: if fusions that returning every tensor forbids were the cost, the gap to the
floor would shrink there.

Run in two processes to price the allocator too:
    python benchmarks/profile_inspect.py --model mobilenet
    TF_CPU_ALLOCATOR_USE_BFC=true python benchmarks/profile_inspect.py --model mobilenet
    python benchmarks/profile_inspect.py --model mobilenet --no-grappler
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np
import tensorflow as tf
from bench_inspect import small_face_cnn  # the same small model as the benchmark

from inspector import Inspector
from inspector.engine.graph_walk import StepRecorder, run_model

BUILDERS = {
    "mobilenet": lambda: keras.applications.MobileNetV2(weights=None),
    "resnet50": lambda: keras.applications.ResNet50(weights=None),
    "efficientnet": lambda: keras.applications.EfficientNetB0(weights=None),
    "small": None,  # bench_inspect's small face CNN
}


def concrete(fn, shape):
    return tf.function(fn, input_signature=[tf.TensorSpec(shape, tf.float32)], autograph=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilenet", choices=sorted(BUILDERS))
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--no-grappler", action="store_true", help="graph optimiser off")
    args = parser.parse_args()
    if args.no_grappler:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    keras.utils.set_random_seed(0)
    model = BUILDERS[args.model]() if BUILDERS[args.model] else small_face_cnn()
    shape = (1, *model.inputs[0].shape[1:])
    image = np.random.default_rng(0).uniform(0, 1, shape[1:]).astype(np.float32)
    x = tf.constant(image[None])

    def floor(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            score = model(x, training=False)[0, 0]
        return tape.gradient(score, x)

    def walked(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            recorder = StepRecorder()
            recorder.mark_input(x)
            out = run_model(model, x, recorder)
            score = keras.tree.flatten(out)[0][0, 0]
        return tape.gradient(score, x)

    inspector = Inspector(model)
    inspector.inspect(image)  # trace
    full = inspector._traced_pass(0)
    target = tf.constant(-1, tf.int32)
    stages = {
        "floor": (lambda f: lambda: f(x).numpy())(concrete(floor, shape).get_concrete_function()),
        "walked": (lambda f: lambda: f(x).numpy())(concrete(walked, shape).get_concrete_function()),
        "all tensors": lambda: full(x, target),
        "inspect": lambda: inspector.inspect(image),
    }
    for call in stages.values():
        call(), call()  # warm up
    times = {name: [] for name in stages}
    faults = dict.fromkeys(stages, 0)
    for _ in range(args.repeats):
        for name, call in stages.items():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            started = time.perf_counter()
            result = call()
            times[name].append(time.perf_counter() - started)
            faults[name] += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
            del result
    floor_ms = statistics.median(times["floor"]) * 1e3
    allocator = "BFC" if os.environ.get("TF_CPU_ALLOCATOR_USE_BFC") else "default"
    grappler = ", grappler off" if args.no_grappler else ""
    print(f"{args.model} ({allocator} allocator{grappler}), medians of {args.repeats}:")
    for name, values in times.items():
        ms = statistics.median(values) * 1e3
        per_call = faults[name] / args.repeats
        ratio = ms / floor_ms
        print(f"  {name:12s} {ms:8.1f} ms  {ratio:5.2f}x floor  {per_call:7.0f} faults/call")


if __name__ == "__main__":
    main()
