"""The bundled face recogniser: the detector's network with a 40-person head, its
fixed split, its ship bar and its "unknown person" threshold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from inspector.engine.extraction import Inspector
from inspector.engine.model_loading import load_model
from inspector.recording.run_directory import load_run
from models.datasets.recognizer_data import (
    HELD_OUT_PER_PERSON,
    RECOGNIZER_LABELS,
    held_out_photos,
    lfw_unknown_faces,
    recognizer_data,
)
from models.default_model import (
    RECOGNIZER_DIR,
    bundled_models,
    default_model_path,
    recognizer_model_path,
    recognizer_run_path,
)
from models.evaluation.recognizer import (
    REQUIRED_ACCURACY,
    recognizer_report,
    unknown_threshold,
    wilson_interval,
)
from models.face_cnn import build_face_cnn
from models.settings import MODEL_NAMES
from models.training.loop import _load_data, _new_model


def stated() -> dict:
    return json.loads((RECOGNIZER_DIR / "face_recognizer.json").read_text())


@pytest.fixture(scope="module")
def recognizer():
    return load_model(recognizer_model_path())


def test_the_recogniser_is_the_detector_network_up_to_the_head(recognizer):
    detector = load_model(default_model_path())
    names = [layer.name for layer in recognizer.layers]
    assert names[:-1] == [layer.name for layer in detector.layers][:-1]
    for mine, theirs in zip(recognizer.layers[:-1], detector.layers[:-1], strict=True):
        assert mine.output.shape == theirs.output.shape, mine.name
    # The head: 40 people, a softmax; the same training code builds both networks.
    assert recognizer.output.shape == (None, 40) and recognizer.class_names == RECOGNIZER_LABELS
    built = _new_model(recognizer_data(), {"input_size": 64, "task": "recognizer", **SCHEDULE})
    assert [layer.name for layer in built.layers] == names
    assert built.name == recognizer.name == MODEL_NAMES["recognizer"] != detector.name
    assert build_face_cnn(RECOGNIZER_LABELS).count_params() == recognizer.count_params()


SCHEDULE = {
    "schedule_epochs": 1,
    "train_count": 10,
    "batch_size": 32,
    "repeats": 1,
    "learning_rate": 0.003,
}


def test_the_split_holds_out_the_same_two_photos_per_person_for_any_seed():
    held = held_out_photos()
    data = recognizer_data()
    assert held.sum() == 40 * HELD_OUT_PER_PERSON
    counts = np.bincount(data.held_out.labels, minlength=40)
    assert np.all(counts == HELD_OUT_PER_PERSON)
    # The training seed does not enter the split: the data a seed-1 and a seed-7 run
    # load hold out the very same photos.
    first = _load_data({"task": "recognizer", "input_size": 64, "seed": 1, "data": None})
    second = _load_data({"task": "recognizer", "input_size": 64, "seed": 7, "data": None})
    assert first.held_out_groups == second.held_out_groups == data.held_out_groups
    np.testing.assert_array_equal(first.held_out.images, second.held_out.images)
    # 8 photos per person train (each as FACE_COPIES jittered crops), none held out.
    train_counts = np.bincount(data.train.labels, minlength=40)
    assert np.all(train_counts == train_counts[0]) and train_counts[0] % 8 == 0
    assert not np.array_equal(held_out_photos(seed=1), held)  # the seed is what fixes it


def test_the_shipped_recogniser_reaches_its_stated_figures(recognizer):
    report = recognizer_report(recognizer)
    claimed = stated()
    assert report["held_out_accuracy"] == pytest.approx(claimed["held_out_accuracy"], abs=1e-9)
    assert claimed["held_out_accuracy"] >= REQUIRED_ACCURACY == claimed["required_accuracy"]
    assert report["unknown"]["threshold"] == pytest.approx(claimed["unknown"]["threshold"])
    assert recognizer.unknown_below == pytest.approx(claimed["unknown"]["threshold"])
    run = load_run(recognizer_run_path())
    assert run.finished and run.config["task"] == "recognizer"
    assert run.history["val_accuracy"][-1] == pytest.approx(claimed["held_out_accuracy"])
    # The run that made the model: its last snapshot holds the shipped weights.
    last = run.snapshot_steps[-1]
    assert last == run.epoch_steps[-1]
    for name in ("edges_conv1", "face_conv3", "class_probabilities"):
        np.testing.assert_array_equal(run.kernels_at(last, name), recognizer.get_layer(name).kernel)


def test_the_shipped_run_is_thinned_consistently_and_small():
    run = load_run(recognizer_run_path())
    ends = run.epoch_steps
    early = [s for s in run.snapshot_steps if s < ends[0]]
    assert early == [0, 1, 2, 5, 10, 20, 50]  # the first epoch, where most changes, in full
    assert [s for s in run.snapshot_steps if s >= ends[0]] == [ends[0], *ends[4::5]]
    on_disk = sorted((recognizer_run_path() / "snapshots").glob("*.npz"))
    assert len(on_disk) == len(run.snapshot_steps)  # no record without its file, nor the reverse
    files = [recognizer_model_path(), *recognizer_run_path().rglob("*")]
    assert sum(f.stat().st_size for f in files if f.is_file()) < 12_000_000


def test_the_equal_error_threshold_and_the_interval():
    known = np.array([0.99, 0.98, 0.97, 0.6])
    strangers = np.array([0.5, 0.4, 0.95, 0.3])
    # At 0.97: one stranger of four accepted (0.95 < 0.97 is not), one known rejected.
    threshold = unknown_threshold(known, strangers)
    assert np.mean(strangers >= threshold) == np.mean(known < threshold) == 0.25
    low, high = wilson_interval(77, 80)
    assert low < 77 / 80 < high and 0.89 < low < 0.90 and 0.98 < high < 0.99


def test_an_lfw_face_is_unknown_and_a_held_out_photo_is_named(recognizer):
    inspector = Inspector(recognizer)
    strangers = lfw_unknown_faces()
    probabilities = recognizer.predict(strangers.astype(np.float32), verbose=0)
    below = np.flatnonzero(probabilities.max(axis=1) < recognizer.unknown_below)
    assert len(below) >= 0.6 * len(strangers)  # the EER point catches most strangers
    unknown = inspector.inspect(strangers[below[0]].astype(np.float32))
    assert unknown.unknown and unknown.unknown_below == recognizer.unknown_below
    data = recognizer_data()
    # A held-out photo the shipped model gets right, above its bar (99.99 %).
    photo = data.held_out_groups.index("person_02/photo_7")
    image = data.held_out.images[photo].astype(np.float32)
    expected = float(recognizer.predict(image[None], verbose=0)[0].max())  # Keras' own answer
    named = inspector.inspect(image)
    assert named.predicted_label == data.held_out_groups[photo].split("/")[0]
    assert float(named.probabilities[named.predicted]) == pytest.approx(expected, abs=1e-6)
    assert expected >= recognizer.unknown_below and not named.unknown


def test_a_model_without_a_threshold_never_says_unknown():
    inspection = Inspector(load_model(default_model_path())).inspect(
        lfw_unknown_faces()[0].astype(np.float32)
    )
    assert inspection.unknown_below is None and not inspection.unknown


@pytest.mark.slow
def test_the_ship_bar_refuses_a_recogniser_below_it(tmp_path, capsys):
    from models.training.make_default import ship_recognizer

    destination = tmp_path / "recognizer"
    # One epoch of 40 people is far under the bar: nothing may be shipped.
    assert ship_recognizer(["--epochs", "1"], destination=destination) == 1
    assert "Not shipped" in capsys.readouterr().out
    assert not destination.exists()


def test_both_bundled_networks_are_listed_the_detector_first():
    models = bundled_models()
    assert list(models) == ["detector", "recognizer"]
    assert models["detector"] == default_model_path() and all(p.is_file() for p in models.values())
