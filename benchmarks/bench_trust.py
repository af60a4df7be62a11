"""Benchmark: the trust metrics against the forward passes they cannot avoid.

1. Deletion + insertion for one method and one image at 20 steps, against the
   floor of ONE batched forward pass of 2 x 20 images through the same
   ``Inspector.predict`` (same per-call overheads: one dispatch of the same
   traced function, NumPy in and out). The curves need 2 x 21 images (both end
   points included), the pixel ranking, the masks and the substrate on top.
   Goal: at most 1.5x. Medians of interleaved repeats.
2. The randomisation cascade for every registered method on one image of the
   bundled face model: seconds of wall time (first run, which traces the copy's
   passes, and a second run).

Run: python benchmarks/bench_trust.py [--repeats 31] [--model PATH] [--image PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from inspector import Inspector, compute_attribution, load_image, load_model  # noqa: E402
from inspector.attribution import method_names  # noqa: E402
from inspector.trust.curves import faithfulness  # noqa: E402
from inspector.trust.model_copy import RandomizableCopy  # noqa: E402
from inspector.trust.randomization import run_cascade  # noqa: E402

STEPS = 20


def curves_ratio(inspector, inspection, heatmap, repeats: int) -> tuple[float, float]:
    """(median seconds of deletion+insertion, median seconds of the floor)."""
    floor_batch = np.repeat(inspection.image[None], 2 * STEPS, axis=0)
    index = inspection.output_index
    for _ in range(3):  # trace and warm both
        inspector.predict(floor_batch, index)
        faithfulness("saliency", heatmap, inspection, inspector, steps=STEPS)
    measured, floor = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        inspector.predict(floor_batch, index)
        floor.append(time.perf_counter() - started)
        started = time.perf_counter()
        faithfulness("saliency", heatmap, inspection, inspector, steps=STEPS)
        measured.append(time.perf_counter() - started)
    return statistics.median(measured), statistics.median(floor)


def cascade_seconds(model, inspection) -> tuple[float, dict[str, float], int]:
    """(total seconds, seconds per method, cascade steps) for every method once."""
    started = time.perf_counter()
    copy = RandomizableCopy(model)
    per_method = {}
    for method in method_names():
        begun = time.perf_counter()
        run_cascade(copy, method, inspection)
        per_method[method] = time.perf_counter() - begun
    return time.perf_counter() - started, per_method, len(copy.blocks)


def sample_inspection(description: str, repeats: int):
    """Parse ``--repeats``, ``--model`` (the bundled one) and ``--image`` (Grace Hopper),
    load them, and inspect once.

    Returns:
        ``(args, model, inspector, inspection)``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--model", type=Path, default=ROOT / "models/default/face_cnn.keras")
    parser.add_argument("--image", type=Path, default=ROOT / "sample_images/grace_hopper.jpg")
    args = parser.parse_args()
    model = load_model(args.model)
    inspector = Inspector(model)
    return args, model, inspector, inspector.inspect(load_image(args.image, model))


def main() -> None:
    args, model, inspector, inspection = sample_inspection(__doc__.splitlines()[0], 31)
    heatmap = compute_attribution("saliency", inspection, inspector).heatmap
    measured, floor = curves_ratio(inspector, inspection, heatmap, args.repeats)
    print(f"model {args.model.name}, input {inspection.image.shape}, {args.repeats} repeats")
    print(
        f"deletion+insertion, {STEPS} steps: {measured * 1e3:.2f} ms; floor (one predict of "
        f"{2 * STEPS} images): {floor * 1e3:.2f} ms; ratio {measured / floor:.2f}x (goal <= 1.5x)"
    )
    for run in ("first", "second"):
        total, per_method, steps = cascade_seconds(model, inspection)
        slowest = sorted(per_method.items(), key=lambda item: -item[1])[:3]
        print(
            f"cascade, {len(per_method)} methods x {steps} steps ({run} run): {total:.1f} s; "
            f"slowest: {', '.join(f'{m} {s:.1f} s' for m, s in slowest)}"
        )


if __name__ == "__main__":
    main()
