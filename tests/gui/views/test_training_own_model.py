"""Training the model the app has open: the plan, its refusals, a recorded run, the tab."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from gui.views.training.tab import OPEN_MODEL, TrainingTab
from inspector.engine.errors import DatasetError, InspectorError
from inspector.engine.model_loading import load_model, save_model
from inspector.recording.run_directory import load_run
from models.training.fine_tuning import (
    DEFAULT_LEARNING_RATE,
    saved_loss,
    train_loaded_model,
    training_plan,
)
from tests.gui.conftest import LABELS, SIZE, write_image

PROCESS_MS = 240_000


def _head(units: int, activation: str | None) -> keras.Model:
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(2, 3, name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(units, activation=activation)(x))


@pytest.fixture(scope="module")
def class_folder(tmp_path_factory):
    """Three class subfolders of eight small pictures each (the tiny model's classes)."""
    root = tmp_path_factory.mktemp("classes")
    for index, name in enumerate(LABELS):
        (root / name).mkdir()
        for k in range(8):
            write_image(root / name / f"{k}.png", 30, 30, seed=100 * index + k)
    return root


@pytest.mark.parametrize(
    ("units", "activation", "loss"),
    [
        (1, "sigmoid", "binary_crossentropy"),
        (1, None, "binary_crossentropy (from logits)"),
        (4, "softmax", "sparse_categorical_crossentropy"),
        (4, None, "sparse_categorical_crossentropy (from logits)"),
    ],
)
def test_the_output_layer_decides_the_default_loss(units, activation, loss):
    plan = training_plan(_head(units, activation))
    assert (plan.loss, plan.own_settings, plan.classes()) == (loss, False, max(units, 2))
    assert (plan.input_size, plan.channels) == (SIZE, 3)
    assert f"{DEFAULT_LEARNING_RATE:g}" in plan.describe()


def test_models_that_cannot_be_trained_say_why():
    frozen = _head(2, "softmax")
    frozen.trainable = False
    with pytest.raises(InspectorError, match="trainable weights"):
        training_plan(frozen)
    with pytest.raises(InspectorError, match="class output"):
        training_plan(_head(3, "relu"))
    a, b = keras.Input((SIZE, SIZE, 3)), keras.Input((4,))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3)(a))
    joined = keras.layers.Concatenate()([pooled, b])
    with pytest.raises(InspectorError, match="2 input"):
        training_plan(keras.Model([a, b], keras.layers.Dense(2, activation="softmax")(joined)))
    wide_input = keras.Input((SIZE, SIZE * 2, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3)(wide_input))
    wide = keras.Model(wide_input, keras.layers.Dense(2, activation="softmax")(pooled))
    with pytest.raises(InspectorError, match="square image input"):
        training_plan(wide)


def test_a_saved_compile_setting_is_read_without_running_code(tmp_path):
    model = _head(2, "softmax")
    model.compile("sgd", "categorical_crossentropy")
    model.save(tmp_path / "compiled.keras")
    _head(2, "softmax").save(tmp_path / "plain.keras")
    assert saved_loss(tmp_path / "compiled.keras") == "categorical_crossentropy"
    assert saved_loss(tmp_path / "plain.keras") is None
    plan = training_plan(model, tmp_path / "compiled.keras")
    assert plan.own_settings and "own compile settings" in plan.describe()


def test_the_open_model_trains_on_a_class_folder_and_the_run_loads(
    tmp_path, tiny_model_path, class_folder
):
    before = load_model(tiny_model_path).get_layer("parts").get_weights()[0]
    run_dir = tmp_path / "run"
    trained = train_loaded_model(
        model_path=tiny_model_path, run_dir=run_dir, data_dir=class_folder, epochs=2, seed=1
    )
    run = load_run(run_dir)
    assert {"edges", "parts", "classes"} <= set(run.layer_names)
    assert run.config["class_names"] == list(LABELS)
    assert run.config["loss"] == "sparse_categorical_crossentropy"
    assert len(run.snapshot_steps) >= 2
    after = trained.get_layer("parts").get_weights()[0]
    assert not np.allclose(before, after)  # it learned: the weights moved
    saved = load_model(run_dir / "model.keras")
    np.testing.assert_allclose(saved.get_layer("parts").get_weights()[0], after)
    assert json.loads((run_dir / "config.json").read_text())["model"].endswith("tiny.keras")


def test_data_that_does_not_fit_the_model_is_refused(tmp_path, tiny_model_path, class_folder):
    two = tmp_path / "two"
    for name in LABELS[:2]:
        (two / name).mkdir(parents=True)
        for k in range(4):
            write_image(two / name / f"{k}.png", 30, 30, seed=k)
    with pytest.raises(DatasetError, match="Expected 3 class subfolders"):
        train_loaded_model(model_path=tiny_model_path, run_dir=tmp_path / "r", data_dir=two)
    with pytest.raises(DatasetError, match="one subfolder per class"):
        train_loaded_model(model_path=tiny_model_path, run_dir=tmp_path / "r", data_dir=None)


def test_a_labelled_two_class_model_file_round_trips(tmp_path):
    path = tmp_path / "binary.keras"
    save_model(_head(1, "sigmoid"), path, ("no", "yes"))
    assert training_plan(load_model(path), path).classes() == 2


@pytest.mark.slow  # spawns the training process (its own TensorFlow import)
def test_the_tab_trains_the_open_model_in_its_process(
    qtbot, tmp_path, tiny_model_path, class_folder
):
    tab = TrainingTab(runs_root=tmp_path / "runs")
    qtbot.addWidget(tab)
    try:
        tab.set_open_model(
            tiny_model_path, plan=training_plan(load_model(tiny_model_path)).describe()
        )
        tab.model_combo.setCurrentIndex(OPEN_MODEL)
        assert not tab.bundled_button.isEnabled()
        tab.set_data_dir(class_folder)
        tab.epochs_spin.setValue(1)
        with qtbot.waitSignal(tab.training_finished, timeout=PROCESS_MS) as done:
            assert tab.start()
        outcome = done.args[0]
        assert not outcome.cancelled and outcome.epochs_done == 1
        assert load_run(outcome.run_dir).config["model"].endswith("tiny.keras")
        assert tab.ratio_curves.names  # the update ratios were drawn live
    finally:
        assert tab.stop(60_000)


def test_folders_named_like_the_model_classes_keep_the_model_order():
    from models.training.fine_tuning import _class_order

    names, order = _class_order(("car", "cat", "face"), ("face", "cat", "car"))
    assert names == ("face", "cat", "car")
    assert [names[i] for i in order] == ["car", "cat", "face"]  # folder i -> its own output
    names, order = _class_order(("a", "b"), ("face", "cat"))
    assert names == ("a", "b") and list(order) == [0, 1]
