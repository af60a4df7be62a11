"""The shipped default: a trained face CNN that reaches its stated accuracy, and its run."""

from __future__ import annotations

import json

import numpy as np

from inspector import Inspector
from inspector.engine.model_loading import load_model
from inspector.recording.run_directory import load_run
from models import default_model_path, default_run_path
from models.default_model import DEFAULT_DIR
from models.face_cnn import FACE_LABELS
from models.face_data import bundled_face_data
from models.make_default import INFO_FILE, REQUIRED_ACCURACY
from models.training import held_out_accuracy


def stated() -> dict:
    return json.loads((DEFAULT_DIR / INFO_FILE).read_text())


def test_the_shipped_model_reaches_its_stated_held_out_accuracy():
    model = load_model(default_model_path())
    assert model.class_names == FACE_LABELS
    # The held-out split is rebuilt from the data alone, not from the run.
    accuracy = held_out_accuracy(model, bundled_face_data().held_out)
    assert accuracy >= stated()["held_out_accuracy"] >= REQUIRED_ACCURACY


def test_the_engine_reads_face_from_the_sigmoid_unit():
    model = load_model(default_model_path())
    held_out = bundled_face_data().held_out
    face = int(np.flatnonzero(held_out.labels == 1)[0])
    inspection = Inspector(model).inspect(held_out.as_model_input()[face])
    assert inspection.labels == ("not_face", "face") and inspection.predicted_label == "face"


def test_the_shipped_run_is_the_run_that_made_the_model():
    run = load_run(default_run_path())
    model = load_model(default_model_path())
    assert run.finished and run.config["seed"] == stated()["seed"]
    assert run.config["class_names"] == list(FACE_LABELS)
    assert len(run.history["loss"]) == run.config["epochs"]
    assert run.history["val_accuracy"][-1] == stated()["held_out_accuracy"]
    last = run.snapshot_steps[-1]
    for name in ("edges_conv1", "face_conv2", "face_probability"):
        np.testing.assert_array_equal(run.kernels_at(last, name), model.get_layer(name).kernel)
    assert run.probe_images.shape == (4, 32, 32, 1) and run.probe_images.dtype == np.uint8
    assert set(run.probe_activations_at(0)) == set(run.layer_names)


def test_model_and_run_are_small():
    files = [default_model_path(), *default_run_path().rglob("*")]
    total = sum(f.stat().st_size for f in files if f.is_file())
    assert total < 4_000_000
    assert not (default_run_path() / "checkpoint.keras").exists()
