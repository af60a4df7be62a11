"""TrainingRecorder: the recorded numbers against independent computations."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from inspector import Inspector
from inspector.recording.recorder import TrainingRecorder, log_spaced_steps
from inspector.recording.run_directory import load_run


def logistic_data(count: int = 16, features: int = 3):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(count, features)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5][:features]) > 0).astype(np.float32)
    return x, y


def logistic_model(features: int = 3, learning_rate: float = 0.5) -> keras.Model:
    inputs = keras.Input((features,))
    outputs = keras.layers.Dense(1, activation="sigmoid", name="logistic")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(learning_rate), "binary_crossentropy")
    return model


def closed_form_gradient(w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray):
    """dJ/dw, dJ/db of the mean binary cross-entropy of sigmoid(xw + b): X^T(p - y)/m."""
    p = 1 / (1 + np.exp(-(x.astype(np.float64) @ w.astype(np.float64) + b)))
    error = p[:, 0] - y
    return x.T @ error / len(y), np.array([error.mean()])


def tiny_cnn() -> keras.Model:
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Rescaling(1 / 255, name="scale")(inputs)
    x = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="conv_a")(x)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv_b")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="out")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    return model


def cnn_data(count: int = 12):
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 255, size=(count, 8, 8, 1)).astype(np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.float32)
    return x, y


def test_gradient_and_update_norms_match_the_closed_form(tmp_path):
    # Full-batch plain SGD on logistic regression: the gradient is X^T(p - y)/m,
    # and each update is exactly -lr times the gradient at the previous weights.
    x, y = logistic_data()
    model = logistic_model(learning_rate=0.5)
    start = [w.copy() for w in model.get_weights()]
    recorder = TrainingRecorder(tmp_path, every_k_steps=1, gradient_batch=(x, y))
    model.fit(x, y, batch_size=len(x), epochs=4, shuffle=False, verbose=0, callbacks=[recorder])
    series = load_run(tmp_path).series("logistic")
    assert list(series.steps) == [1, 2, 3, 4]

    w, b = model.get_weights()
    grad_w, grad_b = closed_form_gradient(w, b, x, y)
    expected = np.sqrt(np.sum(grad_w**2) + np.sum(grad_b**2))
    np.testing.assert_allclose(series.grad_norm[-1], expected, rtol=1e-4)
    np.testing.assert_allclose(series.weight_norm[-1], np.sqrt(np.sum(w**2) + np.sum(b**2)), 1e-6)

    first_w, first_b = closed_form_gradient(*start, x, y)
    first_update = 0.5 * np.sqrt(np.sum(first_w**2) + np.sum(first_b**2))
    np.testing.assert_allclose(series.update_norm[0], first_update, rtol=1e-4)
    # ||dW_s|| = lr * ||dJ/dW(W_(s-1))||, and the recorder measured the latter at s-1.
    np.testing.assert_allclose(series.update_norm[1:], 0.5 * series.grad_norm[:-1], rtol=1e-4)
    np.testing.assert_allclose(series.update_ratio, series.update_norm / series.weight_norm)


def test_gradient_norms_match_a_direct_gradient_tape(tmp_path):
    x, y = cnn_data()
    model = tiny_cnn()
    recorder = TrainingRecorder(tmp_path, every_k_steps=3, probe_images=x[:4], probe_labels=y[:4])
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[recorder])
    run = load_run(tmp_path)
    assert run.layer_names == ("conv_a", "conv_b", "out")
    for name in run.layer_names:
        layer = model.get_layer(name)
        with tf.GradientTape() as tape:
            prediction = model(x[:4], training=False)
            loss = tf.reduce_mean(keras.losses.binary_crossentropy(y[:4, None], prediction))
        gradients = tape.gradient(loss, layer.trainable_weights)
        expected = np.sqrt(sum(float(tf.reduce_sum(g**2)) for g in gradients))
        series = run.series(name)
        assert series.steps[-1] == 6  # 3 batches x 2 epochs; recorded every 3 steps
        np.testing.assert_allclose(series.grad_norm[-1], expected, rtol=1e-4)


def test_snapshots_hold_kernels_and_probe_activations(tmp_path):
    x, y = cnn_data()
    model = tiny_cnn()
    records = []
    recorder = TrainingRecorder(
        tmp_path, probe_images=x[:2], probe_labels=y[:2], on_record=records.append
    )
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[recorder])
    run = load_run(tmp_path)
    # Default: 0, 1, 2, 5, ... through the first epoch (3 steps), then each epoch end.
    assert run.snapshot_steps == (0, 1, 2, 3, 6)
    np.testing.assert_array_equal(run.kernels_at(6, "conv_b"), model.get_layer("conv_b").kernel)
    assert run.weights_at(6, "out")["bias"].shape == (1,)
    inspection = Inspector(model).inspect(x[1])
    activations = run.probe_activations_at(6)
    assert set(activations) == {"conv_a", "conv_b", "out"}
    for name, stored in activations.items():
        assert stored.shape[0] == 2 and stored.dtype == np.float32
        np.testing.assert_allclose(stored[1], inspection.layer(name).activation, rtol=2e-3)
    np.testing.assert_array_equal(run.probe_images[..., 0], np.rint(x[:2, ..., 0]).astype(np.uint8))
    np.testing.assert_array_equal(run.probe_labels, y[:2])
    kinds = [r["kind"] for r in records]
    assert kinds[0] == "start" and kinds[-1] == "end" and kinds.count("epoch") == 2
    written = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert written == records  # on_record saw exactly what was written


def test_kernels_change_between_snapshots(tmp_path):
    x, y = cnn_data()
    model = tiny_cnn()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[TrainingRecorder(tmp_path)])
    run = load_run(tmp_path)
    before, after = run.kernels_at(0, "conv_a"), run.kernels_at(3, "conv_a")
    assert not np.allclose(before, after)
    assert run.series("conv_a").grad_norm.size and np.isnan(run.series("conv_a").grad_norm).all()


def test_history_matches_keras_history(tmp_path):
    x, y = cnn_data()
    model = tiny_cnn()
    history = model.fit(
        x,
        y,
        batch_size=4,
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[TrainingRecorder(tmp_path)],
    )
    run = load_run(tmp_path)
    assert set(run.history) == set(history.history)
    for metric, values in history.history.items():
        np.testing.assert_allclose(run.history[metric], values, rtol=1e-6)
    assert run.epoch_steps == (3, 6, 9)  # 9 training images: batches of 4, 4, 1
    assert run.finished


def test_stop_training_mid_epoch_marks_the_epoch_incomplete(tmp_path):
    class StopAtStep2(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    x, y = cnn_data()
    model = tiny_cnn()
    model.fit(
        x,
        y,
        batch_size=4,
        epochs=3,
        verbose=0,
        callbacks=[TrainingRecorder(tmp_path), StopAtStep2()],
    )
    lines = (tmp_path / "records.jsonl").read_text().splitlines()
    epochs = [json.loads(line) for line in lines if '"kind":"epoch"' in line]
    assert [(e["step"], e["complete"]) for e in epochs] == [(2, False)]


def test_nested_model_layers_are_named_outer_inner(tmp_path):
    inner_in = keras.Input((8, 8, 1))
    inner_out = keras.layers.Conv2D(2, 3, activation="relu", name="conv")(inner_in)
    backbone = keras.Model(inner_in, inner_out, name="backbone")
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.GlobalAveragePooling2D()(backbone(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="head")(x))
    model.compile("adam", "binary_crossentropy")
    x_data, y_data = cnn_data()
    recorder = TrainingRecorder(tmp_path, probe_images=x_data[:2], probe_labels=y_data[:2])
    model.fit(x_data, y_data, batch_size=6, epochs=1, verbose=0, callbacks=[recorder])
    run = load_run(tmp_path)
    assert run.layer_names == ("backbone/conv", "head")
    assert run.probe_activations_at(2)["backbone/conv"].shape == (2, 6, 6, 2)
    assert run.kernels_at(2, "backbone/conv").shape == (3, 3, 1, 2)


def test_subclassed_model_records_stats_without_activations(tmp_path):
    class Small(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1, activation="sigmoid", name="dense")

        def call(self, x):
            return self.dense(x)

    model = Small()
    model.compile("sgd", "binary_crossentropy")
    x, y = logistic_data()
    recorder = TrainingRecorder(tmp_path, probe_images=x[:2], probe_labels=y[:2], every_k_steps=1)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[recorder])
    run = load_run(tmp_path)
    assert run.layer_names == ("dense",)
    assert np.isfinite(run.series("dense").grad_norm).all()
    assert run.probe_activations_at(2) == {}
    assert run.kernels_at(2, "dense").shape == (3, 1)


def test_tensorboard_histograms_of_weights_and_gradients(tmp_path):
    x, y = cnn_data()
    model = tiny_cnn()
    recorder = TrainingRecorder(
        tmp_path, every_k_steps=3, probe_images=x[:4], probe_labels=y[:4], tensorboard=True
    )
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[recorder])
    histograms: dict[str, np.ndarray] = {}
    for event_file in (tmp_path / "tensorboard").iterdir():
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "histograms":
                    histograms[value.tag] = tf.make_ndarray(value.tensor)
    assert "weights/conv_a/kernel" in histograms and "gradients/conv_a/kernel" in histograms
    buckets = histograms["weights/conv_a/kernel"]
    assert buckets.shape[1] == 3 and buckets[:, 2].sum() == 3 * 3 * 1 * 3
    kernel = model.get_layer("conv_a").kernel.numpy()
    assert buckets[0, 0] == pytest.approx(kernel.min()) and buckets[-1, 1] == pytest.approx(
        kernel.max()
    )


def test_continuing_in_the_same_directory_appends(tmp_path):
    x, y = cnn_data()
    model = tiny_cnn()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[TrainingRecorder(tmp_path)])
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[TrainingRecorder(tmp_path)])
    run = load_run(tmp_path)
    assert run.epoch_steps == (3, 6)
    # k=10 is never reached; the early snapshot steps 1 and 2 get statistics too.
    assert run.series("out").steps.tolist() == [1, 2]
    assert run.snapshot_steps == (0, 1, 2, 3, 6)


def test_log_spaced_steps():
    assert log_spaced_steps(100) == (0, 1, 2, 5, 10, 20, 50, 100)
    assert log_spaced_steps(7) == (0, 1, 2, 5)


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="every_k_steps"):
        TrainingRecorder(tmp_path, every_k_steps=0)
