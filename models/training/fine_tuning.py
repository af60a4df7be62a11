"""Train or fine-tune the model the app has open, on a class-per-folder dataset (Qt-free).

``train_loaded_model`` has ``train_face_model``'s calling convention plus
``model_path`` and ``unsafe``, so the training child process runs it exactly
like the face model's training (``gui.training.job.run_training``), with the same
recorder and the same choice of probe images (``face_data.pick_per_class``). The run is
recorded by ``TrainingRecorder`` into an ordinary run directory, so *Weight
updates* shows it like any other run.

The model keeps its own compile settings (loss, optimizer and its state) when
the file carries them. Otherwise ``training_plan`` picks the loss that the
output layer implies (Goodfellow, Bengio and Courville, *Deep Learning*, 2016,
section 6.2.2: a sigmoid unit pairs with binary cross-entropy, a softmax layer
with categorical cross-entropy, raw logits with the same losses on logits) and
Adam (Kingma and Ba, 2015) at ``DEFAULT_LEARNING_RATE``, small because the usual
case is fine-tuning weights that are already trained.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.recording.probe_choice import pick_per_class
from models.settings import PROBE_COUNT

OWN_TRAIN = "models.training.fine_tuning:train_loaded_model"
DEFAULT_LEARNING_RATE = 1e-4
DEFAULT_BATCH_SIZE = 16
GRADIENT_COUNT = 32
_LOSSES = {  # (units == 1, output activation) -> the loss that matches it
    (True, "sigmoid"): "binary_crossentropy",
    (True, "linear"): "binary_crossentropy (from logits)",
    (False, "softmax"): "sparse_categorical_crossentropy",
    (False, "linear"): "sparse_categorical_crossentropy (from logits)",
}


@dataclass(frozen=True)
class TrainingPlan:
    """How a model will be trained.

    Attributes:
        units: output units; 1 means two classes through one sigmoid/logit.
        input_size: the square input's side in pixels.
        channels: input channels (1 or 3).
        loss: the loss's name.
        own_settings: True if the file's own compile settings are used.
    """

    units: int
    input_size: int
    channels: int
    loss: str
    own_settings: bool

    def describe(self) -> str:
        """One line for the Training tab: how it trains, and the data it needs."""
        data = (
            f" Data: a folder with {self.classes()} class subfolders, one per output "
            f"({self.input_size}x{self.input_size} after a centre crop)."
        )
        if self.own_settings:
            return f"Fine-tunes with the model's own compile settings (loss {self.loss}).{data}"
        return (
            f"The file has no compile settings: trains with loss {self.loss} and Adam at "
            f"learning rate {DEFAULT_LEARNING_RATE:g}, batch {DEFAULT_BATCH_SIZE}.{data}"
        )

    def classes(self) -> int:
        """How many class subfolders the data must have."""
        return 2 if self.units == 1 else self.units


def saved_loss(path: Path) -> str | None:
    """The loss stored in a ``.keras`` file's compile settings, or None (read, not run)."""
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    loss = (config.get("compile_config") or {}).get("loss")
    if isinstance(loss, dict):
        loss = loss.get("config", {}).get("name") or loss.get("class_name")
    return str(loss) if loss else None


def training_plan(model, path: Path | None = None) -> TrainingPlan:
    """How ``model`` would be trained, or why it cannot be.

    Raises:
        InspectorError: no trainable weights, several inputs or outputs, an input
            that is not a square image, or an output the known losses do not fit.
    """
    from inspector.engine.errors import InspectorError

    name = getattr(model, "name", "the model")
    if not model.trainable_weights:
        raise InspectorError(
            f"Expected a model with trainable weights. Received: {name!r}, whose layers "
            "are all frozen (0 trainable weights)."
        )
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise InspectorError(
            "Expected one image input and one class output to train on. Received: "
            f"{len(model.inputs)} input(s) and {len(model.outputs)} output(s)."
        )
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 3 or shape[0] is None or shape[0] != shape[1] or shape[2] not in (1, 3):
        raise InspectorError(
            "Expected a square image input (H, W, 1 or 3) with H = W to train on class "
            f"folders. Received: input shape {shape}."
        )
    out = tuple(model.outputs[0].shape[1:])
    activation = _output_activation(model)
    loss = _LOSSES.get((len(out) == 1 and out[0] == 1, activation)) if len(out) == 1 else None
    if loss is None:
        raise InspectorError(
            "Expected a class output: one sigmoid or logit unit, or a softmax or logit "
            f"vector. Received: output shape {out} with activation {activation!r}."
        )
    own = saved_loss(Path(path)) if path is not None else None
    return TrainingPlan(int(out[0]), int(shape[0]), int(shape[2]), own or loss, own is not None)


def _output_activation(model) -> str:
    layer = model.layers[-1]
    activation = getattr(layer, "activation", None)
    name = getattr(activation, "__name__", None) or type(layer).__name__.lower()
    return {"Softmax".lower(): "softmax"}.get(name, name)


def _compile_default(model, plan: TrainingPlan) -> None:
    import keras

    from_logits = "logits" in plan.loss
    loss = (
        keras.losses.BinaryCrossentropy(from_logits=from_logits)
        if plan.units == 1
        else keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    )
    model.compile(keras.optimizers.Adam(DEFAULT_LEARNING_RATE), loss, metrics=["accuracy"])


