"""The face CNN's shape: named stages, growing receptive fields, raw-pixel input."""

from __future__ import annotations

import numpy as np
import pytest

from inspector import Inspector
from inspector.engine.preprocessing import decide_preprocessing
from models.face_cnn import (
    FACE_LABELS,
    build_face_cnn,
    face_layers_needed,
    loss_for,
    loss_function,
)


def conv_fields(model) -> dict[str, int]:
    size = model.inputs[0].shape[1]
    inspection = Inspector(model).inspect(np.zeros((size, size, 1), np.float32))
    return {
        record.name: record.receptive_field.size[0]
        for record in inspection.layers
        if record.class_name == "Conv2D"
    }


def test_stages_are_named_and_their_fields_grow_to_the_whole_face():
    model = build_face_cnn()
    fields = conv_fields(model)
    assert list(fields) == [
        "edges_conv1",
        "edges_conv2",
        "parts_conv1",
        "parts_conv2",
        "face_conv1",
        "face_conv2",
        "face_conv3",
    ]
    assert fields["edges_conv1"] == 3 and fields["edges_conv2"] == 5  # edges: a few pixels
    # An eye is 8-10 px of the 64: the parts layers see an eye and its surround.
    assert 8 <= fields["parts_conv1"] < fields["parts_conv2"] <= 30
    assert fields["face_conv3"] >= 64  # the last layer sees the whole 64x64 face
    assert fields["face_conv2"] < 64


@pytest.mark.parametrize("size", [16, 48, 64, 100])
def test_the_last_face_layer_covers_any_input_size(size):
    fields = conv_fields(build_face_cnn(input_size=size))
    face = [name for name in fields if name.startswith("face_conv")]
    assert len(face) == face_layers_needed(size)
    assert fields[face[-1]] >= size
    assert len(face) == 1 or fields[face[-2]] < size  # and no more layers than needed


def test_takes_raw_pixels_and_outputs_one_sigmoid_unit():
    model = build_face_cnn()
    assert model.inputs[0].shape[1:] == (64, 64, 1)
    assert decide_preprocessing(model).preset == "0-255"  # it rescales inside
    assert model.layers[-1].name == "face_probability"
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert model.outputs[0].shape[1:] == (1,)
    assert FACE_LABELS == ("not_face", "face") and loss_for(FACE_LABELS) == "binary_crossentropy"
    assert loss_function(FACE_LABELS).name == "binary_crossentropy"
    assert model.count_params() < 50_000  # small: ~70 KB of float32 weights


def test_several_classes_get_a_softmax():
    model = build_face_cnn(("ann", "bob", "cy"), input_size=32, channels=3)
    assert model.outputs[0].shape[1:] == (3,)
    assert model.layers[-1].activation.__name__ == "softmax"
    assert loss_for(("ann", "bob", "cy")) == "sparse_categorical_crossentropy"
    with pytest.raises(ValueError, match="at least two"):
        build_face_cnn(("only",))


def test_the_binary_loss_smooths_its_targets():
    # With targets 0.025 / 0.975 the loss is smallest at p = 0.975, not at p = 1.
    loss = loss_function(FACE_LABELS)
    truth = np.ones((1, 1), np.float32)
    at = {p: float(loss(truth, np.full((1, 1), p, np.float32))) for p in (0.9, 0.975, 0.9999)}
    assert at[0.975] < at[0.9] and at[0.975] < at[0.9999]
