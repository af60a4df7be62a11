"""The headless ``layer-inspector units`` command: what every channel responds to.

    layer-inspector units [--model M.keras] [--data DIR|bundled] [--layers a,b|all-conv]
                          [--top-k 9] [--visualize] [--scheduler local:N|tcp://HOST:PORT]
                          [--batch-size B] --out OUT

Writes ``OUT/units.json`` and ``OUT/sheets/<layer>.png`` (and, with
``--visualize``, ``OUT/visualizations/<layer>/channel_<c>.png``). The launcher
passes the bundled model path and a provider of the bundled images; the core
knows neither. Any bad input is one line on stderr, exit code 2, and nothing in OUT.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
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
from inspector.engine.errors import DatasetError
from inspector.render.exporting import file_stem
from inspector.render.unit_sheets import channel_row, unit_sheet
from inspector.units.cluster import dask_shard_map
from inspector.units.feature_visualization import FeatureVisualizer
from inspector.units.probe import LayerProbe
from inspector.units.run import mine_units
from inspector.units.sources import ArraySource, FolderSource
from inspector.units.unit_gradients import UnitGradients, top_crops

# (H, W, C) -> uint8 (N, H, W, C) images, 0..255: the launcher's bundled faces.
BundledImages = Callable[[tuple[int, int, int]], np.ndarray]


def add_units_parser(subparsers) -> None:
    """Add the ``units`` sub-command to an ``argparse`` sub-parsers object."""
    parser = subparsers.add_parser(
        "units",
        help="top-k dataset images, gradients and feature visualisations of every channel",
        description="Mine the top-k images of every channel of the chosen layers over a "
        "data set, with receptive-field crops, unit gradients and statistics.",
    )
    parser.add_argument("--model", type=Path, metavar="M.keras", help="default: the bundled model")
    parser.add_argument(
        "--data", default="bundled", metavar="DIR|bundled", help="image folder (any layout)"
    )
    parser.add_argument("--layers", default="all-conv", metavar="a,b|all-conv")
    parser.add_argument("--top-k", type=positive_int, default=9, metavar="K")
    parser.add_argument("--visualize", action="store_true", help="also run feature visualisation")
    parser.add_argument("--scheduler", metavar="local:N|tcp://HOST:PORT", help="mine on Dask")
    parser.add_argument("--batch-size", type=positive_int, default=64, metavar="B")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT")
    parser.set_defaults(handler=lambda args: run_units(args, None, None))


def _source(data: str, probe: LayerProbe, bundled: BundledImages | None):
    if data == "bundled":
        if bundled is None:
            raise DatasetError("Expected --data DIR. Received: 'bundled', but none is installed.")
        low, high = probe.value_range
        images = bundled(probe.input_shape)
        return ArraySource(images, "bundled", offset=low, scale=(high - low) / 255.0)
    return FolderSource(Path(data), probe.input_shape, probe.value_range)


def run_units(
    args: argparse.Namespace, default_model: Path | None, bundled: BundledImages | None
) -> int:
    """Run ``units`` for parsed ``args``; raises ``InspectorError`` for bad input."""
    path, layers, probe = open_probe(args, default_model)
    source = _source(args.data, probe, bundled)
    with cluster_client(args.scheduler) as client:
        shard_map = (
            None
            if client is None
            else dask_shard_map(client, path, layers, args.top_k, args.batch_size, source)
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
    write_staged(args.out, lambda folder: _write(folder, args, path, probe, source, result))
    skipped = f" ({result.skipped} unreadable files skipped)" if result.skipped else ""
    print(f"Mined {result.images} images{skipped}; wrote {args.out}/units.json and sheets/.")
    return 0


def _write(folder: Path, args, path: Path, probe: LayerProbe, source, result) -> None:
    gradients = UnitGradients(probe)
    visualizer = FeatureVisualizer(probe) if args.visualize else None
    summary = {
        "model": str(path),
        "data": str(args.data),
        "images": result.images,
        "skipped": result.skipped,
        "layers": {},
    }
    (folder / "sheets").mkdir()
    for units in result.layers:
        name = units.layer.name
        crops = top_crops(units, source, gradients, args.batch_size)
        visuals = _visualize(visualizer, units, folder) if visualizer else None
        channels = []
        rows = []
        for c in range(units.channels):
            tops = [
                {
                    "image": result.names[int(units.images[c, j])],
                    "score": float(units.scores[c, j]),
                    "box": [int(v) for v in units.boxes[c, j]],
                }
                for j in range(units.images.shape[1])
                if units.images[c, j] >= 0
            ]
            entry = {
                "channel": c,
                "mean": float(units.mean[c]),
                "fraction_active": float(units.fraction_active[c]),
                "top": tops,
            }
            if visuals is not None:
                entry["visualization"] = visuals[1][c]
            channels.append(entry)
            rows.append(
                channel_row(
                    c,
                    crops.crops[c],
                    crops.gradients[c],
                    units.scores[c, : len(tops)],
                    probe.value_range,
                    visualization=None if visuals is None else visuals[0].images[c],
                )
            )
        summary["layers"][name] = {"channels": channels}
        sheet = unit_sheet(f"{name} ({units.layer.class_name}, {units.channels} channels)", rows)
        sheet.save(folder / "sheets" / f"{file_stem(name)}.png")
    (folder / "units.json").write_text(json.dumps(summary, indent=1))


def _visualize(visualizer: FeatureVisualizer, units, folder: Path):
    """Optimised images of every channel, saved as PNGs; and their JSON entries."""
    name = units.layer.name
    result = visualizer.visualize(name, np.arange(units.channels))
    target = folder / "visualizations" / file_stem(name)
    target.mkdir(parents=True)
    low, high = visualizer.probe.value_range
    entries = []
    for c, image in enumerate(result.images):
        unit = np.clip((image - low) / (high - low), 0, 1)
        grey = (unit[..., 0] if unit.shape[-1] == 1 else unit[..., :3]) * 255 + 0.5
        relative = f"visualizations/{file_stem(name)}/channel_{c}.png"
        Image.fromarray(grey.astype(np.uint8)).save(folder / relative)
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
