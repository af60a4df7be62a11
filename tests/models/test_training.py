"""Training the face CNN: refusals (fast), and real runs (slow)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from inspector.engine.errors import DatasetError, InspectorError, RunDirectoryError
from inspector.recording.probe_choice import pick_per_class
from inspector.recording.run_directory import load_run
from models.datasets.bundled_data import bundled_face_data
from models.training.checkpoint import CHECKPOINT_FILE, read_checkpoint_state
from models.training.loop import train_face_model


def test_an_occupied_run_directory_needs_resume(tmp_path):
    (tmp_path / "something").write_text("x")
    with pytest.raises(RunDirectoryError, match="pass --resume"):
        train_face_model(run_dir=tmp_path, epochs=1, verbose=0)


def test_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(RunDirectoryError, match=r"checkpoint\.keras to resume"):
        train_face_model(run_dir=tmp_path, epochs=1, resume=True, verbose=0)


def test_bad_settings_and_data_are_refused_before_training(tmp_path):
    with pytest.raises(InspectorError, match=r"positive integer\. Received: 0"):
        train_face_model(run_dir=tmp_path / "a", epochs=0)
    with pytest.raises(InspectorError, match="strategy in"):
        train_face_model(run_dir=tmp_path / "b", strategy="tpu")
    with pytest.raises(DatasetError, match="does not exist"):
        train_face_model(run_dir=tmp_path / "c", data_dir=tmp_path / "missing", verbose=0)


def test_probes_and_gradient_batch_take_every_class_in_turn():
    data = bundled_face_data()
    chosen = pick_per_class(data.held_out.labels, 4)
    assert np.bincount(data.held_out.labels[chosen]).tolist() == [2, 2]
    assert len(pick_per_class(data.held_out.labels, 5000)) == len(data.held_out) == 650


class StopAfterEpoch(keras.callbacks.Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None) -> None:
        if epoch + 1 == self.epoch:
            self.model.stop_training = True


def write_folder_data(root, per_class: int = 30):
    """Three classes of noisy 64x64 images of different brightness under ``root``."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, level in (("cats", 60), ("dogs", 190), ("owls", 120)):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = np.clip(rng.normal(level, 30, (64, 64)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def assert_same_training(run, other) -> None:
    """Both runs end where the other does, up to CPU arithmetic noise.

    Multithreaded CPU kernels sum in an order that varies between runs, and the
    optimizer carries the rounding differences forward (measured: up to 1.4e-3 in
    single weights after a few steps, 0.2 after 500). So the criterion is
    relative: the two runs' final weights differ by under 5 % of the distance
    training moved them (measured: 0.3 % usually, 2.5 % once in a fresh clone;
    another seed: 876 %). A wrong seed, data order, learning rate or resume point
    moves them apart by about as much as training itself (the initial weights are
    checked for exact equality separately).
    """
    last = run.snapshot_steps[-1]
    assert other.snapshot_steps[-1] == last
    moved = apart = 0.0
    for layer in run.layer_names:
        start, end = run.kernels_at(0, layer), run.kernels_at(last, layer)
        moved += float(np.sum((end - start) ** 2))
        apart += float(np.sum((end - other.kernels_at(last, layer)) ** 2))
    assert moved > 0 and np.sqrt(apart) < 0.05 * np.sqrt(moved), (np.sqrt(apart), np.sqrt(moved))


