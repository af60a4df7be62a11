"""Errors become message boxes that name the problem; the app keeps its state.

Kept in one place so every error looks the same and tests patch one thing
(``QMessageBox``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from PyQt6.QtWidgets import QMessageBox, QWidget

log = logging.getLogger(__name__)


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """A modal error box: ``title`` says what failed, ``message`` why (one line or more)."""
    log.info("%s: %s", title, message)
    QMessageBox.critical(parent, title, f"{message}\n\nNothing was changed.")


def ask_to_trust_model(parent: QWidget | None, path: Path, message: str) -> bool:
    """Ask before loading a model whose Lambda layers carry code. The default is No."""
    answer = QMessageBox.warning(
        parent,
        "Model refused: it contains Python code",
        f"{message}\n\nLoad {path.name} anyway? Its code will run with your permissions. "
        "Choose Yes only if you trust where the file came from.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
