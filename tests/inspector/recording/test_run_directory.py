"""The run directory: crash safety, resume semantics, and load_run's answers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from inspector.engine.errors import LayerNotFoundError, RunDirectoryError
from inspector.recording.run_directory import effective_records, load_run
from inspector.recording.run_writer import RecordAppender, snapshot_file, write_arrays


def layer_stats(step: int, epoch: int, value: float) -> dict:
    stats = {"weight_norm": value, "update_norm": value / 10, "update_ratio": 0.1, "grad_norm": 1.0}
    return {"kind": "layer_stats", "step": step, "epoch": epoch, "layers": {"dense": stats}}


def write_run(run_dir: Path, records: list[dict], snapshot_steps=()) -> None:
    """A run directory written through the real writer, without TensorFlow."""
    appender = RecordAppender(run_dir)
    for step in snapshot_steps:
        kernel = np.full((2, 1), float(step), np.float32)
        write_arrays(
            run_dir / snapshot_file(step),
            {"weights/dense/kernel": kernel, "activations/dense": np.ones((1, 1), np.float16)},
        )
    for record in records:
        appender.append(record)
    appender.close()


def simple_run(run_dir: Path) -> None:
    start = {"kind": "start", "step": 0, "layers": ["dense"]}
    write_run(
        run_dir,
        [
            start,
            {"kind": "snapshot", "step": 0, "epoch": 0, "file": snapshot_file(0)},
            layer_stats(1, 0, 1.0),
            layer_stats(2, 0, 2.0),
            {"kind": "snapshot", "step": 2, "epoch": 0, "file": snapshot_file(2)},
            {"kind": "epoch", "epoch": 0, "step": 2, "logs": {"loss": 0.5, "accuracy": 0.7}},
            layer_stats(3, 1, 3.0),
            {"kind": "epoch", "epoch": 1, "step": 4, "logs": {"loss": 0.25, "accuracy": 0.9}},
            {"kind": "end", "step": 4, "epoch": 1},
        ],
        snapshot_steps=(0, 2),
    )


def test_load_run_reads_history_series_and_snapshots(tmp_path):
    simple_run(tmp_path)
    run = load_run(tmp_path)
    assert run.history == {"loss": (0.5, 0.25), "accuracy": (0.7, 0.9)}
    assert run.epoch_steps == (2, 4) and run.finished and run.skipped_lines == 0
    series = run.series("dense")
    assert series.steps.dtype == np.int64 and series.steps.tolist() == [1, 2, 3]
    assert series.weight_norm.tolist() == [1.0, 2.0, 3.0]
    assert run.snapshot_steps == (0, 2)
    np.testing.assert_array_equal(run.kernels_at(2, "dense"), np.full((2, 1), 2.0))
    assert run.probe_activations_at(0)["dense"].dtype == np.float32
    with pytest.raises(ValueError):
        series.steps[0] = 5  # read-only
    with pytest.raises(ValueError):
        run.kernels_at(2, "dense")[0, 0] = 1.0


def test_unknown_steps_and_layers_name_what_exists(tmp_path):
    simple_run(tmp_path)
    run = load_run(tmp_path)
    with pytest.raises(RunDirectoryError, match=r"snapshot steps \[0, 2\]. Received: step=1"):
        run.kernels_at(1, "dense")
    with pytest.raises(LayerNotFoundError, match="Known layers: dense"):
        run.series("conv")
    with pytest.raises(LayerNotFoundError, match="Layers with snapshots: dense"):
        run.kernels_at(0, "conv")


def test_missing_or_empty_directories_are_refused(tmp_path):
    with pytest.raises(RunDirectoryError, match="does not exist"):
        load_run(tmp_path / "nowhere")
    with pytest.raises(RunDirectoryError, match=r"has no records\.jsonl"):
        load_run(tmp_path)


def test_a_partial_last_line_is_dropped_and_the_next_writer_starts_a_new_line(tmp_path):
    simple_run(tmp_path)
    with open(tmp_path / "records.jsonl", "ab") as handle:
        handle.write(b'{"kind": "layer_stats", "step": 5, "ep')  # killed mid-write
    run = load_run(tmp_path)
    assert run.skipped_lines == 1 and run.series("dense").steps.tolist() == [1, 2, 3]
    appender = RecordAppender(tmp_path)
    appender.append({"kind": "epoch", "epoch": 2, "step": 6, "logs": {"loss": 0.1}})
    appender.close()
    run = load_run(tmp_path)
    assert run.skipped_lines == 1 and run.history["loss"] == (0.5, 0.25, 0.1)


def test_a_later_start_supersedes_the_unfinished_tail():
    records = [
        {"kind": "start", "step": 0},
        layer_stats(1, 0, 1.0),
        {"kind": "epoch", "epoch": 0, "step": 2, "logs": {"loss": 1.0}},
        layer_stats(3, 1, 3.0),  # the epoch that a crash cut short
        {"kind": "start", "step": 2},  # resumed from the epoch-0 checkpoint
        layer_stats(3, 1, 3.5),
    ]
    kept = effective_records(records)
    assert [r.get("step") for r in kept] == [0, 1, 2, 2, 3]
    assert kept[-1]["layers"]["dense"]["weight_norm"] == 3.5


def test_snapshots_whose_file_is_missing_are_not_listed(tmp_path):
    simple_run(tmp_path)
    (tmp_path / snapshot_file(2)).unlink()
    assert load_run(tmp_path).snapshot_steps == (0,)


def test_snapshot_files_are_never_unpickled(tmp_path):
    simple_run(tmp_path)
    evil = np.array([{"a": 1}], dtype=object)
    np.savez(tmp_path / snapshot_file(2), **{"weights/dense/kernel": evil})
    with pytest.raises(RunDirectoryError, match="readable snapshot"):
        load_run(tmp_path).kernels_at(2, "dense")


def test_atomic_writes_leave_no_temporary_files(tmp_path):
    simple_run(tmp_path)
    leftovers = [p.name for p in tmp_path.rglob("*") if "partial" in p.name]
    assert leftovers == []


CHILD = """
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import keras, numpy as np
from inspector.recording.recorder import TrainingRecorder

