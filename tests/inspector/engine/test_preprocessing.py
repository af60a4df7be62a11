"""Preprocessing presets against Keras's own preprocess_input, and how auto picks one."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from PIL import Image

from inspector import load_image
from inspector.engine.errors import PreprocessingError
from inspector.engine.model_loading import load_model, save_model
from inspector.engine.preprocessing import (
    PRESETS,
    black_value,
    decide_preprocessing,
    family_of,
    from_model_input,
    grey_value,
    to_model_input,
)
from tests.inspector import model_zoo

apps = keras.applications


def raw_pixels(shape=(5, 4, 3)) -> np.ndarray:
    """Raw 8-bit values with distinct channels, so an RGB/BGR swap shows."""
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, shape).astype(np.float32)


# Keras's own function of the family that uses each preset.
KERAS_FUNCTIONS = {
    "tf": apps.mobilenet_v2.preprocess_input,
    "caffe": apps.vgg16.preprocess_input,
    "torch": apps.densenet.preprocess_input,
    "0-255": apps.efficientnet.preprocess_input,
}


@pytest.mark.parametrize("preset", sorted(KERAS_FUNCTIONS))
def test_presets_equal_keras_preprocess_input(preset):
    raw = raw_pixels()
    expected = KERAS_FUNCTIONS[preset](raw.copy())
    np.testing.assert_allclose(to_model_input(raw, preset), expected, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("preset", ["none", "tf", "torch", "caffe", "0-1", "0-255", "-2,3"])
def test_from_model_input_inverts_every_preset(preset):
    raw = raw_pixels()
    back = from_model_input(to_model_input(raw, preset), preset)
    np.testing.assert_allclose(back, raw, atol=1e-3)


def test_black_and_grey_are_raw_0_and_127_5_after_the_preset():
    np.testing.assert_allclose(black_value("tf", 3), [-1.0, -1.0, -1.0])
    np.testing.assert_allclose(black_value("caffe", 3), [-103.939, -116.779, -123.68])
    np.testing.assert_allclose(
        black_value("torch", 3), [-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225], rtol=1e-6
    )
    np.testing.assert_allclose(black_value("0-1", 1), [0.0])
    np.testing.assert_allclose(grey_value("tf", 1), [0.0])
    np.testing.assert_allclose(black_value("-5,5", 2), [-5.0, -5.0])


def test_bad_presets_are_refused_with_the_valid_names():
    with pytest.raises(
        PreprocessingError, match=r"among auto, none, tf.*Received: preprocess='bgr'"
    ):
        to_model_input(raw_pixels(), "bgr")
    with pytest.raises(PreprocessingError, match=r"RGB model input \(3 channels\).*Received: 1"):
        to_model_input(raw_pixels((2, 2, 1)), "caffe")
    with pytest.raises(PreprocessingError, match="decide_preprocessing first"):
        to_model_input(raw_pixels(), "auto")
    assert PRESETS[0] == "auto"


def test_auto_falls_back_to_a_guess_that_says_it_is_one():
    rescaled = decide_preprocessing(model_zoo.transfer_functional())  # Rescaling first
    assert (rescaled.preset, rescaled.source) == ("0-255", "default") and rescaled.guessed
    assert decide_preprocessing(model_zoo.with_normalization()).preset == "0-255"
    plain = decide_preprocessing(model_zoo.sequential_from_list())
    assert (plain.preset, plain.source) == ("0-1", "default")
    assert plain.words().startswith("0-1 (a guess: no scaling layer")
    assert plain.record() == {"preprocess": "0-1", "preprocess_source": "default"}
    chosen = decide_preprocessing(model_zoo.sequential_from_list(), "caffe")
    assert (chosen.preset, chosen.source, chosen.guessed) == ("caffe", "user", False)
    ranged = decide_preprocessing(None, "tf", value_range=(-2.0, 2.0))  # the range wins
    assert (ranged.preset, ranged.source) == ("-2,2", "user")
    with pytest.raises(PreprocessingError, match="Received: preprocess='bgr'"):
        decide_preprocessing(None, "bgr")


def test_bounds_are_raw_0_and_255_per_channel():
    low, high = decide_preprocessing(None, "caffe").bounds(3)
    np.testing.assert_allclose(low, -np.array([103.939, 116.779, 123.68]), rtol=1e-6)
    np.testing.assert_allclose(high, 255 - np.array([103.939, 116.779, 123.68]), rtol=1e-6)
    low, high = decide_preprocessing(None, "tf").bounds(1)
    assert (float(low[0]), float(high[0])) == (-1.0, 1.0)


SMALL = {"weights": None, "input_shape": (32, 32, 3)}
SMALL_FAMILIES = [
    (lambda: apps.MobileNetV2(alpha=0.35, **SMALL), "tf"),
    (lambda: apps.VGG16(include_top=False, **SMALL), "caffe"),
    (lambda: apps.DenseNet121(include_top=False, **SMALL), "torch"),
    (
        lambda: apps.EfficientNetB0(include_top=False, **SMALL),
        "0-255",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("build, preset", SMALL_FAMILIES)
def test_auto_recognises_families_by_name_by_layers_and_nested(build, preset):
    base = build()
    found = decide_preprocessing(base)
    assert (found.preset, found.source) == (preset, "model_name")
    # Renamed (a model rebuilt from the backbone's own layers): its layer names tell;
    # EfficientNet has none of its own, but rescales inside: 0-255, said as a guess.
    renamed = keras.Model(base.inputs, base.outputs, name="my_model")
    found = decide_preprocessing(renamed)
    expected = "default" if preset == "0-255" else "layer_names"
    assert (found.preset, found.source) == (preset, expected)
    # Nested in a transfer model: the backbone's name, a layer of the outer model, tells.
    transfer = keras.Sequential([keras.Input((32, 32, 3)), base, keras.layers.Flatten()])
    found = decide_preprocessing(transfer)
    assert (found.preset, found.source) == (preset, "layer_names")


def test_a_scaling_layer_before_a_nested_backbone_wins():
    base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3)], name="vgg16")
    assert family_of(base) == ("VGG", "caffe")
    scaled = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Rescaling(1 / 127.5, offset=-1), base]
    )
    assert family_of(scaled) is None and decide_preprocessing(scaled).preset == "0-255"


def test_sidecar_preset_is_honoured_and_load_image_records_it(tmp_path):
    model = model_zoo.backbone()  # 12x12x3, no scaling layer: 0..1 by the old rule
    path = tmp_path / "net.keras"
    save_model(model, path, None)
    (tmp_path / "net.labels.json").write_text(json.dumps({"preprocess": "caffe"}))
    loaded = load_model(path)
    stored = decide_preprocessing(loaded)
    assert (stored.preset, stored.source) == ("caffe", "sidecar")
    picture = raw_pixels((12, 12, 3)).astype(np.uint8)
    Image.fromarray(picture).save(tmp_path / "p.png")
    prepared = load_image(tmp_path / "p.png", loaded)
    assert (
        prepared.preset == "caffe"
        and "preprocess caffe (stored with the model)" in prepared.steps[-1]
    )
    assert prepared.preprocess.source == "sidecar"
    np.testing.assert_allclose(
        prepared.pixels, apps.vgg16.preprocess_input(picture.astype(np.float32)), atol=1e-4
    )
    chosen = load_image(tmp_path / "p.png", loaded, preprocess="tf")
    np.testing.assert_allclose(chosen.pixels, picture / 127.5 - 1.0, atol=1e-5)
