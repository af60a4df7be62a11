"""Start the desktop app: the window first, then the engine on the worker thread.

TensorFlow takes seconds to import, so ``run_app`` shows a fully painted window
with a busy indicator at once, and the first worker job imports the engine,
loads the model and inspects the first image while the window stays responsive.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PyQt6.QtWidgets import QApplication

from gui.app.main_window import MainWindow
from gui.app.remembered import load_remembered
from gui.widgets.image_helpers import configure_pyqtgraph

APPLICATION = "layer-inspector"


def application(argv: list[str] | None = None) -> QApplication:
    """The process's QApplication (created once), with pyqtgraph configured."""
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(APPLICATION)
    configure_pyqtgraph()
    return app


def open_window(
    model_path: Path | None = None,
    image_path: Path | None = None,
    unsafe: bool = False,
    *,
    run_path: Path | None = None,
    live: str | None = None,
) -> MainWindow:
    """Create and show the main window, then start loading on the worker.

    Args:
        model_path: a .keras/.h5 file; None opens the bundled default model.
        image_path: an image file; None opens the first sample image.
        unsafe: allow the model's Lambda layers' code (only for trusted files).
        run_path: a training run directory for the weight-updates view
            (None: the bundled default run).
        live: ``camera``, ``camera:N`` or a video file to follow once the model
            has answered its first image (``app --live``).
    """
    window = MainWindow()
    window.startup_run = Path(run_path) if run_path else None
    remembered = load_remembered(window.recent.settings)
    window.restore(remembered)
    window.show()
    # What the command line does not say comes from the last session.
    crop = remembered.crop if image_path is None else None
    window.session.start(
        model_path or remembered.model, image_path or remembered.image, unsafe, crop=crop
    )
    if live is not None:
        _start_live_after_first_state(window, live)
    return window


def _start_live_after_first_state(window: MainWindow, live: str) -> None:
    """Live needs the model's input size, known from the first answer."""

    def start(_state) -> None:
        window.state_shown.disconnect(start)
        window.live_controller.start(live)

    window.state_shown.connect(start)


def run_app(
    model_path: Path | None = None,
    image_path: Path | None = None,
    unsafe: bool = False,
    *,
    run_path: Path | None = None,
    live: str | None = None,
) -> int:
    """Run the app until its window closes; returns the exit code (0 on success)."""
    app = application()
    window = open_window(model_path, image_path, unsafe, run_path=run_path, live=live)
    code = app.exec()
    del window
    return code
