"""The headless ``layer-inspector dissect`` command: Network Dissection of every layer.

    layer-inspector dissect [--model M.keras] [--concepts bundled-faces|DIR]
                            [--layers a,b|all-conv] [--scheduler local:N|tcp://HOST:PORT]
                            --out OUT

Writes ``OUT/dissection.json`` and ``OUT/hierarchy.png``. The oriented-edge
concepts are always generated; the part and face concepts come from
``bundled-faces`` (passed in by the launcher) or from a folder DIR holding
``concepts.npz`` (``images`` (N, H, W, C) in [0, 1] or uint8; ``mask/<name>``
bool (N, H, W); ``annotated/<name>`` bool (N,); ``negatives`` bool (N,)) and
``concepts.json`` (``{name: "part" | "face" | "edge"}``).

With ``--scheduler`` both passes of the dissection run as shards on Dask
workers (each loads the model once; the images and masks are shipped to each
once) and merge here exactly: the result is the one of a single process.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from inspector.cli.cli_helpers import cluster_client, open_probe, write_staged
from inspector.engine.errors import DatasetError
from inspector.render.unit_sheets import hierarchy_chart
from inspector.units.cluster import dask_dissection_map
from inspector.units.concepts import ConceptSet, combine, synthetic_edges
from inspector.units.dissection import IOU_THRESHOLD, TOP_QUANTILE, Dissector

BundledConcepts = Callable[[tuple[int, int, int]], ConceptSet]


def add_dissect_parser(subparsers) -> None:
    """Add the ``dissect`` sub-command to an ``argparse`` sub-parsers object."""
    parser = subparsers.add_parser(
        "dissect",
        help="label every unit as edge, part, face or none (Network Dissection)",
        description="Score every unit of the chosen layers against concept masks "
        "(Bau et al., CVPR 2017) and chart the fractions per layer.",
    )
    parser.add_argument("--model", type=Path, metavar="M.keras", help="default: the bundled model")
    parser.add_argument("--concepts", default="bundled-faces", metavar="bundled-faces|DIR")
    parser.add_argument("--layers", default="all-conv", metavar="a,b|all-conv")
    parser.add_argument("--scheduler", metavar="local:N|tcp://HOST:PORT")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT")
    parser.set_defaults(handler=lambda args: run_dissect(args, None, None))


def read_concept_folder(folder: Path, input_shape: tuple[int, int, int]) -> ConceptSet:
    """A concept set stored as ``concepts.npz`` + ``concepts.json`` (never unpickled)."""
    try:
        groups = json.loads((folder / "concepts.json").read_text())
        with np.load(folder / "concepts.npz", allow_pickle=False) as data:
            images = data["images"]
            images = images / 255.0 if images.dtype == np.uint8 else images
            masks = {name: data[f"mask/{name}"].astype(bool) for name in groups}
            annotated = {name: data[f"annotated/{name}"].astype(bool) for name in groups}
            negatives = data["negatives"].astype(bool)
    except (OSError, KeyError, ValueError, json.JSONDecodeError) as error:
        raise DatasetError(
            "Expected --concepts bundled-faces or a folder with concepts.npz and concepts.json. "
            f"Received: {str(folder)!r} ({type(error).__name__}: {error})."
        ) from None
    if tuple(images.shape[1:]) != tuple(input_shape):
        raise DatasetError(
            f"Expected concept images of the model's input shape {input_shape}. "
            f"Received: {tuple(images.shape[1:])}."
        )
    return ConceptSet(images.astype(np.float32), masks, annotated, groups, negatives)


def _concepts(text: str, shape, bundled: BundledConcepts | None) -> ConceptSet:
    if text == "bundled-faces":
        if bundled is None:
            raise DatasetError(
                "Expected --concepts DIR. Received: 'bundled-faces', but none is installed."
            )
        faces = bundled(shape)
    else:
        faces = read_concept_folder(Path(text), shape)
    return combine(synthetic_edges(shape[0], shape[2]), faces)


def run_dissect(
    args: argparse.Namespace, default_model: Path | None, bundled: BundledConcepts | None
) -> int:
    """Run ``dissect`` for parsed ``args``; raises ``InspectorError`` for bad input."""
    path, layers, probe = open_probe(args, default_model)
    concepts = _concepts(args.concepts, probe.input_shape, bundled)
    with cluster_client(args.scheduler) as client:
        shard_map = None if client is None else dask_dissection_map(client, path, layers)
        results = Dissector(probe).dissect(concepts, shard_map=shard_map)
    document = {
        "layers": {
            r.layer: {
                "fractions": r.fractions,
                "units": [
                    {"channel": c, "concept": label, "group": group, "score": float(score)}
                    for c, (label, group, score) in enumerate(
                        zip(r.labels, r.groups, r.scores, strict=True)
                    )
                ],
            }
            for r in results
        },
        "controls": {r.layer: r.controls for r in results},
        "settings": {
            "model": str(path),
            "concepts": args.concepts,
            "top_quantile": TOP_QUANTILE,
            "iou_threshold": IOU_THRESHOLD,
            "images": len(concepts.images),
        },
    }
    chart = hierarchy_chart([r.layer for r in results], [r.fractions for r in results])

    def write(folder: Path) -> None:
        (folder / "dissection.json").write_text(json.dumps(document, indent=1))
        chart.save(folder / "hierarchy.png")

    write_staged(args.out, write)
    for r in results:
        shares = ", ".join(f"{g} {f:.2f}" for g, f in r.fractions.items())
        print(f"{r.layer}: {shares}")
    print(f"Wrote {args.out}/dissection.json and hierarchy.png.")
    return 0
