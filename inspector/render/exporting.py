"""Write one inspection to a folder: arrays, a JSON summary, grids and overlays.

The layout (shared by ``layer-inspector inspect --out DIR`` and the GUI's export):

    DIR/activations.npz        "<layer>", "grad/<layer>", "input", "grad/input"
                               (compact: float16 where lossless enough, conv and
                               dense layers only, zip-compressed; full: float32,
                               every layer)
    DIR/summary.json           prediction, labels, layers, files, timings
    DIR/feature_maps/<layer>.png
    DIR/attribution/<method>.png   overlay on the input
    DIR/attribution/<method>.npy   raw map, float32 (H, W) at input resolution

Everything is validated first and written into a hidden sibling folder, which
is then moved into place, so a failure leaves nothing half-written in DIR.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from inspector.attribution import Attribution
from inspector.engine.atomic_files import write_folder
from inspector.engine.errors import ExportError
from inspector.engine.inspection import Inspection, LayerRecord
from inspector.engine.progress import Progress, report
from inspector.render.colormaps import canonical_name
from inspector.render.figures import attribution_overlay, feature_map_grid
from inspector.render.summary import summary_dict

_UNSAFE_CHARACTERS = re.compile(r"[^A-Za-z0-9._@+=-]")
_RESERVED_KEYS = ("input",)
# zlib level 3 encodes the big grids ~40% faster than Pillow's default 6 for
# files ~7% larger; encoding dominated the export time of large models.
PNG_COMPRESSION = 3
# The compact export keeps the layers that hold learned filters (and the logits):
# on MobileNetV2 that is 54 of 156 records, and the rest (BatchNorm, ReLU,
# padding, Add) are cheap functions of them.
COMPACT_CLASSES = frozenset(
    {
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "Conv1DTranspose",
        "Conv2DTranspose",
        "Conv3DTranspose",
        "DepthwiseConv1D",
        "DepthwiseConv2D",
        "SeparableConv1D",
        "SeparableConv2D",
        "Dense",
        "EinsumDense",
        "Logits",
    }
)
FLOAT16_MAX = 65504.0
COMPACT_RULE = (
    "layers 'all' means conv and dense layers and the logits (named layers are always "
    "written); arrays float16 (float32 where a value exceeds 65504; values below "
    "float16's 6e-8 become 0, their share per key in 'flushed'); zip-compressed; "
    "feature-map grids as 256-colour palette PNGs"
)
FULL_RULE = "every layer for 'all'; arrays float32; uncompressed; grids as RGB PNGs"


@dataclass(frozen=True)
class ExportResult:
    """What ``export_inspection`` wrote.

    Attributes:
        out_dir: the folder.
        files: paths relative to ``out_dir``, in writing order.
        layers: names of the layers exported.
        flushed: compact exports only: array key -> share of its non-zero values
            that float16 turned into 0 (keys that lost none are left out).
    """

    out_dir: Path
    files: tuple[str, ...]
    layers: tuple[str, ...]
    flushed: dict[str, float] = field(default_factory=dict)


def file_stem(name: str) -> str:
    """A file name for a layer or method name: ``"outer/inner"`` -> ``"outer__inner"``."""
    stem = _UNSAFE_CHARACTERS.sub("_", name.replace("/", "__"))
    return stem.lstrip(".") or "_"


def unique_stems(names: Sequence[str]) -> dict[str, str]:
    """``file_stem`` of each name, with ``-2``, ``-3``... added where two would clash."""
    stems: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        stem, count = file_stem(name), 1
        while stem.lower() in taken:  # case-insensitive file systems
            count += 1
            stem = f"{file_stem(name)}-{count}"
        taken.add(stem.lower())
        stems[name] = stem
    return stems


def select_layers(
    inspection: Inspection, layers: str | Sequence[str], compact: bool = False
) -> tuple[LayerRecord, ...]:
    """The records named by ``layers`` (``"all"`` or a list of names), in model order.

    With ``compact``, ``"all"`` means the layers of ``COMPACT_CLASSES`` (conv and
    dense layers and the logits); named layers are always kept.

    Raises:
        LayerNotFoundError: a name the inspection does not have.
        ExportError: an empty list.
    """
    if isinstance(layers, str) and layers == "all":
        if compact:
            return tuple(r for r in inspection.layers if r.class_name in COMPACT_CLASSES)
        return inspection.layers
    names = [layers] if isinstance(layers, str) else list(layers)
    if not names:
        raise ExportError("Expected at least one layer name or 'all'. Received: an empty list.")
    wanted = {inspection.layer(name).name for name in names}
    return tuple(record for record in inspection.layers if record.name in wanted)


def _check(
    inspection: Inspection, records: Sequence[LayerRecord], attributions, out_dir: Path
) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(
            f"Expected a folder to export into. Received: out_dir={str(out_dir)!r}, "
            "which is a file."
        )
    for record in records:
        if record.name in _RESERVED_KEYS or record.name.startswith("grad/"):
            raise ExportError(
                "Expected layer names that do not clash with the keys 'input' and "
                f"'grad/...' of activations.npz. Received: layer={record.name!r}."
            )
    size = inspection.image.shape[:2]
    for attribution in attributions:
        if not isinstance(attribution, Attribution) or attribution.heatmap.shape != size:
            shape = getattr(getattr(attribution, "heatmap", None), "shape", None)
            raise ExportError(
                f"Expected Attribution objects with a heatmap of the input size {size}. "
                f"Received: {type(attribution).__name__} with heatmap shape {shape}."
            )


def npz_arrays(inspection: Inspection, records: Sequence[LayerRecord]) -> dict[str, np.ndarray]:
    """The arrays of ``activations.npz`` by key: ``input``, ``grad/input``, then
    ``<layer>`` and ``grad/<layer>`` for each record (activations without batch axis)."""
    arrays = {"input": inspection.image, "grad/input": inspection.input_gradient}
    for record in records:
        arrays[record.name] = record.activation
        arrays[f"grad/{record.name}"] = record.gradient
    return arrays


def as_compact(array: np.ndarray) -> tuple[np.ndarray, float]:
    """``(array as float16, share of its non-zero values flushed to zero)``.

    An array with a value beyond float16's range (65504) stays float32 (share 0).
    Values smaller than float16's smallest step (6e-8), e.g. the gradients of
    an untrained network, become 0; the share says how many did.
    """
    if array.size == 0 or np.abs(array).max() > FLOAT16_MAX:
        return array, 0.0
    half = array.astype(np.float16)
    nonzero = np.count_nonzero(array)
    flushed = nonzero - np.count_nonzero(half)
    return half, flushed / nonzero if nonzero else 0.0


def _write_arrays(path: Path, arrays: dict[str, np.ndarray], compact: bool) -> dict:
    """Write ``activations.npz``; returns ``{"dtypes": {key: dtype}, "flushed": {...}}``."""
    flushed: dict[str, float] = {}
    if compact:
        stored = {}
        for key, value in arrays.items():
            stored[key], share = as_compact(value)
            if share > 0:
                flushed[key] = round(share, 6)
        arrays = stored
        np.savez_compressed(path, **arrays)
    else:
        np.savez(path, **arrays)
    return {"dtypes": {key: str(value.dtype) for key, value in arrays.items()}, "flushed": flushed}


def _write_all(
    staged: Path,
    inspection: Inspection,
    records: Sequence[LayerRecord],
    attributions: Sequence[Attribution],
    figure_options: dict,
    tick: Callable[[str], None],
    timings: dict[str, float],
    compact: bool,
) -> dict[str, float]:
    stored = _write_arrays(staged / "activations.npz", npz_arrays(inspection, records), compact)
    tick("activations.npz")
    maps = {}
    if records:
        (staged / "feature_maps").mkdir()
    for record, stem in zip(records, unique_stems([r.name for r in records]).values(), strict=True):
        maps[record.name] = f"feature_maps/{stem}.png"
        grid = feature_map_grid(record, **figure_options)
        if compact:
            # A grid is a colormap plus text: 256 colours keep it; the file is ~3.6x smaller.
            grid = grid.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        grid.save(staged / maps[record.name], compress_level=PNG_COMPRESSION)
        tick(maps[record.name])
    overlays = []
    if attributions:
        (staged / "attribution").mkdir()
    stems = unique_stems([a.method for a in attributions])
    for attribution, stem in zip(attributions, stems.values(), strict=True):
        base = f"attribution/{stem}"
        image = attribution_overlay(
            inspection.display_image, attribution.heatmap, signed=attribution.signed
        )
        image.save(staged / f"{base}.png", compress_level=PNG_COMPRESSION)
        np.save(staged / f"{base}.npy", attribution.heatmap)
        overlays.append((attribution, f"{base}.png", f"{base}.npy"))
        tick(f"{base}.png")
    summary = summary_dict(inspection, records, maps, overlays, timings)
    summary["arrays"] = {
        "mode": "compact" if compact else "full",
        "rule": COMPACT_RULE if compact else FULL_RULE,
        **stored,
    }
    (staged / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    tick("summary.json")
    return stored["flushed"]


def export_inspection(
    inspection: Inspection,
    out_dir: str | Path,
    *,
    layers: str | Sequence[str] = "all",
    attributions: Sequence[Attribution] = (),
    progress: Progress | None = None,
    timings: dict[str, float] | None = None,
    normalise: str = "channel",
    colormap: str = "viridis",
    order: str | None = None,
    compact: bool = False,
) -> ExportResult:
    """Write ``inspection`` (and its attribution maps) into ``out_dir``.

    Args:
        inspection: the result of ``Inspector.inspect``.
        out_dir: the folder; created if missing. Entries of the layout that
            already exist there are replaced; other files are left alone.
        layers: ``"all"`` or the names of the layers to write.
        attributions: maps for ``attribution/``; heatmaps must be at input size.
        progress: ``progress(done, total, file name)`` after each file and once
            more when the folder is in place (then ``done == total``;
            ``inspector.engine.progress``).
        timings: extra phases (seconds) to record beside the inspection's own.
        normalise, colormap, order: how the feature-map grids are drawn (see
            ``feature_map_grid``; ``order`` is None, ``"mean"`` or ``"max"``).
        compact: ``COMPACT_RULE`` (what ``inspect`` writes unless ``--full``);
            False writes every layer (for ``"all"``) in float32.

    Returns:
        An ``ExportResult`` listing the files written.

    Raises:
        LayerNotFoundError: an unknown layer name (nothing is written).
        ExportError: a bad argument or a failed write (nothing is left behind).
    """
    out_dir = Path(out_dir)
    records = select_layers(inspection, layers, compact)
    attributions = tuple(attributions)
    figure_options = _figure_options(normalise, colormap, order)
    _check(inspection, records, attributions, out_dir)
    written: list[str] = []
    total = len(records) + len(attributions) + 3

    def tick(name: str) -> None:
        written.append(name)
        report(progress, len(written), total, name)

    flushed: dict = {}

    def write(staged: Path) -> None:
        all_timings = {**inspection.timings, **(timings or {})}
        flushed.update(
            _write_all(
                staged,
                inspection,
                records,
                attributions,
                figure_options,
                tick,
                all_timings,
                compact,
            )
        )

    try:
        write_folder(out_dir, write)
    except OSError as error:
        raise ExportError(
            f"Expected to write the export into {str(out_dir)!r}. Received: "
            f"{type(error).__name__}: {error}. Nothing was written."
        ) from None
    report(progress, total, total, "in place")
    return ExportResult(out_dir, tuple(written), tuple(r.name for r in records), flushed)


def _figure_options(normalise: str, colormap: str, order: str | None) -> dict:
    """Check the grid options before anything is written."""
    try:
        canonical_name(colormap)
    except ValueError as error:
        raise ExportError(str(error)) from None
    if normalise not in ("channel", "layer") or order not in (None, "mean", "max"):
        raise ExportError(
            "Expected normalise 'channel' or 'layer' and order None, 'mean' or 'max'. "
            f"Received: normalise={normalise!r}, order={order!r}."
        )
    return {"normalise": normalise, "colormap": colormap, "order": order}
