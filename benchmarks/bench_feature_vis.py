"""Benchmark: feature visualisation against the best dataset example, per parametrisation.

The check is the one ``layer-inspector units --visualize`` writes as
``beats_best_example``: a channel passes when its optimised image's activation
(the channel's max over positions) is at least the channel's top-1 mining score
over the bundled data. For each parametrisation (same settings and number of
steps otherwise) this prints, per layer of the bundled face model, how many
channels pass and the seconds to optimise all of them (one compiled step per
layer, traced before timing), with the load average next to the times.

Run: python benchmarks/bench_feature_vis.py [--parametrizations pixel,fourier] [--steps 200]
     [--polish-steps 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from inspector.engine.model_loading import load_model
from inspector.units.feature_visualization import FeatureVisualizer, VisualizationSettings
from inspector.units.probe import LayerProbe
from inspector.units.run import mine_units
from inspector.units.sources import ArraySource
from models.datasets.unit_data import bundled_unit_set
from models.default_model import default_model_path


def best_examples(probe: LayerProbe) -> dict[str, np.ndarray]:
    """Each layer's float32 ``(C,)`` top-1 mining scores over the bundled data, as the CLI mines."""
    images = bundled_unit_set("bundled", probe.input_shape).images
    source = ArraySource(images, "bundled", probe.preprocess)
    result = mine_units(probe, source, k=1, batch_size=64, cache_dir=False)
    return {units.layer.name: units.scores[:, 0] for units in result.layers}


def measure(probe: LayerProbe, best: dict[str, np.ndarray], settings: dict, repeats: int):
    """Per layer and parametrisation: passing channels, channels and median seconds.

    The parametrisations take turns within each repeat, so load from other jobs
    falls on all of them alike; the check itself is seeded and does not vary.
    """
    visualizers = {name: FeatureVisualizer(probe, s) for name, s in settings.items()}
    rows = []
    for layer in probe.layers:
        channels = np.arange(layer.shape[2])
        seconds = {name: [] for name in visualizers}
        passing = {}
        for visualizer in visualizers.values():
            visualizer.visualize(layer.name, channels[:1])  # trace
        for _ in range(repeats):
            for name, visualizer in visualizers.items():
                started = time.perf_counter()
                result = visualizer.visualize(layer.name, channels)
                seconds[name].append(time.perf_counter() - started)
                passing[name] = int(np.sum(result.activations >= best[layer.name]))
        medians = {name: statistics.median(times) for name, times in seconds.items()}
        rows.append((layer.name, len(channels), passing, medians))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parametrizations", default="pixel,fourier")
    parser.add_argument("--steps", type=int, default=VisualizationSettings.steps)
    parser.add_argument("--polish-steps", type=int, default=VisualizationSettings.polish_steps)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    probe = LayerProbe(load_model(default_model_path()))
    best = best_examples(probe)
    names = args.parametrizations.split(",")
    settings = {
        name: replace(
            VisualizationSettings(),
            parametrization=name,
            steps=args.steps,
            polish_steps=args.polish_steps,
        )
        for name in names
    }
    rows = measure(probe, best, settings, args.repeats)
    print(f"{args.steps} steps ({args.polish_steps} polish), medians of {args.repeats}:")
    for layer, count, passing, seconds in rows:
        cells = ", ".join(f"{n} {passing[n]}/{count} in {seconds[n]:.1f} s" for n in names)
        ratio = f" (time {names[-1]}/{names[0]} {seconds[names[-1]] / seconds[names[0]]:.2f})"
        print(f"  {layer}: {cells}{ratio if len(names) > 1 else ''}")
    total = sum(r[1] for r in rows)
    for name in names:
        count = sum(r[2][name] for r in rows)
        print(f"  {name}: {count} of {total} channels beat their best dataset example")
    print(f"  load average {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
