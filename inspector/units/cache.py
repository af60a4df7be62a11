"""The on-disk cache of mining states: ``.npz`` arrays + a JSON header, never pickled.

A cache folder is named by a key that hashes everything the result depends on:
the model's weights (and architecture), the data listing, the layers and the
settings (k, batch size, shard size). Inside it, every finished shard is one
file pair, written under a temporary name and renamed into place
(``os.replace`` is atomic on one file system), so an interrupted run leaves
only whole shards behind and the next run mines just the missing ones. When
all shards are in, their merge is stored as ``complete`` and later runs read
only that.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from inspector.engine.atomic_files import write_bytes, write_file
from inspector.units.topk_state import LayerState, MiningState

# Part of every key: a change in what a cached field means must never reuse old
# results. 2: the histogram counts every position (1 counted each image's maximum).
# 3: half-octave bins on the float's bits (2 had six log bins per decade).
FORMAT = 3
_FIELDS = ("scores", "images", "locations", "active", "histogram")


def default_cache_root() -> Path:
    """``$LAYER_INSPECTOR_CACHE`` or ``~/.cache/layer-inspector``."""
    root = os.environ.get("LAYER_INSPECTOR_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "layer-inspector"


def weights_hash(model) -> str:
    """sha256 of the model's architecture JSON and every weight's bytes, in order."""
    digest = hashlib.sha256(json.dumps(model.to_json(), sort_keys=True).encode())
    for weight in model.weights:
        digest.update(np.ascontiguousarray(np.asarray(weight)).tobytes())
    return digest.hexdigest()


def cache_key(parts: dict) -> str:
    """A short stable key of a JSON-serialisable description of the work."""
    text = json.dumps({"format": FORMAT, **parts}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _arrays_of(state: MiningState) -> tuple[dict, dict]:
    arrays, header = {}, {"k": state.k, "shards": state.shards, "images_read": state.images_read}
    header["layers"] = []
    for i, (name, layer) in enumerate(state.layers.items()):
        for field in _FIELDS:
            arrays[f"l{i}_{field}"] = getattr(layer, field)
        starts = sorted(layer.sums)
        arrays[f"l{i}_sums"] = (
            np.stack([layer.sums[s] for s in starts]) if starts else np.zeros((0, 0))
        )
        header["layers"].append({"name": name, "sum_starts": starts})
    return arrays, header


def write_state(state: MiningState, folder: Path, stem: str) -> None:
    """Write ``stem.npz`` then ``stem.json`` atomically; the JSON marks the pair complete."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays, header = _arrays_of(state)
    write_file(folder / f"{stem}.npz", lambda path: np.savez(path, **arrays))
    write_bytes(folder / f"{stem}.json", json.dumps(header).encode())


def read_state(folder: Path, stem: str) -> MiningState | None:
    """The state stored as ``stem``, or None when it is missing or unreadable."""
    try:
        header = json.loads((folder / f"{stem}.json").read_text())
        with np.load(folder / f"{stem}.npz", allow_pickle=False) as data:
            layers = {}
            for i, entry in enumerate(header["layers"]):
                fields = {f: data[f"l{i}_{f}"] for f in _FIELDS}
                sums = {
                    int(s): row
                    for s, row in zip(entry["sum_starts"], data[f"l{i}_sums"], strict=True)
                }
                layers[entry["name"]] = LayerState(sums=sums, **fields)
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return None  # a damaged entry is mined again, never trusted
    shards = tuple(tuple(int(v) for v in pair) for pair in header["shards"])
    return MiningState(layers, shards, int(header["images_read"]), int(header["k"]))


def shard_stem(start: int, stop: int) -> str:
    return f"shard-{start:09d}-{stop:09d}"


def finished_shards(folder: Path) -> list[tuple[int, int]]:
    """``(start, stop)`` of every shard whose JSON (written last) exists."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob("shard-*-*.json"):
        _, start, stop = path.stem.split("-")
        found.append((int(start), int(stop)))
    return sorted(found)
