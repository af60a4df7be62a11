"""Measure the edges -> parts -> faces hierarchy of a face model, and how long it takes.

Prints, per conv layer, first to last:

* the three selectivity measures (``inspector.units.selectivity``): the fraction
  of the layer's units that are edge, part and face detectors, i.e. above the
  99th percentile of three random-init copies of the same architecture in that
  layer, beside the copies' own rate when each is scored as the model is (against
  the other copies' bar); the mean orientation selectivity,
  best-part hit rate and face AUC / AUC-PR (Lee et al. report mean AUC-PR
  0.39 -> 0.86 -> 0.95 over three layers of their face model);
* Network Dissection's labels (Bau et al., CVPR 2017), the second measure, and
  its two controls;

then the fixed hierarchy verdict, the strongest unit of each kind, and the wall
time of the whole measurement (dissection plus the model and its three random
copies), the median of ``--repeats`` runs in this process after one warm-up.
Nothing here tunes a rule or a threshold.

With ``--compare`` it measures both bundled networks, the face detector and the
face recogniser (the same architecture up to the head, trained on the same ORL
photos for two tasks), once each, and prints their tables side by side with the
random copies' rates: which task makes face parts emerge.

Run: python benchmarks/measure_hierarchy.py [--model M.keras] [--repeats 3]
     python benchmarks/measure_hierarchy.py --compare [--chart both.png]
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

from inspector.engine.model_loading import load_model
from inspector.units.concepts import combine, synthetic_edges
from inspector.units.dissection import IOU_THRESHOLD, TOP_QUANTILE, Dissector
from inspector.units.exemplars import strongest_lines
from inspector.units.probe import LayerProbe
from inspector.units.selectivity import PERCENTILE, RANDOM_SEEDS
from inspector.units.selectivity_report import measure_selectivity
from models import default_model_path
from models.datasets.unit_data import bundled_face_concepts
from models.default_model import bundled_models

GROUPS = ("edge", "part", "face")


def measure(probe: LayerProbe, concepts):
    """(Network Dissection layers, selectivity report, seconds) of one full measurement."""
    start = time.perf_counter()
    layers = Dissector(probe).dissect(concepts)
    report = measure_selectivity(probe, concepts)
    return layers, report, time.perf_counter() - start


def print_tables(layers, report) -> None:
    seeds = len(RANDOM_SEEDS)
    print(
        f"Detectors: units above the {PERCENTILE:.0f}th percentile of {seeds} random-init "
        "copies in the same layer (random: each copy scored as the model is, against the "
        "other copies' bar; their mean)"
    )
    print(
        f"{'layer':14s} | {'edge':>13s} {'part':>13s} {'face':>13s} | mean OSI  part hit  "
        "AUC   AUC-PR"
    )
    for s in report.layers:
        found, chance = s.fractions("trained"), s.fractions("random")
        cells = " ".join(f"{found[g]:5.2f} ({chance[g]:4.2f})" for g in GROUPS)
        summary = s.summary("trained")
        print(
            f"{s.layer:14s} | {cells} | {summary['edge']['mean']:8.2f}  "
            f"{summary['part']['mean']:8.2f}  {summary['face']['mean_auc']:4.2f}  "
            f"{summary['face']['mean_auc_pr']:6.2f}"
        )
    print(f"\nNetwork Dissection: top quantile {TOP_QUANTILE}, IoU threshold {IOU_THRESHOLD}")
    print(f"{'layer':14s} | best label: edge part face none | controls")
    for r in layers:
        f = r.fractions
        controls = " ".join(f"{k} {v:.2f}" for k, v in r.controls.items())
        print(
            f"{r.layer:14s} | {f['edge']:.2f} {f['part']:.2f} {f['face']:.2f} {f['none']:.2f}"
            f" | {controls}"
        )
    print()
    for line in report.hierarchy.sentences():
        print(line)
    print("\nThe strongest unit of each kind:")
    for line in strongest_lines(report):
        print(f"  {line}")


def print_comparison(reports: dict) -> None:
    """Both networks' detector fractions per layer, side by side, random rates beside."""
    names = list(reports)
    print(
        f"Detectors: fraction of units above the {PERCENTILE:.0f}th percentile of "
        f"{len(RANDOM_SEEDS)} random-init copies (their own rate in brackets)"
    )
    width = 12 * len(GROUPS) + len(GROUPS) - 1  # a cell is " 0.12 (0.08)"
    header = " | ".join(f"{name:^{width}s}" for name in names)
    print(f"{'':14s} | {header}")
    kinds = " | ".join(" ".join(f"{g:>12s}" for g in GROUPS) for _ in names)
    print(f"{'layer':14s} | {kinds}")
    by_layer = [{s.layer: s for s in reports[name].layers} for name in names]
    for layer in by_layer[0]:
        cells = []
        for layers in by_layer:
            s = layers.get(layer)
            if s is None:
                cells.append(f"{'(not in this network)':^{width}s}")
                continue
            found, chance = s.fractions("trained"), s.fractions("random")
            cells.append(" ".join(f"{found[g]:5.2f} ({chance[g]:4.2f})" for g in GROUPS))
        print(f"{layer:14s} | " + " | ".join(cells))
    for name in names:
        print(f"\n{name}:")
        for line in reports[name].hierarchy.sentences():
            print(f"  {line}")
        print("  The strongest unit of each kind:")
        for line in strongest_lines(reports[name]):
            print(f"    {line}")


