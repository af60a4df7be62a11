"""Train the face CNN, recorded layer by layer, checkpointed every epoch.

The optimizer minimises J(w, b) = (1/m) sum_i L(f(x_i), y_i), the mean binary
cross-entropy over a batch of m images, with Adam: each step moves every weight
against dJ/dw (w := w - alpha * step), where Adam's step is a running average of
dJ/dw divided by a running estimate of its size, so all layers learn at a
similar pace. alpha follows a cosine from 3e-3 down to 3e-5 over the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from inspector.engine.errors import InspectorError, RunDirectoryError
from inspector.engine.model_loading import save_model
from inspector.recording.probe_choice import pick_per_class
from inspector.recording.recorder import TrainingRecorder
from inspector.recording.run_writer import CONFIG_FILE, RECORDS_FILE
from models.datasets.bundled_data import bundled_face_data
from models.datasets.face_data import SPLIT_SEED, FaceDataset, LabelledImages
from models.datasets.folder_data import load_image_folder
from models.datasets.recognizer_data import recognizer_data
from models.face_cnn import INPUT_PRESET, INPUT_SIZE, build_face_cnn, loss_for, loss_function
from models.settings import (
    BATCH_SIZE,
    DEFAULT_EPOCHS,
    FINAL_RATE_FRACTION,
    GRADIENT_BATCH,
    LEARNING_RATE,
    MIN_IMAGES_PER_EPOCH,
    MODEL_NAMES,
    PROBE_COUNT,
    STRATEGIES,
    TASKS,
)
from models.training.augmentation import steps_per_epoch, training_batches
from models.training.checkpoint import (
    FINAL_MODEL_FILE,
    EpochCheckpoint,
    load_checkpoint,
    read_checkpoint_state,
)


def train_face_model(
    *,
    run_dir: str | Path,
    data_dir: str | Path | None = None,
    epochs: int = DEFAULT_EPOCHS,
    seed: int | None = None,
    resume: bool = False,
    strategy: str = "default",
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int | str = 1,
    min_per_class: int = 1,
    batch_size: int = BATCH_SIZE,
    learning_rate: float = LEARNING_RATE,
    input_size: int = INPUT_SIZE,
    tensorboard: bool = False,
    task: str = "detector",
) -> keras.Model:
    """Train (or resume training) the face CNN and record the run.

    Args:
        run_dir: where the run is written (see ``inspector.recording.run_directory``); must
            be new or empty unless ``resume``.
        data_dir: a class-per-subfolder image folder; None uses the bundled
            faces and non-faces (``models.datasets.bundled_data``).
        epochs: total epochs; with ``resume``, the number to reach.
        seed: seeds weights, augmentation and order (default 0). On resume the
            run's own seed is used.
        resume: continue the run in ``run_dir`` from its last checkpoint.
        strategy: "default" (one device) or "mirrored" (``tf.distribute.
            MirroredStrategy`` over all GPUs, or all logical CPUs without GPUs).
        extra_callbacks: more Keras callbacks, e.g. one that sets
            ``self.model.stop_training = True`` to stop early.
        verbose: Keras ``fit`` verbosity; 0 also silences our own lines.
        min_per_class: for ``data_dir``, leave out classes with fewer images.
        batch_size, learning_rate, input_size: training settings (stored).
        tensorboard: also write TensorBoard histograms of weights and gradients.
        task: with the bundled data, ``"detector"`` (faces against non-faces) or
            ``"recognizer"`` (which of the 40 ORL people, ``models.datasets.recognizer_data``);
            the same network up to its head either way.

    Returns:
        The trained model (also saved as ``run_dir/model.keras`` with its labels).

    Raises:
        DatasetError: unusable data. RunDirectoryError: a non-empty run_dir
            without ``resume``, or nothing to resume. InspectorError: bad settings.
    """
    run_dir = Path(run_dir)
    _check_settings(epochs, strategy, batch_size)
    if task not in TASKS:
        raise InspectorError(f"Expected a task among {', '.join(TASKS)}. Received: {task!r}.")
    if task != "detector" and data_dir is not None:
        raise InspectorError(
            f"Expected --data only for the detector (a folder's classes are its task). "
            f"Received: --task {task} with --data {str(data_dir)!r}."
        )
    requested = {
        "task": task,
        "data": None if data_dir is None else str(Path(data_dir).resolve()),
        "seed": 0 if seed is None else int(seed),
        "min_per_class": min_per_class,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "input_size": input_size,
        "schedule_epochs": epochs,  # the learning-rate schedule's length, fixed at the start
    }
    say = print if verbose else (lambda *_: None)
    if resume:
        config, initial_epoch = _resume_config(run_dir, requested, seed, say)
    else:
        _check_new_run_dir(run_dir)
        config, initial_epoch = dict(requested), 0
    data = _load_data(config)
    config.update(_data_facts(data, config, epochs, strategy))
    keras.utils.set_random_seed(config["seed"])
    # Without this, multithreaded CPU kernels sum in varying order and two runs
    # with one seed drift apart by ~1e-2. TensorFlow's oneDNN CPU kernels (on by
    # default) can still differ by ~1e-4 now and then, and even without them two
    # seeded runs of the 64-px model drift apart slightly (see docs/face-model.md).
    tf.config.experimental.enable_op_determinism()
    distribution = make_strategy(strategy)
    with distribution.scope():
        model = load_checkpoint(run_dir) if resume else _new_model(data, config)
    _announce(say, data, config, model, run_dir, distribution, initial_epoch, epochs)
    if initial_epoch >= epochs:
        say(f"Nothing to do: the run already has {initial_epoch} of {epochs} epochs.")
        return model
    callbacks = [
        make_recorder(run_dir, data, config, tensorboard=tensorboard),
        EpochCheckpoint(run_dir, data.class_names),
        *extra_callbacks,
    ]
    started = time.perf_counter()
    _fit(model, data, config, (initial_epoch, epochs), callbacks, verbose)
    save_model(inference_copy(model), run_dir / FINAL_MODEL_FILE, data.class_names, INPUT_PRESET)
    _report(say, model, data, run_dir, time.perf_counter() - started)
    return model


def _fit(model, data: FaceDataset, config: dict, epoch_range, callbacks, verbose) -> None:
    first_epoch, epochs = epoch_range
    batch_size, repeats = config["batch_size"], config["repeats"]
    model.fit(
        training_batches(
            data.train,
            seed=config["seed"],
            batch_size=batch_size,
            first_epoch=first_epoch,
            epochs=epochs,
            repeats=repeats,
        ),
        steps_per_epoch=steps_per_epoch(len(data.train), batch_size, repeats),
        shuffle=False,  # the pipeline shuffles, seeded per epoch
        initial_epoch=first_epoch,
        epochs=epochs,
        validation_data=(data.held_out.as_model_input(), data.held_out.labels),
        callbacks=callbacks,
        verbose=verbose,
    )


def inference_copy(model: keras.Model) -> keras.Model:
    """The same network and weights without optimizer state (a third of the file)."""
    # from_config gives an uncompiled twin (clone_model would compile it again).
    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def make_strategy(name: str) -> tf.distribute.Strategy:
    """The named distribution strategy; "mirrored" spans all GPUs, else all CPUs."""
    if name == "default":
        return tf.distribute.get_strategy()
    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([device.name for device in devices])


def make_recorder(run_dir: Path, data: FaceDataset, config: dict, **options) -> TrainingRecorder:
    """The recorder for a face-CNN run: held-out probes, a fixed training gradient batch."""
    probes = pick_per_class(data.held_out.labels, PROBE_COUNT)
    gradient = pick_per_class(data.train.labels, GRADIENT_BATCH)
    return TrainingRecorder(
        run_dir,
        probe_images=data.held_out.as_model_input()[probes],
        probe_labels=data.held_out.labels[probes],
        gradient_batch=(data.train.as_model_input()[gradient], data.train.labels[gradient]),
        config=config,
        **options,
    )


# --- settings and the run directory ------------------------------------------------
def _check_settings(epochs, strategy: str, batch_size) -> None:
    if not isinstance(epochs, int) or epochs < 1:
        raise InspectorError(f"Expected epochs to be a positive integer. Received: {epochs!r}.")
    if strategy not in STRATEGIES:
        raise InspectorError(f"Expected strategy in {STRATEGIES}. Received: {strategy!r}.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InspectorError(f"Expected a positive batch size. Received: {batch_size!r}.")


def _check_new_run_dir(run_dir: Path) -> None:
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise RunDirectoryError(
            "Expected a new or empty run directory. Received: "
            f"{str(run_dir)!r}, which already holds files; pass --resume to continue "
            "the run there, or choose another --out."
        )


def _resume_config(run_dir: Path, requested: dict, seed, say) -> tuple[dict, int]:
    state = read_checkpoint_state(run_dir)
    try:
        stored = json.loads((run_dir / CONFIG_FILE).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise RunDirectoryError(
            f"Expected the run's {CONFIG_FILE} in {str(run_dir)!r} to resume. Received: {error}."
        ) from None
    if not (run_dir / RECORDS_FILE).is_file():
        raise RunDirectoryError(f"Expected {RECORDS_FILE} in {str(run_dir)!r} to resume.")
    config = {key: stored.get(key, value) for key, value in requested.items()}
    if seed is not None and int(seed) != config["seed"]:
        say(f"Resuming with the run's own seed {config['seed']} (not {seed}).")
    return config, int(state["epochs_done"])


def _load_data(config: dict) -> FaceDataset:
    if config.get("task", "detector") == "recognizer":
        return recognizer_data(config["input_size"])
    if config["data"] is None:
        return bundled_face_data(config["input_size"])
    return load_image_folder(
        config["data"], input_size=config["input_size"], min_per_class=config["min_per_class"]
    )


def _data_facts(data: FaceDataset, config: dict, epochs: int, strategy: str) -> dict:
    return {
        "command": "layer-inspector train",
        "data_source": data.source,
        "class_names": list(data.class_names),
        "train_count": len(data.train),
        "held_out_count": len(data.held_out),
        "skipped_count": len(data.skipped),
        "split_seed": SPLIT_SEED,
        "repeats": max(1, round(MIN_IMAGES_PER_EPOCH / len(data.train))),
        "epochs": epochs,
        "strategy": strategy,
        "optimizer": "adam",
        "learning_rate_schedule": "cosine decay to 1% over the planned epochs",
        "loss": loss_for(data.class_names),
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
    }


def learning_rate_schedule(config: dict) -> keras.optimizers.schedules.LearningRateSchedule:
    """Cosine decay over the run's planned steps: big steps first, then settling.

    The schedule is fixed when a run starts (it is saved in the checkpoint); a run
    resumed to more epochs than planned continues at the final, small rate.
    """
    planned = config["schedule_epochs"] * steps_per_epoch(
        config["train_count"], config["batch_size"], config["repeats"]
    )
    return keras.optimizers.schedules.CosineDecay(
        config["learning_rate"], decay_steps=planned, alpha=FINAL_RATE_FRACTION
    )


def _new_model(data: FaceDataset, config: dict) -> keras.Model:
    name = MODEL_NAMES[config.get("task", "detector")]
    model = build_face_cnn(data.class_names, input_size=config["input_size"], name=name)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate_schedule(config)),
        loss=loss_function(data.class_names),
        metrics=["accuracy"],
    )
    model.class_names = data.class_names
    return model


# --- what the user sees --------------------------------------------------------------
def _announce(say, data, config, model, run_dir, distribution, initial_epoch, epochs) -> None:
    say(
        f"Data: {data.source}: {len(data.train)} training + {len(data.held_out)} held-out "
        f"images, classes {', '.join(data.class_names)}; each training image "
        f"{config['repeats']}x per epoch, augmented."
    )
    if data.skipped:
        say(f"Skipped {len(data.skipped)} file(s)/class(es), e.g. {data.skipped[0]}")
    say(
        f"Model: {model.name}, {model.count_params():,} parameters; "
        f"{distribution.num_replicas_in_sync} replica(s); run directory {run_dir}"
    )
    if initial_epoch:
        say(f"Resuming after epoch {initial_epoch} of {epochs}.")


def held_out_accuracy(model: keras.Model, held_out: LabelledImages) -> float:
    """Share of held-out images whose top class is right (threshold 0.5 for a sigmoid)."""
    scores = model.predict(held_out.as_model_input(), verbose=0)
    predicted = (scores[:, 0] > 0.5).astype(int) if scores.shape[1] == 1 else scores.argmax(1)
    return float(np.mean(predicted == held_out.labels))


def _report(say, model, data, run_dir: Path, seconds: float) -> None:
    accuracy = held_out_accuracy(model, data.held_out)
    say(
        f"Held-out accuracy {accuracy:.1%} on {len(data.held_out)} images; trained in "
        f"{seconds:.1f} s. Model: {run_dir / FINAL_MODEL_FILE}"
    )
