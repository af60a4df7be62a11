"""The headless ``layer-inspector units`` command: what every channel responds to.

    layer-inspector units [--model M.keras] [--data bundled-natural|bundled-faces|bundled|DIR]
                          [--layers a,b|all-conv]
                          [--top-k 9] [--visualize] [--scheduler local:N|tcp://HOST:PORT]
                          [--batch-size B] --out OUT

Writes ``OUT/units.json`` and ``OUT/sheets/<layer>.png`` (and, with
``--visualize``, ``OUT/visualizations/<layer>/channel_<c>.png``). The console (``layer_inspector``)
passes the bundled model path and a provider of the bundled images; the core
knows neither. ``--data`` names a bundled set (the default, ``bundled-natural``: the
face photos and natural non-face photos, so no synthetic texture wins a unit's top
images by contrast alone) or a folder. Any bad input is one line on stderr, exit
code 2, and nothing in OUT.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from PIL import Image

from inspector.cli.cli_helpers import (
    ProgressBar,
    cluster_client,
    open_probe,
    positive_int,
    write_staged,
)
from inspector.cli.model_options import add_model_options
from inspector.defaults import BATCH_SIZE, TOP_K
from inspector.engine.errors import DatasetError
from inspector.render.exporting import file_stem
from inspector.render.unit_sheets import channel_row, picture, unit_sheet
from inspector.units.cluster import ProbeSpec, dask_shard_map
from inspector.units.documents import units_document
from inspector.units.feature_visualization import FeatureVisualizer
from inspector.units.run import mine_units
from inspector.units.sources import BundledProvider, open_source
from inspector.units.unit_gradients import UnitGradients, top_crops

DEFAULT_DATA = "bundled-natural"


def add_units_parser(subparsers) -> None:
    """Add the ``units`` sub-command to an ``argparse`` sub-parsers object."""
    parser = subparsers.add_parser(
        "units",
        help="top-k dataset images, gradients and feature visualisations of every channel",
        description="Mine the top-k images of every channel of the chosen layers over a "
        "data set, with receptive-field crops, unit gradients and statistics.",
    )
    add_model_options(parser)
    parser.add_argument(
        "--data",
        default=DEFAULT_DATA,
        metavar="bundled-natural|bundled-faces|bundled|DIR",
        help="a bundled set (default: the face photos and natural non-face photos) or an "
        "image folder (any layout)",
    )
    parser.add_argument("--layers", default="all-conv", metavar="a,b|all-conv")
    parser.add_argument("--top-k", type=positive_int, default=TOP_K, metavar="K")
    parser.add_argument("--visualize", action="store_true", help="also run feature visualisation")
    parser.add_argument("--scheduler", metavar="local:N|tcp://HOST:PORT", help="mine on Dask")
    parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE, metavar="B")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT")
    parser.set_defaults(handler=lambda args: run_units(args, None, None))


def run_units(
    args: argparse.Namespace, models: Mapping[str, Path] | None, bundled: BundledProvider | None
) -> int:
    """Run ``units`` for parsed ``args``; raises ``InspectorError`` for bad input."""
    opened, probe = open_probe(args, models)
    building = ProgressBar("bundled data", unit="steps")  # only a first build reports
    source = open_source(args.data, probe.input_shape, probe.preprocess, bundled, building)
    with cluster_client(args.scheduler) as client:
        shard_map = (
            None
            if client is None
            else dask_shard_map(
                client,
                ProbeSpec.of(opened.path, probe, args.unsafe),
                args.top_k,
                args.batch_size,
                source,
            )
        )
        result = mine_units(
            probe,
            source,
            k=args.top_k,
            batch_size=args.batch_size,
            progress=ProgressBar("mining"),
            shard_map=shard_map,
        )
    if result.images == 0:
        raise DatasetError(
            f"Expected at least one readable image. Received: {len(source)} files under "
            f"{args.data!r}, none of which could be read."
        )
    write_staged(args.out, lambda folder: _write(folder, args, opened, probe, source, result))
    skipped = f" ({result.skipped} unreadable files skipped)" if result.skipped else ""
    print(f"Mined {result.images} images{skipped}; wrote {args.out}/units.json and sheets/.")
    return 0


def _write(folder: Path, args, opened, probe, source, result) -> None:
    gradients = UnitGradients(probe)
    visualizer = FeatureVisualizer(probe) if args.visualize else None
    is_face = getattr(source, "is_face", None)
    visualizations = {}
    (folder / "sheets").mkdir()
    for units in result.layers:
        name = units.layer.name
        crops = top_crops(units, source, gradients, args.batch_size)
        visuals = _visualize(visualizer, units, folder) if visualizer else None
        if visuals is not None:
            visualizations[name] = visuals[1]
        rows = [
            channel_row(
                c,
                crops.crops[c],
                crops.gradients[c],
                units.scores[c, : len(crops.crops[c])],
                probe.preprocess.preset,
                visualization=None if visuals is None else visuals[0].images[c],
                label=_faces_label(units.images[c], is_face),
                marks=crops.marks[c],
                frames=crops.frames[c],
            )
            for c in range(units.channels)
        ]
        title = f"{name} ({units.layer.class_name}, {units.channels} channels), data {args.data}"
        unit_sheet(title, rows).save(folder / "sheets" / f"{file_stem(name)}.png")
    document = units_document(
        result, str(opened.path), str(args.data), is_face=is_face, visualizations=visualizations
    )
    (folder / "units.json").write_text(json.dumps(document, indent=1))


def _faces_label(top: np.ndarray, is_face: np.ndarray | None) -> str:
    """ "faces 7/9" under a channel's name: how many of its top images are faces."""
    if is_face is None:
        return ""
    present = top[top >= 0]
    return f"faces {int(is_face[present].sum())}/{len(present)}"


def _visualize(visualizer: FeatureVisualizer, units, folder: Path):
    """Optimised images of every channel, saved as PNGs; and their JSON entries."""
    name = units.layer.name
    result = visualizer.visualize(name, np.arange(units.channels))
    target = folder / "visualizations" / file_stem(name)
    target.mkdir(parents=True)
    preset = visualizer.probe.preprocess.preset
    entries = []
    for c, image in enumerate(result.images):
        relative = f"visualizations/{file_stem(name)}/channel_{c}.png"
        Image.fromarray(picture(image, preset)).save(folder / relative)
        best = float(units.scores[c, 0])
        entries.append(
            {
                "file": relative,
                "activation": float(result.activations[c]),
                "best_example": best,
                "beats_best_example": bool(result.activations[c] >= best),
            }
        )
    return result, entries