keras.utils.set_random_seed(0)
x = np.random.default_rng(0).uniform(0, 255, (32, 8, 8, 1)).astype("float32")
y = (x.mean(axis=(1, 2, 3)) > 127).astype("float32")
inputs = keras.Input((8, 8, 1))
h = keras.layers.Conv2D(2, 3, activation="relu", name="conv")(inputs)
h = keras.layers.GlobalAveragePooling2D()(h)
model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="out")(h))
model.compile("adam", "binary_crossentropy")

class Pace(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        if self.epoch >= 1 and batch == 1:
            print("READY", flush=True)
        time.sleep(0.01)
    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

recorder = TrainingRecorder(sys.argv[1], every_k_steps=1, probe_images=x[:2], probe_labels=y[:2],
                            snapshot_steps=range(0, 100000, 3))
model.fit(x, y, batch_size=4, epochs=1000, verbose=0, callbacks=[recorder, Pace()])
"""


def test_a_run_killed_mid_epoch_still_loads(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    run_dir = tmp_path / "run"
    child = subprocess.Popen(
        [sys.executable, str(script), str(run_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "READY"
        time.sleep(0.3)  # let it write mid-epoch records and snapshots
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL

    lines = (run_dir / "records.jsonl").read_bytes().split(b"\n")
    for line in lines[:-1]:  # every newline-terminated line
        json.loads(line)  # all complete records parse: at most the tail is lost
    run = load_run(run_dir)
    assert not run.finished and run.skipped_lines <= 1
    assert len(run.history["loss"]) >= 1  # the first epoch finished before the kill
    assert run.layer_names == ("conv", "out")
    steps = run.series("conv").steps
    assert steps.tolist() == list(range(1, steps[-1] + 1))  # every step, none torn
    for step in run.snapshot_steps:
        assert run.kernels_at(step, "conv").shape == (3, 3, 1, 2)
        assert run.probe_activations_at(step)["conv"].shape == (2, 6, 6, 2)