def comparison_chart(reports: dict):
    """The detector chart of both networks: the first solid, the second dotted, the
    random copies (the same for both: the same layers, the same seeds) dashed."""
    from inspector.render.hierarchy_charts import Series, detector_chart

    first, second = list(reports)
    base = reports[first]
    theirs = {s.layer: s.fractions("trained") for s in reports[second].layers}
    series = [
        Series(first, base.fractions("trained")),
        Series("random-init copies", base.fractions("random"), "dashed"),
        Series(second, [theirs.get(s.layer, {}) for s in base.layers], "dotted"),
    ]
    return detector_chart(
        [s.layer for s in base.layers],
        series,
        title=f"Detectors per layer: {first} solid, {second} dotted, random-init dashed",
    )


def compare(chart: Path | None = None) -> None:
    """Measure every bundled network once and print them side by side; ``chart``:
    also draw both on one detector chart there."""
    reports, seconds = {}, {}
    for name, path in bundled_models().items():
        probe = LayerProbe(load_model(path))
        shape = probe.input_shape
        concepts = combine(synthetic_edges(shape[0], shape[2]), bundled_face_concepts(shape))
        start = time.perf_counter()
        reports[name] = measure_selectivity(probe, concepts)
        seconds[name] = time.perf_counter() - start
    print_comparison(reports)
    if chart is not None:
        comparison_chart(reports).save(chart)
        print(f"\nWrote {chart}")
    times = ", ".join(f"{name} {value:.1f} s" for name, value in seconds.items())
    print(f"\nOne measurement each (tracing included): {times}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after a warm-up")
    parser.add_argument(
        "--compare", action="store_true", help="both bundled networks side by side, once each"
    )
    parser.add_argument(
        "--chart", type=Path, help="with --compare: draw both on one chart (a .png)"
    )
    args = parser.parse_args()
    if args.compare:
        compare(args.chart)
        return
    probe = LayerProbe(load_model(args.model))
    shape = probe.input_shape
    concepts = combine(synthetic_edges(shape[0], shape[2]), bundled_face_concepts(shape))
    layers, report, first = measure(probe, concepts)
    times = [measure(probe, concepts)[2] for _ in range(args.repeats)]
    print(f"{args.model}\n")
    print_tables(layers, report)
    print(
        f"\nWhole measurement (dissection + the model and {len(RANDOM_SEEDS)} random-init "
        f"copies): first run {first:.1f} s (tracing included), median of {len(times)} more "
        f"{statistics.median(times):.1f} s (range {min(times):.1f}-{max(times):.1f} s)"
    )


if __name__ == "__main__":
    main()