@pytest.mark.slow
def test_seeded_runs_repeat_and_a_resumed_run_matches_an_uninterrupted_one(tmp_path):
    # A small folder keeps the runs short (a few steps per epoch); see
    # assert_same_training for why equality is up to arithmetic noise.
    data = write_folder_data(tmp_path / "data")
    kwargs = {"data_dir": data, "epochs": 2, "verbose": 0}
    train_face_model(run_dir=tmp_path / "whole", seed=5, **kwargs)
    train_face_model(run_dir=tmp_path / "again", seed=5, **kwargs)
    first, second = load_run(tmp_path / "whole"), load_run(tmp_path / "again")
    for layer in first.layer_names:  # the seed alone fixes the initial weights
        np.testing.assert_array_equal(first.kernels_at(0, layer), second.kernels_at(0, layer))
    assert_same_training(first, second)

    cut = tmp_path / "cut"
    train_face_model(run_dir=cut, seed=5, extra_callbacks=[StopAfterEpoch(1)], **kwargs)
    assert read_checkpoint_state(cut)["epochs_done"] == 1
    train_face_model(run_dir=cut, resume=True, **kwargs)
    run = load_run(cut)
    assert_same_training(first, run)
    np.testing.assert_allclose(run.history["loss"], first.history["loss"], rtol=1e-3)
    assert run.snapshot_steps == first.snapshot_steps
    assert run.config["seed"] == 5 and run.config["epochs"] == 2
    assert read_checkpoint_state(cut) == read_checkpoint_state(tmp_path / "whole")
    assert read_checkpoint_state(cut)["epochs_done"] == 2


@pytest.mark.slow
def test_training_on_a_user_folder_writes_a_loadable_run(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for name, level in (("cats", 60), ("dogs", 190), ("owls", 120)):
        for i in range(6):
            pixels = np.clip(rng.normal(level, 20, (50, 40, 3)), 0, 255).astype(np.uint8)
            (tmp_path / "data" / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels).save(tmp_path / "data" / name / f"{i}.png")
    model = train_face_model(
        run_dir=tmp_path / "run", data_dir=tmp_path / "data", epochs=2, verbose=0
    )
    assert model.class_names == ("cats", "dogs", "owls")
    run = load_run(tmp_path / "run")
    assert run.config["class_names"] == ["cats", "dogs", "owls"]
    assert run.config["loss"] == "sparse_categorical_crossentropy"
    assert len(run.history["val_accuracy"]) == 2 and run.finished
    assert (tmp_path / "run" / CHECKPOINT_FILE).is_file()
    from inspector.engine.model_loading import load_model

    reloaded = load_model(tmp_path / "run" / "model.keras")
    assert (
        reloaded.class_names == ("cats", "dogs", "owls")
        and getattr(reloaded, "optimizer", None) is None
    )


MIRRORED = """
import os, sys, json
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from models.training.loop import train_face_model, make_strategy
from inspector.recording.run_directory import load_run
assert make_strategy("mirrored").num_replicas_in_sync == 2
out = {}
for strategy in ("default", "mirrored"):
    train_face_model(run_dir=sys.argv[1] + strategy, epochs=1, strategy=strategy, verbose=0)
    run = load_run(sys.argv[1] + strategy)
    series = run.series("face_conv1")
    out[strategy] = {"loss": run.history["loss"][0],
                     "grad": series.grad_norm[0],
                     "early_steps": series.steps[:3].tolist(),
                     "early_updates": series.update_norm[:3].tolist(),
                     "strategy": run.config["strategy"]}
print(json.dumps(out))
"""


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    # Logical devices must be configured before TensorFlow starts: a fresh process.
    script = tmp_path / "mirrored.py"
    script.write_text(textwrap.dedent(MIRRORED))
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "run_")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["mirrored"]["strategy"] == "mirrored"
    mirrored, default = result["mirrored"], result["default"]
    # The recorded gradient is not halved by Keras's per-replica loss scaling, and
    # the first updates (steps 1, 2, 5: before rounding differences grow) are the
    # same size. A wrong learning rate scales them (Adam's first step is lr * sign(g),
    # of norm lr * sqrt(n)); steps 2 and 5 also depend on which data each step saw.
    # (Measured: the gradients equal, the updates 2e-7 apart; 1e-3 leaves room.)
    assert mirrored["grad"] == pytest.approx(default["grad"], rel=1e-3)
    assert mirrored["early_steps"] == default["early_steps"] == [1, 2, 5]
    assert mirrored["early_updates"] == pytest.approx(default["early_updates"], rel=1e-3)
    # Both learned (below ln 2, the loss of always answering 0.5). The first epoch's
    # mean loss is not compared: 250 steps amplify the drift between processes
    # (see docs/face-model.md, --seed): measured 0.397-0.416 over runs of both strategies, as
    # far apart as half the learning rate moves it (0.393).
    assert max(mirrored["loss"], default["loss"]) < np.log(2)
