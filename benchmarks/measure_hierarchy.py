"""Measure the edges -> parts -> faces hierarchy of a face model by Network Dissection.

Prints, per conv layer, first to last:

* the fractions the ``dissect`` command reports: each unit labelled with its
  best concept (Bau et al., CVPR 2017) when that IoU passes the threshold;
* per concept group, the fraction of units that pass the threshold on ANY
  concept of that group, whatever their best label. A unit that is a fair eye
  detector but matches the dense synthetic edge masks better is "edge" in the
  first table and counts as a part detector in this one, so this table shows
  where detectors of each kind exist, not only where they win;
* the two controls (shuffled masks; face masks over non-faces);

then checks the three claims of the seed (edge units most common in the first
stage, part units peaking in a middle stage, face units peaking in the last
stage) on both tables and says plainly which hold. Thresholds are the fixed ones
of ``inspector.units.dissection``; nothing here tunes them.

Run: python benchmarks/measure_hierarchy.py [--model M.keras]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from inspector.engine.model_loading import load_model
from inspector.units.concepts import combine, synthetic_edges
from inspector.units.dissection import IOU_THRESHOLD, TOP_QUANTILE, Dissector
from inspector.units.probe import LayerProbe
from models import default_model_path
from models.unit_data import bundled_face_concepts

GROUPS = ("edge", "part", "face")


def stage_of(layer: str, index: int, count: int) -> int:
    """0, 1 or 2: the bundled model's stages by name prefix, else thirds of the list."""
    for stage, prefix in enumerate(("edges_", "parts_", "face_")):
        if layer.split("/")[-1].startswith(prefix):
            return stage
    return min(2, 3 * index // count)


def detector_fractions(result, groups: dict) -> dict:
    """Per group: fraction of units whose best IoU among that group's concepts passes."""
    kinds = np.array([groups[name] for name in result.concepts])
    return {
        group: float(np.mean(result.iou[:, kinds == group].max(axis=1) > IOU_THRESHOLD))
        if (kinds == group).any()
        else 0.0
        for group in GROUPS
    }


def claims(rows: list[dict], stages: list[int]) -> dict:
    """Which of the seed's three claims a table of per-layer fractions shows."""

    def peak_stage(group: str) -> set:
        values = np.array([row[group] for row in rows])
        if not values.max():
            return set()
        return {stages[i] for i in np.flatnonzero(values == values.max())}

    return {
        "edge units most common in the first stage": peak_stage("edge") == {0},
        "part units peak in a middle stage": bool(peak_stage("part")) and peak_stage("part") == {1},
        "face units peak in the last stage": peak_stage("face") == {2},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=default_model_path())
    args = parser.parse_args()
    probe = LayerProbe(load_model(args.model))
    shape = probe.input_shape
    concepts = combine(synthetic_edges(shape[0], shape[2]), bundled_face_concepts(shape))
    results = Dissector(probe).dissect(concepts)
    names = [r.layer for r in results]
    stages = [stage_of(name, i, len(names)) for i, name in enumerate(names)]
    labelled = [r.fractions for r in results]
    detectors = [detector_fractions(r, concepts.groups) for r in results]
    print(f"{args.model}: top quantile {TOP_QUANTILE}, IoU threshold {IOU_THRESHOLD}")
    print(f"{'layer':14s} | best label: edge part face none | detectors: edge part face | controls")
    for r, best, found in zip(results, labelled, detectors, strict=True):
        controls = " ".join(f"{k} {v:.2f}" for k, v in r.controls.items())
        print(
            f"{r.layer:14s} | {best['edge']:.2f} {best['part']:.2f} {best['face']:.2f} "
            f"{best['none']:.2f} | {found['edge']:.2f} {found['part']:.2f} {found['face']:.2f} "
            f"| {controls}"
        )
    for title, rows in (("best label", labelled), ("detectors", detectors)):
        verdicts = claims(rows, stages)
        shown = sum(verdicts.values())
        print(f"{title}: {shown} of 3 claims shown")
        for claim, holds in verdicts.items():
            print(f"  {'yes' if holds else 'NO '}  {claim}")


if __name__ == "__main__":
    main()
