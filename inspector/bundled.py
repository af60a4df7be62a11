"""The bundled face networks, their training runs and their data, for Python users.

``bundled_model_path()`` and ``bundled_run_path()`` are the one place that knows
where the shipped networks live; ``models.default_model`` asks here too.

Why this module resolves by path, not by package name: research repositories
often have their own top-level ``models/`` package, and in a notebook started
there it shadows this project's ``models`` (``from models import ...`` then
imports the user's). The paths below are computed from this file, and
``bundled_data`` imports the project's ``models`` package from the folder beside
``inspector/`` for the length of the call, then puts back whatever the user had.
This is the one door from the core to the bundled face package; the rest of
``inspector`` never reaches it (``tests/test_architecture.py``).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from pathlib import Path

# The folder that holds inspector/ and models/, in a checkout or site-packages.
_ROOT = Path(__file__).resolve().parents[1]
_MODELS = _ROOT / "models"

# name -> (folder under models/, model file name); the detector is the default.
_NETWORKS = {
    "detector": ("default", "face_cnn.keras"),
    "recognizer": ("recognizer", "face_recognizer.keras"),
}
_SWAP_LOCK = threading.Lock()
_OURS: dict[str, object] = {}  # our ``models`` modules, kept between calls


def _network(name: str) -> tuple[str, str]:
    if name not in _NETWORKS:
        raise ValueError(f"Expected a bundled network: {', '.join(_NETWORKS)}. Received: {name!r}.")
    return _NETWORKS[name]


def bundled_model_path(name: str = "detector") -> Path:
    """The ``.keras`` file of a bundled network, labels inside.

    Args:
        name: ``"detector"`` (face or not; the default everywhere) or
            ``"recognizer"`` (which of the 40 ORL people).

    Raises:
        ValueError: any other name.
    """
    folder, file = _network(name)
    return _MODELS / folder / file


def bundled_run_path(name: str = "detector") -> Path:
    """The recorded training run (a run directory) that trained a bundled network."""
    folder, _ = _network(name)
    return _MODELS / folder / "run"


def bundled_data(name: str = "bundled-faces", shape: tuple[int, int, int] = (64, 64, 1)):
    """A bundled image set, the same one ``--data NAME`` mines in the app and the CLI.

    Args:
        name: ``"bundled-faces"`` (the 500 ORL face photos), ``"bundled-natural"``
            (those plus natural non-face photo crops) or ``"bundled"`` (the whole
            training set, synthetic non-faces included).
        shape: the model input ``(H, W, C)``, square, C 1 or 3.

    Returns:
        An object with ``images`` uint8 ``(N, H, W, C)`` raw 0..255 pixels,
        ``is_face`` bool ``(N,)``, ``name`` and ``description``.

    Raises:
        ValueError: a name or a shape the set does not have.
    """
    with _own_models_package():
        unit_data = importlib.import_module("models.datasets.unit_data")
        return unit_data.bundled_unit_set(name, tuple(shape))


def _is_ours(module) -> bool:
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve().parent == _MODELS


@contextlib.contextmanager
def _own_models_package():
    """Make ``import models...`` mean this project's package inside the block.

    If ours is already imported (the app, the CLI, this repository's tests) this
    does nothing. Otherwise a user's ``models`` modules step aside for the block
    and come back after it, so their later imports see their own package.
    """
    if _is_ours(sys.modules.get("models")):
        yield
        return
    with _SWAP_LOCK:
        theirs = {k: m for k, m in sys.modules.items() if k == "models" or k.startswith("models.")}
        for key in theirs:
            del sys.modules[key]
        sys.modules.update(_OURS)
        sys.path.insert(0, str(_ROOT))
        try:
            importlib.import_module("models")
            yield
        finally:
            sys.path.remove(str(_ROOT))
            for key in [k for k in sys.modules if k == "models" or k.startswith("models.")]:
                _OURS[key] = sys.modules.pop(key)
            sys.modules.update(theirs)
