"""Read a training run directory written by ``TrainingRecorder``.

The format (version 1)::

    run_dir/
      config.json      what the run was started with, plus "format", "version"
                       and the recorder's settings; replaced atomically
      records.jsonl    one JSON object per line, appended and flushed per record
      probes.npz       "images" float32 (P, H, W, C) as fed to the model,
                       "display" uint8 (P, H, W, C), optional "labels"
      snapshots/step_000000123.npz
                       after 123 optimizer steps: "weights/<layer>/<variable>"
                       float32 for every conv/dense layer, and
                       "activations/<layer>" float16 (P, ...) for the probe images
      tensorboard/     optional TensorBoard event files
      checkpoint.keras, model.keras
                       written by ``layer-inspector train`` only

Every record has a ``kind``; ``step`` counts optimizer updates, ``epoch`` is
0-based as in Keras callbacks:

* ``start``: ``step``, ``layers`` (weighted layers in model order), ``weights``
  (shapes), ``snapshot_layers``, ``params``. A start at step s supersedes every
  earlier record with a step after s: that is how a resumed run replaces the
  unfinished tail of the run it continues.
* ``layer_stats``: ``step``, ``epoch``, ``layers: {name: {weight_norm,
  update_norm, update_ratio, grad_norm}}``; ``update_norm`` is ||W_s - W_(s-1)||
  and ``grad_norm`` ||dJ/dW|| on the fixed probe batch at W_s.
* ``snapshot``: ``step``, ``epoch``, ``reason`` (start/early/epoch_end), ``file``.
* ``epoch``: ``epoch``, ``step``, ``logs`` (loss, metrics, val_*).
* ``end``: ``step``, ``epoch``.

A record is appended only after the files it names are in place, and a killed
writer leaves at most one partial last line, which is dropped here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inspector.engine.errors import LayerNotFoundError, RunDirectoryError
from inspector.engine.inspection import read_only
from inspector.recording import run_writer

_STATS = ("weight_norm", "update_norm", "update_ratio", "grad_norm")


@dataclass(frozen=True)
class LayerSeries:
    """One layer's statistics over training; every array has shape ``(n,)``, read-only.

    Attributes:
        steps: int64 optimizer steps at which the statistics were taken.
        weight_norm: float64 ||W||, all the layer's trainable weights together.
        update_norm: float64 ||dW||, the change made by that step's update.
        update_ratio: float64 ||dW|| / ||W||.
        grad_norm: float64 ||dJ/dW|| on the fixed probe batch (NaN if none).
    """

    layer: str
    steps: np.ndarray
    weight_norm: np.ndarray
    update_norm: np.ndarray
    update_ratio: np.ndarray
    grad_norm: np.ndarray


@dataclass(frozen=True)
class TrainingRun:
    """A loaded run: history, per-layer series and snapshots. Arrays are read-only.

    Attributes:
        path: the run directory.
        config: what the run was started with (seed, epochs, data, recorder, ...).
        history: metric -> per-epoch values, like ``keras.callbacks.History.history``.
        epoch_steps: optimizer step at the end of each epoch in ``history``.
        layer_names: layers with trainable weights, in model order.
        snapshot_steps: steps that have weight (and probe activation) snapshots.
        probe_images: uint8 ``(P, H, W, C)`` the fixed probe images, for showing.
        probe_inputs: float32 ``(P, H, W, C)`` the same images as fed to the model.
        probe_labels: their labels, or None.
        finished: True when training ended normally (an ``end`` record is last).
        skipped_lines: unreadable record lines that were dropped (a killed
            writer's partial last line counts).
    """

    path: Path
    config: dict
    history: dict[str, tuple[float, ...]]
    epoch_steps: tuple[int, ...]
    layer_names: tuple[str, ...]
    snapshot_steps: tuple[int, ...]
    probe_images: np.ndarray
    probe_inputs: np.ndarray
    probe_labels: np.ndarray | None
    finished: bool
    skipped_lines: int
    _series: dict = field(repr=False, compare=False)
    _snapshot_files: dict = field(repr=False, compare=False)

    def series(self, layer: str) -> LayerSeries:
        """The statistics of ``layer`` at every recorded step."""
        if layer not in self._series:
            raise LayerNotFoundError(
                f"Expected one of the run's weighted layers. Received: layer={layer!r}. "
                f"Known layers: {', '.join(self.layer_names) or '(none)'}."
            )
        return self._series[layer]

    def weights_at(self, step: int, layer: str) -> dict[str, np.ndarray]:
        """``{variable name: float32 array}`` of ``layer`` after ``step`` updates."""
        arrays = self._snapshot(step)
        prefix = f"weights/{layer}/"
        found = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        if not found:
            known = sorted(
                {k[len("weights/") :].rsplit("/", 1)[0] for k in arrays if k.startswith("weights/")}
            )
            raise LayerNotFoundError(
                f"Expected a conv or dense layer of the run. Received: layer={layer!r}. "
                f"Layers with snapshots: {', '.join(known) or '(none)'}."
            )
        return found

    def kernels_at(self, step: int, layer: str) -> np.ndarray:
        """The kernel of a conv ``(kh, kw, in, out)`` or dense ``(in, out)`` layer."""
        weights = self.weights_at(step, layer)
        name = "kernel" if "kernel" in weights else next(k for k in weights if "kernel" in k)
        return weights[name]

    def probe_activations_at(self, step: int) -> dict[str, np.ndarray]:
        """``{layer: float32 (P, H, W, C) or (P, units)}`` for the probe images."""
        prefix = "activations/"
        arrays = self._snapshot(step)
        return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

    def _snapshot(self, step: int) -> dict[str, np.ndarray]:
        if step not in self._snapshot_files:
            raise RunDirectoryError(
                "Expected one of the run's snapshot steps "
                f"{list(self.snapshot_steps)}. Received: step={step!r}."
            )
        return _read_snapshot(self.path / self._snapshot_files[step])


def _read_snapshot(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {
                key: read_only(stored[key].astype(np.float32, copy=False)) for key in stored.files
            }
    except (OSError, ValueError, KeyError) as error:
        raise RunDirectoryError(
            f"Expected a readable snapshot file. Received: {str(path)!r} "
            f"({type(error).__name__}: {error})."
        ) from None


def read_records(path: Path) -> tuple[list[dict], int]:
    """Every whole, valid record line in order, and how many lines were dropped."""
    records, skipped = [], 0
    with open(path, "rb") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                skipped += 1
                continue
            if isinstance(record, dict) and "kind" in record:
                records.append(record)
            elif line.strip():
                skipped += 1
    return records, skipped


def effective_records(records: list[dict]) -> list[dict]:
    """Drop what a later ``start`` supersedes: every earlier record past its step."""
    kept: list[dict] = []
    for record in records:
        if record["kind"] == "start":
            step = record.get("step", 0)
            kept = [r for r in kept if r.get("step", 0) <= step]
        kept.append(record)
    return kept


def load_run(path: str | Path) -> TrainingRun:
    """Load a run directory written by ``TrainingRecorder`` (see the module docstring).

    Raises:
        RunDirectoryError: the directory is missing or holds no run.
    """
    path = Path(path)
    records_path = path / run_writer.RECORDS_FILE
    if not records_path.is_file():
        what = "does not exist" if not path.exists() else "has no records.jsonl"
        raise RunDirectoryError(
            "Expected a training run directory (written by TrainingRecorder, holding "
            f"records.jsonl). Received: {str(path)!r}, which {what}."
        )
    try:
        raw, skipped = read_records(records_path)
    except OSError as error:
        raise RunDirectoryError(f"Expected a readable {records_path}: {error}") from None
    records = effective_records(raw)
    starts = [r for r in records if r["kind"] == "start"]
    layer_names = tuple(starts[-1].get("layers", ())) if starts else ()
    epochs = [r for r in records if r["kind"] == "epoch"]
    snapshots = {
        int(r["step"]): r["file"]
        for r in records
        if r["kind"] == "snapshot" and (path / r["file"]).is_file()
    }
    images, inputs, labels = _read_probes(path)
    return TrainingRun(
        path=path,
        config=_read_config(path),
        history=_history(epochs),
        epoch_steps=tuple(int(r["step"]) for r in epochs),
        layer_names=layer_names,
        snapshot_steps=tuple(sorted(snapshots)),
        probe_images=images,
        probe_inputs=inputs,
        probe_labels=labels,
        finished=bool(records) and records[-1]["kind"] == "end",
        skipped_lines=skipped,
        _series=_series(records, layer_names),
        _snapshot_files=snapshots,
    )


def _history(epochs: list[dict]) -> dict[str, tuple[float, ...]]:
    history: dict[str, list[float]] = {}
    for record in epochs:
        for metric, value in record.get("logs", {}).items():
            history.setdefault(metric, []).append(float(value))
    return {metric: tuple(values) for metric, values in history.items()}


def _series(records: list[dict], layer_names: tuple[str, ...]) -> dict[str, LayerSeries]:
    rows: dict[str, list[tuple]] = {name: [] for name in layer_names}
    for record in records:
        if record["kind"] != "layer_stats":
            continue
        for name, stats in record.get("layers", {}).items():
            values = tuple(float(stats.get(k, np.nan)) for k in _STATS)
            rows.setdefault(name, []).append((int(record["step"]), *values))
    series = {}
    for name, table in rows.items():
        columns = list(zip(*table, strict=True)) if table else [()] * 5
        series[name] = LayerSeries(
            name,
            read_only(np.asarray(columns[0], np.int64)),
            *(read_only(np.asarray(c, np.float64)) for c in columns[1:]),
        )
    return series


def _read_config(path: Path) -> dict:
    config_path = path / run_writer.CONFIG_FILE
    if not config_path.is_file():
        return {}
    try:
        return json.loads(config_path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunDirectoryError(
            f"Expected a readable JSON config.json in the run. Received: {error}."
        ) from None


def _read_probes(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    probes_path = path / run_writer.PROBES_FILE
    if not probes_path.is_file():
        empty = np.zeros((0, 0, 0, 0))
        return read_only(empty.astype(np.uint8)), read_only(empty.astype(np.float32)), None
    try:
        with np.load(probes_path, allow_pickle=False) as stored:
            labels = read_only(stored["labels"]) if "labels" in stored.files else None
            return read_only(stored["display"]), read_only(stored["images"]), labels
    except (OSError, ValueError, KeyError) as error:
        raise RunDirectoryError(
            f"Expected a readable probes.npz in the run. Received: {error}."
        ) from None
