"""Class names from the files users have, and the bundled ImageNet names."""

from __future__ import annotations

import json

import keras
import pytest

from inspector import Inspector
from inspector.engine.errors import LabelsError
from inspector.engine.labels import imagenet_labels, load_labels
from inspector.engine.model_loading import load_model, read_sidecar, save_model
from tests.inspector import model_zoo


def test_text_file_one_name_per_line(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("cat\n  dog \n\nowl\n")
    assert load_labels(path) == ("cat", "dog", "owl")


@pytest.mark.parametrize(
    "content",
    [
        ["cat", "dog"],
        {"1": "dog", "0": "cat"},
        {"0": ["n02123045", "cat"], "1": ["n02084071", "dog"]},  # Keras's class index form
        {"labels": ["cat", "dog"], "preprocess": "tf"},  # the sidecar form
    ],
)
def test_json_list_object_keras_index_and_sidecar_forms(tmp_path, content):
    path = tmp_path / "names.json"
    path.write_text(json.dumps(content))
    assert load_labels(path) == ("cat", "dog")


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("gap.json", '{"0": "a", "2": "c"}', r"keyed by class index 0\.\.n-1"),
        ("bad.json", "{not json", "not valid JSON"),
        ("empty.txt", "\n\n", "holds none"),
        ("nested.json", '[{"a": 1}]', "each class name to be a string"),
    ],
)
def test_bad_label_files_are_refused(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(LabelsError, match=message):
        load_labels(path)
    with pytest.raises(LabelsError, match="Expected a readable labels file"):
        load_labels(tmp_path / "missing.txt")


def test_bundled_imagenet_names_are_the_standard_order():
    names = imagenet_labels()
    assert len(names) == 1000
    assert (names[0], names[1], names[281], names[999]) == (
        "tench",
        "goldfish",
        "tabby cat",
        "toilet paper",
    )


def test_sidecar_object_carries_labels_and_preprocess(tmp_path):
    path = tmp_path / "net.keras"
    save_model(model_zoo.functional_with_branches(), path, None)
    sidecar = {"labels": ["left", "right"], "preprocess": "torch"}
    (tmp_path / "net.labels.json").write_text(json.dumps(sidecar))
    assert read_sidecar(path) == {"labels": ("left", "right"), "preprocess": "torch"}
    model = load_model(path)
    assert model.class_names == ("left", "right") and model.preprocess_preset == "torch"


@pytest.mark.slow
def test_imagenet_names_for_a_1000_class_applications_model():
    model = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), alpha=0.35)
    inspection = Inspector(model).inspect(model_zoo.image_for(model, -1.0, 1.0))
    assert inspection.labels == imagenet_labels()
    assert inspection.target_label == imagenet_labels()[inspection.target]
