"""Per-epoch checkpoints a run can resume from.

``checkpoint.keras`` is an ordinary ``.keras`` file (model, optimizer state and
class labels) with one extra zip entry, ``training_state.json``, holding how many
epochs it completed. Model and state live in one file that is replaced in one
``os.replace``, so they can never disagree, and a kill leaves either the old or
the new checkpoint, never a broken one.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras

from inspector.engine.atomic_files import write_file
from inspector.engine.errors import ModelLoadError, RunDirectoryError
from inspector.engine.model_loading import load_model, save_model
from models.face_cnn import INPUT_PRESET

CHECKPOINT_FILE = "checkpoint.keras"
FINAL_MODEL_FILE = "model.keras"
STATE_ENTRY = "training_state.json"


def save_checkpoint(model: keras.Model, run_dir: Path, labels, epochs_done: int) -> None:
    """Atomically write the model, its optimizer and ``epochs_done`` to the run."""
    step = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    state = {"epochs_done": epochs_done, "step": step}

    def write(partial: Path) -> None:
        save_model(model, partial, labels, INPUT_PRESET)
        with zipfile.ZipFile(partial, "a") as archive:
            archive.writestr(STATE_ENTRY, json.dumps(state))

    write_file(run_dir / CHECKPOINT_FILE, write, sync=True)


def read_checkpoint_state(run_dir: Path) -> dict:
    """``{"epochs_done", "step"}`` of the run's checkpoint.

    Raises:
        RunDirectoryError: no checkpoint, or one without its state.
    """
    path = run_dir / CHECKPOINT_FILE
    if not path.is_file():
        raise RunDirectoryError(
            f"Expected a run directory with a {CHECKPOINT_FILE} to resume. Received: "
            f"{str(run_dir)!r}, which has none (was it written by `layer-inspector train`?)."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read(STATE_ENTRY))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, OSError) as error:
        raise RunDirectoryError(
            f"Expected a readable checkpoint with its training state. Received: "
            f"{str(path)!r} ({type(error).__name__}: {error})."
        ) from None


def load_checkpoint(run_dir: Path) -> keras.Model:
    """The checkpointed model, compiled, with its optimizer state restored.

    It loads like any model file: Keras safe mode on, Lambda layers refused.
    """
    path = run_dir / CHECKPOINT_FILE
    try:
        return load_model(path, compile=True)
    except ModelLoadError as error:
        raise RunDirectoryError(
            f"Expected a loadable checkpoint in {str(run_dir)!r}. {error}"
        ) from None


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves a resumable checkpoint at the end of every complete epoch.

    An epoch cut short (``model.stop_training`` mid-epoch) is not checkpointed:
    resuming redoes it from the last complete one, as after a crash.
    """

    def __init__(self, run_dir: Path, labels: tuple[str, ...]) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.labels = labels
        self._batches = 0

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._batches = 0

    def on_train_batch_end(self, batch, logs=None) -> None:
        self._batches += 1

    def on_epoch_end(self, epoch, logs=None) -> None:
        steps = (self.params or {}).get("steps")
        if steps is None or self._batches >= steps:
            save_checkpoint(self.model, self.run_dir, self.labels, epoch + 1)
