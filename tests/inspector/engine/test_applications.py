"""keras.applications families through ``inspect`` (in-process), each with its preset.

``weights=None`` (no network) and each model's smallest allowed input, to keep CI
time down. The model is handed to the command in memory (building is the slow
part; one transfer model goes through a real ``.keras`` file). The input the
command fed the model is checked against the family's own ``preprocess_input``
on the same raw pixels.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from inspector import load_image
from inspector.engine.labels import imagenet_labels
from tests.inspector.cli.test_cli import run
from tests.inspector.export_fixtures import write_image

apps = keras.applications

# (builder, smallest input side, expected preset, the family's preprocess_input)
MATRIX = {
    "VGG16": (apps.VGG16, 32, "caffe", apps.vgg16.preprocess_input),
    "ResNet50": (apps.ResNet50, 32, "caffe", apps.resnet50.preprocess_input),
    "MobileNetV2": (apps.MobileNetV2, 32, "tf", apps.mobilenet_v2.preprocess_input),
    "EfficientNetB0": (apps.EfficientNetB0, 32, "0-255", apps.efficientnet.preprocess_input),
    "DenseNet121": (apps.DenseNet121, 32, "torch", apps.densenet.preprocess_input),
    "InceptionV3": (apps.InceptionV3, 75, "tf", apps.inception_v3.preprocess_input),
    "Xception": (apps.Xception, 71, "tf", apps.xception.preprocess_input),
    "ConvNeXtTiny": (apps.ConvNeXtTiny, 32, "0-255", apps.convnext.preprocess_input),
}


def inspect_in_memory(monkeypatch, model, image, out, extra=()) -> dict:
    """Run the ``inspect`` command on ``model`` as if it had been loaded from a file."""
    monkeypatch.setattr(
        "inspector.engine.model_loading.load_model", lambda path, unsafe=False: model
    )
    argv = [image, "--model", "in-memory.keras", "--methods", "saliency", "--crop", "none"]
    assert run([*argv, *extra, "--out", out]) == 0
    return json.loads((out / "summary.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MATRIX))
def test_family_through_inspect_with_its_preset(name, monkeypatch, tmp_path):
    build, side, preset, preprocess_input = MATRIX[name]
    model = build(weights=None, input_shape=(side, side, 3))
    image = write_image(tmp_path, size=(side + 9, side + 5))
    summary = inspect_in_memory(monkeypatch, model, image, tmp_path / "out")
    assert summary["preprocess"] == preset, summary["preprocessing"][-1]
    assert summary["labels"] == list(imagenet_labels())
    assert summary["predicted_label"] == imagenet_labels()[summary["predicted"]]
    assert summary["predicted"] == summary["target"]  # the same numbers decide both
    raw = load_image(image, model, preprocess="0-255").pixels
    with np.load(tmp_path / "out" / "activations.npz") as npz:
        fed = npz["input"].astype(np.float32)
    expected = preprocess_input(np.array(raw, np.float32))
    # activations.npz is float16 by default: ~3 significant digits.
    np.testing.assert_allclose(fed, expected, rtol=2e-3, atol=2e-3)


@pytest.mark.slow
def test_transfer_model_from_a_file_finds_its_nested_backbone(tmp_path):
    base = apps.MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3), alpha=0.35)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            base,
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(5, activation="softmax", name="head"),
        ],
        name="transfer",
    )
    path = tmp_path / "transfer.keras"
    model.save(path)
    image = write_image(tmp_path, size=(40, 36))
    out = tmp_path / "out"
    assert run([image, "--model", path, "--methods", "gradcam", "--out", out]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["preprocess"] == "tf"
    assert "keras.applications MobileNetV2" in summary["preprocessing"][-1]
    assert summary["labels"] == [f"class {i}" for i in range(5)]
    nested = [layer for layer in summary["layers"] if layer["name"].startswith(base.name + "/")]
    assert len(nested) == len(base.layers) - 1 and all(n["reaches_target"] for n in nested)
