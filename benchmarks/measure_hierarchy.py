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

Run: python benchmarks/measure_hierarchy.py [--model M.keras] [--repeats 3]
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
from models.unit_data import bundled_face_concepts

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after a warm-up")
    args = parser.parse_args()
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
