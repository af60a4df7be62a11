"""Benchmark: the new attribution methods against the passes they cannot avoid.

Each method is timed against a floor measured in the same run, through the same
``Inspector`` entry point (same traced function, same per-call dispatch, NumPy
in and out), so the ratio is the price of the method's own work on top:

* ``rise`` (N masks, batches of 64) and ``scorecam`` (one image per non-constant
  channel of the default layer, plus the baseline): ``Inspector.predict`` on the
  same number of ready-made images in the same batch sizes. ``rise`` with
  ``batch_size=1`` shows what batching saves.
* ``guided_backprop`` and ``deconvnet``: the plain ``Inspector.input_gradients``
  of the one image (the guided pass is a separately traced function).
* ``vargrad``: ``Inspector.input_gradients`` on the same number of noisy images
  in the same batches (it shares SmoothGrad's noise and passes).
* ``layercam``: no floor, it reads the inspection; its time is printed.

Medians of interleaved repeats (the first call of each traces and is not timed).

Run: python benchmarks/bench_attribution.py [--repeats 7] [--models small,mobilenet]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras
import numpy as np

# The same small model as the inspector benchmark (this script's folder is on sys.path).
from bench_inspect import small_face_cnn

from inspector import Inspector
from inspector.attribution import compute_attribution
from inspector.attribution.gradcam import cam_layer

RISE_MASKS = 512


def mobilenet() -> keras.Model:
    return keras.applications.MobileNetV2(weights=None, alpha=0.35, classes=10)


BUILDERS = {"small": small_face_cnn, "mobilenet": mobilenet}


def interleaved_medians(calls: dict, repeats: int) -> dict[str, float]:
    """Median seconds of each call, the calls taking turns so drift hits all alike."""
    for call in calls.values():
        call()  # trace and warm up
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def batched(function, images: np.ndarray, batch_size: int):
    def run():
        for start in range(0, len(images), batch_size):
            function(images[start : start + batch_size])

    return run


def measure(model_name: str, repeats: int) -> None:
    model = BUILDERS[model_name]()
    inspector = Inspector(model)
    shape = inspector.input_shape
    image = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    inspection = inspector.inspect(image)
    target, output = inspection.target, inspection.output_index
    channels = int((np.ptp(cam_layer(inspection, None).activation, axis=(0, 1)) > 0).sum())
    noisy = np.repeat(image[None], 50, axis=0)

    def method(name, **options):
        return lambda: compute_attribution(name, inspection, inspector, **options)

    def predict(batch):
        return inspector.predict(batch, output)

    def gradients(batch):
        return inspector.input_gradients(batch, target, output)

    calls = {
        "rise": method("rise", masks=RISE_MASKS),
        "rise floor": batched(predict, np.repeat(image[None], RISE_MASKS, axis=0), 64),
        "rise batch 1": method("rise", masks=RISE_MASKS, batch_size=1),
        "scorecam": method("scorecam"),
        "scorecam floor": batched(predict, np.repeat(image[None], channels + 1, axis=0), 64),
        "guided_backprop": method("guided_backprop"),
        "deconvnet": method("deconvnet"),
        "gradient floor": lambda: gradients(image[None]),
        "vargrad": method("vargrad"),
        "vargrad floor": batched(gradients, noisy, 32),
        "layercam": method("layercam"),
    }
    if model_name == "mobilenet":
        del calls["rise batch 1"]  # 512 single-image passes: minutes, nothing new
    seconds = interleaved_medians(calls, repeats)
    print(f"\n{model_name}: input {shape}, default CAM layer has {channels} varying channels")
    for name, floor in [
        ("rise", "rise floor"),
        ("rise batch 1", "rise floor"),
        ("scorecam", "scorecam floor"),
        ("guided_backprop", "gradient floor"),
        ("deconvnet", "gradient floor"),
        ("vargrad", "vargrad floor"),
    ]:
        if name in seconds:
            ratio = seconds[name] / seconds[floor]
            print(
                f"  {name:16s} {seconds[name] * 1e3:9.1f} ms   floor {seconds[floor] * 1e3:9.1f} ms"
                f"   ratio {ratio:5.2f}"
            )
    print(f"  {'layercam':16s} {seconds['layercam'] * 1e3:9.2f} ms   (reads the inspection)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--models", default="small,mobilenet")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    for name in args.models.split(","):
        measure(name, args.repeats)


if __name__ == "__main__":
    main()