def _load(model_path: Path, unsafe: bool):
    from inspector.engine.errors import ModelLoadError
    from inspector.engine.model_loading import load_model

    try:  # with its loss and optimizer state, to go on training where it left off
        return load_model(model_path, unsafe=unsafe, compile=True)
    except ModelLoadError:  # e.g. a custom loss that safe mode will not rebuild
        return load_model(model_path, unsafe=unsafe, compile=False)


def _targets(labels: np.ndarray, plan: TrainingPlan) -> np.ndarray:
    """Labels in the form the loss takes: 0/1 floats, indices, or one-hot rows."""
    if plan.units == 1:
        return labels.astype(np.float32)
    if "categorical" in plan.loss and "sparse" not in plan.loss:
        return np.eye(plan.units, dtype=np.float32)[labels]
    return labels.astype(np.int32)


def train_loaded_model(
    *,
    model_path: str | Path,
    run_dir: str | Path,
    data_dir: str | Path | None,
    epochs: int = 5,
    seed: int = 0,
    unsafe: bool = False,
    preprocess: str = "auto",
    extra_callbacks: Sequence = (),
    verbose: int = 0,
):
    """Train the model in ``model_path`` on a class-per-folder dataset, recorded.

    Args:
        model_path: the ``.keras``/``.h5`` file the app has open.
        run_dir: the new run directory (records, snapshots, ``model.keras`` at the end).
        data_dir: a folder with one subfolder per class, as many classes as the
            model has outputs (two for a single unit).
        epochs: epochs to train, at least 1.
        seed: seeds the weights' shuffling and Keras's randomness.
        unsafe: allow the file's Lambda layers (the user trusted it in the app).
        preprocess: the input preset (``inspector.engine.preprocessing``), as in the app.
        extra_callbacks: more Keras callbacks (the GUI's bridge).
        verbose: Keras ``fit`` verbosity.

    Returns:
        The trained model (also saved as ``run_dir/model.keras`` with its class names).

    Raises:
        InspectorError: no data folder, a model that cannot be trained, or data that
            does not fit it (DatasetError, ModelLoadError and friends).
    """
    import keras

    from inspector.engine.errors import DatasetError
    from inspector.engine.model_loading import save_model
    from inspector.engine.preprocessing import decide_preprocessing
    from inspector.recording.recorder import TrainingRecorder
    from models.datasets.folder_data import load_image_folder

    if data_dir is None:
        raise DatasetError(
            "Expected a folder with one subfolder per class to train the open model on. "
            "Received: none (the bundled faces only fit the face model); choose Folder…."
        )
    keras.utils.set_random_seed(int(seed))
    model = _load(Path(model_path), unsafe)
    plan = training_plan(model, Path(model_path))
    data = load_image_folder(data_dir, input_size=plan.input_size, channels=plan.channels)
    if len(data.class_names) != plan.classes():
        raise DatasetError(
            f"Expected {plan.classes()} class subfolders, one per output of the model. "
            f"Received: {len(data.class_names)} {list(data.class_names)} in {str(data_dir)!r}."
        )
    if not (getattr(model, "compiled", False) and plan.own_settings):
        _compile_default(model, plan)
    # The same preprocessing the app shows the model's images with (auto: its family's).
    chosen = decide_preprocessing(model, preprocess)

    def inputs(images: np.ndarray) -> np.ndarray:  # uint8 0..255 -> the model's input space
        return chosen.apply(images)

    names, order = _class_order(data.class_names, getattr(model, "class_names", None))
    train_labels, held_labels = order[data.train.labels], order[data.held_out.labels]
    train_x, train_y = inputs(data.train.images), _targets(train_labels, plan)
    held_x, held_y = inputs(data.held_out.images), _targets(held_labels, plan)
    probes = pick_per_class(held_labels, PROBE_COUNT)
    gradient = pick_per_class(train_labels, GRADIENT_COUNT)
    config = {
        "command": "layer-inspector app: train the open model",
        "model": str(Path(model_path).resolve()),
        "data": str(Path(data_dir).resolve()),
        "class_names": list(names),
        "train_count": len(data.train),
        "held_out_count": len(data.held_out),
        "skipped_count": len(data.skipped),
        "loss": plan.loss,
        "preprocessing": chosen.preset,
        "preprocess_source": chosen.source,
        "own_compile_settings": plan.own_settings,
        "batch_size": DEFAULT_BATCH_SIZE,
        "epochs": int(epochs),
        "seed": int(seed),
    }
    recorder = TrainingRecorder(
        Path(run_dir),
        probe_images=held_x[probes],
        probe_labels=held_y[probes],
        gradient_batch=(train_x[gradient], train_y[gradient]),
        config=config,
    )
    model.fit(
        train_x,
        train_y,
        batch_size=DEFAULT_BATCH_SIZE,
        epochs=int(epochs),
        validation_data=(held_x, held_y),
        callbacks=[recorder, *extra_callbacks],
        verbose=verbose,
    )
    save_model(model, Path(run_dir) / "model.keras", names, chosen.preset)
    return model


def _class_order(
    folder_names: tuple[str, ...], model_names: tuple[str, ...] | None
) -> tuple[tuple[str, ...], np.ndarray]:
    """The class names to train with, and folder index -> output index.

    Folders named exactly like the model's classes keep the model's order, so
    fine-tuning never swaps what an output means; otherwise the folder order
    (sorted, negatives first) becomes the classes' order.
    """
    if model_names and sorted(model_names) == sorted(folder_names):
        return tuple(model_names), np.array([model_names.index(n) for n in folder_names])
    return tuple(folder_names), np.arange(len(folder_names))
