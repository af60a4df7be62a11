"""A tiny training run, recorded by the real ``TrainingRecorder``, for the training GUI tests.

``tiny_train`` has ``train_face_model``'s calling convention, so it can stand in
for it in ``gui.training.job.run_training`` (in process or in the training child
process, as ``"tests.gui.tiny_runs:tiny_train"``). It trains a three-layer conv
net on 48 random 12x12 RGB images whose label is "is the red channel brighter
than the green one", which the net learns within a few steps.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from inspector.recording.recorder import TrainingRecorder

LAYERS = ("rgb_conv", "second_conv", "score")


def tiny_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """48 images float32 (48, 12, 12, 3) in [0, 1] and labels float32 (48,) in {0, 1}."""
    rng = np.random.default_rng(seed)
    images = rng.random((48, 12, 12, 3), dtype=np.float32)
    labels = images[..., 0].mean(axis=(1, 2)) > images[..., 1].mean(axis=(1, 2))
    return images, labels.astype(np.float32)


def tiny_model() -> keras.Model:
    """RGB conv (3x3x3x4) -> conv (3x3x4x6) -> global average -> sigmoid unit."""
    inputs = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name=LAYERS[0])(inputs)
    x = keras.layers.Conv2D(6, 3, activation="relu", name=LAYERS[1])(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name=LAYERS[2])(x)
    model = keras.Model(inputs, outputs, name="tiny")
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    return model


def tiny_train(
    *,
    run_dir,
    data_dir=None,
    epochs: int = 2,
    seed: int = 0,
    extra_callbacks=(),
    verbose: int = 0,
) -> keras.Model:
    """Train the tiny net with the recorder (every step) into ``run_dir``.

    ``data_dir`` is ignored; 3 steps per epoch (batch 12, 36 training images).
    """
    keras.utils.set_random_seed(seed)
    images, labels = tiny_data(seed)
    model = tiny_model()
    recorder = TrainingRecorder(
        Path(run_dir), every_k_steps=1, probe_images=images[:2], probe_labels=labels[:2]
    )
    model.fit(
        images[:36],
        labels[:36],
        validation_data=(images[36:], labels[36:]),
        batch_size=12,
        epochs=epochs,
        callbacks=[recorder, *extra_callbacks],
        verbose=verbose,
    )
    return model
