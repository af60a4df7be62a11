"""The headless ``layer-inspector dissect`` command: Network Dissection of every layer.

    layer-inspector dissect [--model M.keras] [--concepts bundled-faces|DIR]
                            [--layers a,b|all-conv] [--scheduler local:N|tcp://HOST:PORT]
                            --out OUT

Writes ``OUT/dissection.json``, ``OUT/hierarchy.png`` (the detectors of the three
selectivity measures per layer, the model solid and its random-init copies
dashed, the verdict under it), ``OUT/hierarchy_labels.png`` (Network
Dissection's labels per layer) and ``OUT/strongest_units.png`` (the strongest
unit of each kind with its top images among the probe photos). The oriented-edge concepts are always
generated; the part and face concepts come from
``bundled-faces`` (passed in by the console (``layer_inspector``)) or from a folder DIR holding
``concepts.npz`` (``images`` (N, H, W, C) in [0, 1] or uint8; ``mask/<name>``
bool (N, H, W); ``annotated/<name>`` bool (N,); ``negatives`` bool (N,)) and
``concepts.json`` (``{name: "part" | "face" | "edge"}``).

With ``--scheduler`` both passes of the dissection and the selectivity passes (the
model and its random copies) run as jobs on Dask workers (each loads the model
once; the images and masks are shipped to each once) and merge here exactly: the
result is the one of a single process.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from inspector.cli.cli_helpers import ProgressBar, cluster_client, open_probe, write_staged
from inspector.cli.model_options import add_model_options
from inspector.engine.errors import DatasetError
from inspector.render.hierarchy_charts import Series, detector_chart, label_chart
from inspector.render.unit_sheets import exemplar_sheet
from inspector.units.cluster import ProbeSpec, dask_dissection_map, dask_response_map
from inspector.units.concepts import ConceptSet, combine, synthetic_edges
from inspector.units.dissection import Dissector
from inspector.units.documents import dissection_document
from inspector.units.exemplars import exemplar_rows, strongest_lines
from inspector.units.selectivity_report import measure_selectivity

BundledConcepts = Callable[..., ConceptSet]  # (shape, progress=...) -> the face concepts


def add_dissect_parser(subparsers) -> None:
    """Add the ``dissect`` sub-command to an ``argparse`` sub-parsers object."""
    parser = subparsers.add_parser(
        "dissect",
        help="label every unit as edge, part, face or none (Network Dissection)",
        description="Score every unit of the chosen layers against concept masks "
        "(Bau et al., CVPR 2017) and chart the fractions per layer.",
    )
    add_model_options(parser)
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
        faces = bundled(shape, progress=ProgressBar("bundled data", unit="steps"))
    else:
        faces = read_concept_folder(Path(text), shape)
    return combine(synthetic_edges(shape[0], shape[2]), faces)


def run_dissect(
    args: argparse.Namespace, models: Mapping[str, Path] | None, bundled: BundledConcepts | None
) -> int:
    """Run ``dissect`` for parsed ``args``; raises ``InspectorError`` for bad input."""
    opened, probe = open_probe(args, models)
    spec = ProbeSpec.of(opened.path, probe, args.unsafe)
    concepts = _concepts(args.concepts, probe.input_shape, bundled)
    with cluster_client(args.scheduler) as client:
        shard_map = None if client is None else dask_dissection_map(client, spec)
        response_map = None if client is None else dask_response_map(client, spec)
        results = Dissector(probe).dissect(
            concepts, shard_map=shard_map, progress=ProgressBar("dissection")
        )
        report = measure_selectivity(
            probe, concepts, response_map=response_map, progress=ProgressBar("selectivity")
        )
    settings = {
        "model": str(opened.path),
        "output": opened.output_name,
        "concepts": args.concepts,
        "images": len(concepts.images),
    }
    document = dissection_document(results, report, settings, probe.preprocess)
    names = [r.layer for r in results]
    rows = [
        (
            row.exemplar.text,
            row.crops,
            row.gradients,
            [
                f"{v:.3g}" + (" face" if f else "")
                for v, f in zip(row.scores, row.is_face, strict=True)
            ],
            row.marks,
            row.frames,
        )
        for row in exemplar_rows(probe, report, concepts)
    ]
    charts = {
        "hierarchy.png": detector_chart(
            names,
            [
                Series("trained", report.fractions("trained")),
                Series("random-init copies", report.fractions("random"), "dashed"),
            ],
            report.hierarchy.sentences(),
        ),
        "hierarchy_labels.png": label_chart(names, [r.fractions for r in results]),
    }
    if rows:
        charts["strongest_units.png"] = exemplar_sheet(
            "The strongest unit of each kind: its top images among the probe photos",
            rows,
            probe.preprocess.preset,
        )

    def write(folder: Path) -> None:
        (folder / "dissection.json").write_text(json.dumps(document, indent=1))
        for name, chart in charts.items():
            chart.save(folder / name)

    write_staged(args.out, write)
    for r, s in zip(results, report.layers, strict=True):
        shares = ", ".join(f"{g} {f:.2f}" for g, f in r.fractions.items())
        found, chance = s.fractions("trained"), s.fractions("random")
        detectors = ", ".join(f"{g} {found[g]:.2f} (random {chance[g]:.2f})" for g in found)
        print(f"{r.layer}: {shares} | detectors: {detectors}")
    for line in report.hierarchy.sentences():
        print(line)
    print("The strongest unit of each kind (see them with `units --data bundled-faces`):")
    for line in strongest_lines(report):
        print(f"  {line}")
    pictures = ", ".join(charts)
    print(f"Wrote {args.out}/dissection.json, {pictures}.")
    return 0
