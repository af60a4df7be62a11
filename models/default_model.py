"""Where the shipped, trained face CNN and its recorded training run live."""

from __future__ import annotations

from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent / "default"


def default_model_path() -> Path:
    """``models/default/face_cnn.keras``: the trained face CNN, labels inside."""
    return DEFAULT_DIR / "face_cnn.keras"


def default_run_path() -> Path:
    """``models/default/run``: the recorded run that trained the default model."""
    return DEFAULT_DIR / "run"
