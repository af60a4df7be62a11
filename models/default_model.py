"""Where the shipped, trained networks and their recorded training runs live.

Two bundled networks, the same architecture up to the head:

* the **detector** (``models/default/``): face or not face, the default everywhere;
* the **recognizer** (``models/recognizer/``): which of the 40 ORL people.

``--model bundled:detector|bundled:recognizer`` names them in every command.
"""

from __future__ import annotations

from pathlib import Path

# The paths are known in one place, the core's public ``inspector.bundled``.
from inspector.bundled import bundled_model_path, bundled_run_path

DEFAULT_DIR = bundled_model_path("detector").parent
RECOGNIZER_DIR = bundled_model_path("recognizer").parent


def default_model_path() -> Path:
    """``models/default/face_cnn.keras``: the trained face detector, labels inside."""
    return bundled_model_path("detector")


def default_run_path() -> Path:
    """``models/default/run``: the recorded run that trained the default model."""
    return bundled_run_path("detector")


def recognizer_model_path() -> Path:
    """``models/recognizer/face_recognizer.keras``: which of the 40 ORL people."""
    return bundled_model_path("recognizer")


def recognizer_run_path() -> Path:
    """``models/recognizer/run``: the recorded run that trained the recognizer."""
    return bundled_run_path("recognizer")


BUNDLED_TITLES = {
    "detector": "Face detector: face or not (the default)",
    "recognizer": "Face recognizer: which of 40 ORL people",
}


def bundled_models() -> dict[str, Path]:
    """name -> model file of every bundled network, the default first."""
    return {"detector": default_model_path(), "recognizer": recognizer_model_path()}


def bundled_runs() -> dict[str, Path]:
    """name -> recorded training run of every bundled network."""
    return {"detector": default_run_path(), "recognizer": recognizer_run_path()}
