"""The shipped default: a trained face CNN that reaches its stated accuracy, and its run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inspector import Inspector
from inspector.engine.model_loading import load_model
from inspector.recording.run_directory import load_run
from models import default_model_path, default_run_path
from models.datasets.bundled_data import bundled_face_data
from models.default_model import DEFAULT_DIR
from models.evaluation.detector import held_out_report, unseen_false_positive_rate
from models.face_cnn import FACE_LABELS
from models.training.loop import held_out_accuracy
from models.training.make_default import INFO_FILE, REQUIRED_ACCURACY


def stated() -> dict:
    return json.loads((DEFAULT_DIR / INFO_FILE).read_text())


def test_the_shipped_model_reaches_its_stated_held_out_accuracy():
    model = load_model(default_model_path())
    assert model.class_names == FACE_LABELS
    # The held-out split is rebuilt from the data alone, not from the run.
    accuracy = held_out_accuracy(model, bundled_face_data().held_out)
    # Equal up to one image: another CPU's kernels may move a borderline score.
    assert accuracy == pytest.approx(stated()["held_out_accuracy"], abs=1.01 / 650)


def test_the_stated_figures_by_kind_and_calibration_are_rebuilt_from_data_alone():
    model = load_model(default_model_path())
    report = held_out_report(model, bundled_face_data())
    claimed = stated()["held_out"]
    assert report["faces"] == pytest.approx(claimed["faces"], abs=1.01 / 125)
    assert report["non_faces"] == pytest.approx(claimed["non_faces"], abs=1.01 / 525)
    assert report["ece"] == pytest.approx(claimed["ece"], abs=2e-3)
    assert report["by_person"] == pytest.approx(claimed["by_person"], abs=0.101)
    assert report["faces"] >= REQUIRED_ACCURACY and report["non_faces"] >= REQUIRED_ACCURACY
    assert report["face_count"] == 125 and report["non_face_count"] == 525
    # No face-free held-out crop is called a near-certain face.
    assert report["negative_probability"]["max"] < 0.999


def test_the_stated_false_positive_rate_on_unseen_scenes():
    unseen = unseen_false_positive_rate(load_model(default_model_path()))
    claimed = stated()["unseen_face_free"]
    assert unseen["count"] == claimed["count"] >= 30
    assert unseen["false_positive_rate"] == pytest.approx(claimed["false_positive_rate"], abs=0.006)
    assert unseen["false_positive_rate"] < 0.1


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
    assert run.history["val_accuracy"][-1] == pytest.approx(stated()["held_out_accuracy"], abs=1e-6)
    last = run.snapshot_steps[-1]
    for name in ("edges_conv1", "parts_conv2", "face_conv3", "face_probability"):
        np.testing.assert_array_equal(run.kernels_at(last, name), model.get_layer(name).kernel)
    assert run.probe_images.shape == (4, 64, 64, 1) and run.probe_images.dtype == np.uint8
    assert set(run.probe_activations_at(0)) == set(run.layer_names)


def test_model_and_run_are_small():
    files = [default_model_path(), *default_run_path().rglob("*")]
    total = sum(f.stat().st_size for f in files if f.is_file())
    # 64x64 probes: each snapshot holds 4 probes' activations (~0.45 MB compressed)
    # and the weights (~0.1 MB); 17 snapshots in 8 epochs come to about 10 MB.
    assert total < 12_000_000
    assert not (default_run_path() / "checkpoint.keras").exists()
