"""The window's File and Help menus, its open actions, and drag and drop.

``FileActions`` is mixed into ``MainWindow`` (``gui.app.main_window``): everything
that turns a user's "open this file" (a menu, a dialog, a recent entry, a
drop) into a session request lives here, so the window module keeps to building
the views and painting the session's answers. It reads the window's
``session``, ``recent``, ``sample_dir``, ``tabs``, ``input_controls``,
``attribution_view`` and ``weight_updates_view``, and sets ``_opened`` entries
that the window adds to the recent files once the file has opened.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PyQt6.QtWidgets import QFileDialog, QMenu

from gui.app.session import IMAGE_SUFFIXES, MODEL_SUFFIXES, sample_images
from gui.app.shortcuts import HELP_KEY
from gui.export.dialogs import ExportController

MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5)"
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")"


class FileActions:
    """File > Open model / image / run, samples, recent files, export, Help, drops."""

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(file_menu, "Open &model…", self.choose_model, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Open &image…", self.choose_image, "Ctrl+I")
        self.bundled_menu = file_menu.addMenu("&Bundled models")
        self._fill_bundled_menu()
        self.samples_menu = file_menu.addMenu("&Sample images")
        self.samples_menu.aboutToShow.connect(self._fill_samples_menu)
        self._fill_samples_menu()
        self.recent_menu = file_menu.addMenu("&Recent files")
        self.recent.changed.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        self._action(file_menu, "Load &labels…", self.input_controls.choose_labels)
        self._action(file_menu, "Open training &run…", self.choose_run)
        self.live_menu = file_menu.addMenu("&Live")
        self.live_menu.aboutToShow.connect(self._fill_live_menu)
        file_menu.addSeparator()
        self.export_menu = file_menu.addMenu("&Export")
        self.export_controller = ExportController(
            self,
            self.session.worker,
            inspection=lambda: self.session.state.inspection if self.session.state else None,
            attributions=lambda: self.attribution_view.attributions,
            current_view=self.tabs.currentWidget,
        )
        self.export_controller.add_to_menu(self.export_menu)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, HELP_KEY)
        self._action(help_menu, "&About", self._about)

    def _fill_live_menu(self) -> None:
        """The cameras found, a video file, and the controls of a running source."""
        from inspector.live.frames import find_cameras

        menu, live = self.live_menu, self.live_controller
        menu.clear()
        cameras = find_cameras()
        for index in cameras:
            self._action(menu, f"Camera {index}", lambda i=index: live.start(f"camera:{i}"))
        if not cameras:
            menu.addAction("No camera found").setEnabled(False)
        self._action(menu, "&Video file…", self.choose_video)
        menu.addSeparator()
        for text, slot, enabled in (
            ("Resume" if live.frozen else "&Freeze\tSpace", live.toggle_freeze, live.running),
            ("&Step\t.", live.step, live.running and live.source.spec.video is not None),
            ("S&top live", live.stop, live.running),
            ("&Export frozen frames…", self.export_frozen_frames, bool(live.frozen_frames)),
        ):
            self._action(menu, text, slot).setEnabled(enabled)

    def choose_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Play a video live", "", "Videos (*.mp4 *.avi *.mov *.mkv *.webm);;All (*)"
        )
        if path:
            self.live_controller.start(path)

    def export_frozen_frames(self, folder: str | Path | None = None) -> None:
        """Export every frozen frame of the live run, each like a still (File > Export)."""
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, "Export the frozen frames into")
        if folder:
            self.live_controller.export_frozen(Path(folder))

    def _action(self, menu: QMenu, text: str, slot, shortcut=None) -> QAction:
        action = menu.addAction(text)
        action.triggered.connect(lambda _=False: slot())
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def open_model_file(self, path: str | Path, unsafe: bool = False) -> None:
        self._opened["model"] = Path(path)
        self.session.open_model(path, unsafe=unsafe)

    def open_image_file(self, path: str | Path) -> None:
        self._opened["image"] = Path(path)
        self.session.open_image(path)

    def open_run(self, path: str | Path) -> None:
        self.weight_updates_view.open_run(Path(path))
        self.recent.add("run", path)
        self.tabs.setCurrentWidget(self.weight_updates_view)

    def choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a Keras model", "", MODEL_FILTER)
        if path:
            self.open_model_file(path)

    def choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open an image", str(self.sample_dir), IMAGE_FILTER
        )
        if path:
            self.open_image_file(path)

    def choose_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a training run directory")
        if path:
            self.open_run(path)

    def open_path(self, path: Path) -> bool:
        """Open a dropped or recent file by its kind; False if the kind is unknown."""
        suffix = path.suffix.lower()
        if suffix in MODEL_SUFFIXES:
            self.open_model_file(path)
        elif suffix in IMAGE_SUFFIXES:
            self.open_image_file(path)
        elif path.is_dir():
            self.open_run(path)
        else:
            self.show_error(
                f"Cannot open {path.name}",
                f"Expected a model ({', '.join(MODEL_SUFFIXES)}), an image "
                f"({', '.join(IMAGE_SUFFIXES)}) or a training run folder. Received: {path.name!r}.",
            )
            return False
        return True

    def open_bundled(self, name: str) -> None:
        """Open the shipped network ``name`` and show the run that trained it."""
        from models.default_model import bundled_models, bundled_runs

        self.open_model_file(bundled_models()[name])
        run = bundled_runs()[name]
        if run.is_dir():  # Weight updates replays the training of the model now shown
            self.weight_updates_view.open_run(run)

    def _fill_bundled_menu(self) -> None:
        from models.default_model import BUNDLED_TITLES, bundled_models

        for name, path in bundled_models().items():
            action = self.bundled_menu.addAction(
                BUNDLED_TITLES.get(name, name), lambda n=name: self.open_bundled(n)
            )
            action.setEnabled(path.is_file())
            action.setToolTip(f"--model bundled:{name}")

    def _fill_samples_menu(self) -> None:
        self.samples_menu.clear()
        samples = sample_images(self.sample_dir)
        for path in samples:
            self.samples_menu.addAction(path.name, lambda p=path: self.open_image_file(p))
        if not samples:
            self.samples_menu.addAction("(no sample images found)").setEnabled(False)

    def _fill_recent_menu(self) -> None:
        self.recent.fill_menu(self.recent_menu, lambda kind, path: self.open_path(path))

    def _about(self) -> None:
        from PyQt6.QtWidgets import QMessageBox

        QMessageBox.about(
            self,
            "About layer-inspector",
            "layer-inspector shows how a Keras convolutional network sees an image, layer "
            "by layer: feature maps, the hierarchy of conv layers, gradients flowing back, "
            "attributions, and how the weights changed during training.",
        )

    # --- drag and drop -----------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        # A model first, so that an image dropped with it is shown by the new model.
        paths.sort(key=lambda p: p.suffix.lower() not in MODEL_SUFFIXES)
        for path in paths:
            self.open_path(path)
        event.acceptProposedAction()
