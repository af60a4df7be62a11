"""Load a Keras model file safely.

Keras safe mode stays on: a Lambda layer's Python bytecode is never deserialised
unless the caller passes ``unsafe=True``. Before Keras sees a file we read its
configuration ourselves (plain JSON; nothing is unpickled) so that a refused or
broken file gets a message naming the layer and the file.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras

from inspector.engine.atomic_files import write_file
from inspector.engine.errors import ModelLoadError, UnsafeModelError
from inspector.engine.preprocessing import check_preset

# Our own entry inside a .keras zip: {"labels": [...], "preprocess": "..."} (or, as
# older files have it, the list of class names alone).
LABELS_ENTRY = "labels.json"


def _config_of_keras_zip(path: Path) -> dict:
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelLoadError(
            "Expected a .keras model file (a zip archive holding config.json). "
            f"Received: {path.name!r}, which is not one ({type(error).__name__}: {error})."
        ) from None


def _config_of_h5(path: Path) -> dict:
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            raw = handle.attrs.get("model_config")
    except OSError as error:
        raise ModelLoadError(
            f"Expected an HDF5 (.h5) Keras model file. Received: {path.name!r}, which "
            f"HDF5 cannot open ({error})."
        ) from None
    if raw is None:
        raise ModelLoadError(
            "Expected an .h5 file saved with model.save() (it has a model_config). "
            f"Received: {path.name!r}, which holds weights or other data only."
        )
    try:
        return json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelLoadError(
            f"Expected a readable model_config in {path.name!r}: {error}"
        ) from None


def lambda_layers(config) -> list[str]:
    """Names of the Lambda layers anywhere in a (nested) Keras model config."""
    found: list[str] = []
    if isinstance(config, dict):
        if config.get("class_name") == "Lambda":
            found.append(str(config.get("config", {}).get("name", "?")))
        for value in config.values():
            found.extend(lambda_layers(value))
    elif isinstance(config, list):
        for value in config:
            found.extend(lambda_layers(value))
    return found


def read_sidecar(path: str | Path) -> dict:
    """What is stored beside a model: ``{"labels": (...), "preprocess": "..."}``, each optional.

    Class names come from our ``labels.json`` zip entry or a ``<stem>.labels.json``
    file beside the model; that file holds either a JSON list of names or an object
    ``{"labels": [...], "preprocess": "caffe"}``. An unreadable sidecar is ignored.
    """
    path = Path(path)
    found: dict = {}
    try:
        if path.suffix == ".keras" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                if LABELS_ENTRY in archive.namelist():
                    found.update(_as_sidecar(json.loads(archive.read(LABELS_ENTRY))))
        sidecar = path.with_name(path.stem + ".labels.json")
        if sidecar.is_file():
            found.update(_as_sidecar(json.loads(sidecar.read_text())))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError, zipfile.BadZipFile):
        return found
    return found


def read_labels(path: str | Path) -> tuple[str, ...] | None:
    """Class names stored beside a model: our zip entry, or a ``<stem>.labels.json`` file."""
    return read_sidecar(path).get("labels")


def _as_sidecar(value) -> dict:
    found: dict = {}
    if isinstance(value, dict):
        labels = _as_labels(value.get("labels"))
        if isinstance(value.get("preprocess"), str):
            found["preprocess"] = value["preprocess"]
        threshold = value.get("unknown_below")
        if isinstance(threshold, (int, float)) and not isinstance(threshold, bool):
            found["unknown_below"] = float(threshold)
    else:
        labels = _as_labels(value)
    if labels:
        found["labels"] = labels
    return found


def _as_labels(value) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def load_model(path: str | Path, *, unsafe: bool = False, compile: bool = False) -> keras.Model:
    """Load a ``.keras`` or legacy ``.h5`` model without running code from the file.

    Args:
        path: the model file.
        unsafe: allow Lambda layers' Python code to be deserialised. Only for files
            you trust: such code runs with your permissions.
        compile: restore the loss, metrics and optimizer state too (to go on training).

    Returns:
        The model (uncompiled unless ``compile``), with ``model.class_names`` set when the file
        carries class names and ``model.preprocess_preset`` when its sidecar names one.

    Raises:
        ModelLoadError: missing, empty, corrupt or non-model file.
        UnsafeModelError: a Lambda layer while ``unsafe`` is False.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelLoadError(
            f"Expected a model file. Received: {str(path)!r}, which does not exist."
        )
    if path.stat().st_size == 0:
        raise ModelLoadError(
            f"Expected a Keras model file. Received: {path.name!r}, which is empty."
        )
    suffix = path.suffix.lower()
    if suffix == ".keras":
        config = _config_of_keras_zip(path)
    elif suffix in (".h5", ".hdf5"):
        config = _config_of_h5(path)
    else:
        raise ModelLoadError(
            f"Expected a Keras model file ending in .keras or .h5. Received: {path.name!r}."
        )
    lambdas = lambda_layers(config)
    if lambdas and not unsafe:
        raise UnsafeModelError(
            f"Refused to load {path.name!r}: its Lambda layer(s) {', '.join(lambdas)} carry "
            "Python code that would run on load. Expected a model without Lambda layers; "
            "pass --unsafe (unsafe=True) only if you trust the file's source."
        )
    try:
        model = keras.saving.load_model(path, compile=compile, safe_mode=not unsafe)
    except Exception as error:  # Keras raises many types for broken files
        raise ModelLoadError(
            f"Expected a loadable Keras model. Received: {path.name!r}, which Keras could "
            f"not load ({type(error).__name__}: {_first_line(error)})."
        ) from None
    stored = read_sidecar(path)
    if stored.get("labels"):
        model.class_names = stored["labels"]
    if stored.get("preprocess"):
        # Checked when an image is prepared, so a bad value names the sidecar's key.
        model.preprocess_preset = stored["preprocess"]
    if "unknown_below" in stored:
        # A recogniser's calibrated threshold: a top probability below it means a
        # person it does not know (models/evaluation/recognizer.py).
        model.unknown_below = stored["unknown_below"]
    return model


def save_model(
    model: keras.Model,
    path: str | Path,
    labels: tuple[str, ...] | None,
    preprocess: str | None = None,
    unknown_below: float | None = None,
) -> None:
    """Save ``model`` as ``.keras`` with its class names and preprocessing inside,
    atomically, so that loading it back says both as facts (``source`` ``sidecar``).

    Args:
        labels: class names, or None.
        preprocess: the preset its inputs need (``inspector.engine.preprocessing``);
            None keeps the one the model was loaded with, if any.
        unknown_below: for a recogniser, the top probability below which the face is
            of nobody it knows; None keeps the model's own, if any.
    """
    preprocess = preprocess or getattr(model, "preprocess_preset", None)
    if unknown_below is None:
        unknown_below = getattr(model, "unknown_below", None)
    stored = {"labels": list(labels)} if labels else {}
    if preprocess:
        stored["preprocess"] = check_preset(preprocess)
    if unknown_below is not None:
        stored["unknown_below"] = float(unknown_below)

    def write(partial: Path) -> None:
        model.save(partial)
        if stored:
            with zipfile.ZipFile(partial, "a") as archive:
                archive.writestr(LABELS_ENTRY, json.dumps(stored))

    write_file(path, write)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
