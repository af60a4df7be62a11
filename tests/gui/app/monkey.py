"""A seeded monkey for the main window: random actions drawn from every control.

``Monkey(window, files, seed).run(count)`` performs ``count`` actions, each
drawn with ``random.Random(seed)``, so a failure is replayed by running the same
seed again (``MONKEY_SEED=... MONKEY_ACTIONS=...``). Between actions it lets Qt
run for a random short while, so that some requests supersede others still on
the worker, as a quick user's would. Modal dialogs are answered by the patches
that the test installs; ``log`` keeps every action for the failure message.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from gui.views.training.tab import OPEN_MODEL

TINY_TRAIN = "tests.gui.tiny_runs:tiny_train"


@dataclass
class MonkeyFiles:
    """What the monkey may open."""

    models: list[Path]
    images: list[Path]
    export_dir: Path
    data_dir: Path | None = None  # a class-per-folder set for training the open model
    labels: list[Path] = field(default_factory=list)  # class-name files, fitting or not
    runs_root: Path = field(default_factory=Path)


class Monkey:
    """Drives ``window`` with random actions (see the module docstring)."""

    def __init__(self, window, qtbot, files: MonkeyFiles, seed: int) -> None:
        self.window = window
        self.qtbot = qtbot
        self.files = files
        self.random = random.Random(seed)
        self.log: list[str] = []
        self.trainings = 0
        tab = window.training_tab
        tab._train = TINY_TRAIN  # a tiny stand-in: the plumbing is what is under test
        tab.runs_root = files.runs_root
        tab.run_dir_edit.setText(str(files.runs_root / "first"))
        tab._auto_run_dir = files.runs_root / "first"
        self.actions = [
            self.open_model,
            self.open_image,
            self.open_image,
            self.crop,
            self.auto_crop,
            self.select_layer,
            self.select_layer,
            self.select_channel,
            self.hover_unit,
            self.switch_tab,
            self.switch_tab,
            self.shortcut,
            self.pick_method,
            self.compare,
            self.target,
            self.export,
            self.train,
            self.neuron,
            self.preset,
            self.labels,
        ]

    # --- the loop --------------------------------------------------------------------
    def run(self, count: int, max_wait_ms: int = 120) -> None:
        for index in range(count):
            action = self.random.choice(self.actions)
            note = action() or ""
            self.log.append(f"{index}: {action.__name__} {note}".rstrip())
            self.qtbot.wait(self.random.randint(0, max_wait_ms))
            if self.random.random() < 0.1:  # now and then, let everything finish
                self.settle()

    def settle(self, timeout_ms: int = 120_000) -> None:
        """Wait until the worker has nothing left to do."""
        self.qtbot.waitUntil(lambda: not self.window.session.worker.is_busy, timeout=timeout_ms)

    def _choice(self, items):
        return self.random.choice(list(items)) if items else None

    @property
    def _inspection(self):
        state = self.window.session.state
        return state.inspection if state is not None else None

    # --- actions (each returns a note for the log) -------------------------------------
    def open_model(self) -> str:
        path = self._choice(self.files.models)
        self.window.open_model_file(path)
        return path.name

    def open_image(self) -> str:
        path = self._choice(self.files.images)
        self.window.open_image_file(path)
        return path.name

    def crop(self) -> str:
        state = self.window.session.state
        if state is None:
            return "(nothing open)"
        height, width = state.original.shape[:2]
        left, top = self.random.randint(-5, width), self.random.randint(-5, height)
        box = (
            left,
            top,
            left + self.random.randint(1, width),
            top + self.random.randint(1, height),
        )
        self.window.crop_view.crop_changed.emit(box)
        return str(box)

    def auto_crop(self) -> str:
        self.window.crop_view.auto_crop_requested.emit()
        return ""

    def select_layer(self) -> str:
        inspection = self._inspection
        if inspection is None:
            return "(nothing open)"
        name = self._choice([r.name for r in inspection.layers])
        self.window.model_panel.select_layer(name)
        return name

    def select_channel(self) -> str:
        view = self.window.feature_view
        if view.layer_name is None or view.channel_count < 1:
            return "(no layer)"
        channel = self.random.randrange(view.channel_count)
        view.select_channel(channel)
        return str(channel)

    def hover_unit(self) -> str:
        view = self.window.feature_view
        layout = view.mosaic_layout
        if layout is None or view.is_vector:
            return "(no grid)"
        height, width = layout.shape
        hit = layout.unit_at(self.random.uniform(0, width), self.random.uniform(0, height))
        if hit is None:
            return "(between tiles)"
        view.hover_unit(*hit)
        return str(hit)

    def switch_tab(self) -> str:
        index = self.random.randrange(self.window.tabs.count())
        self.window.tabs.setCurrentIndex(index)
        return self.window.tabs.tabText(index)

    def shortcut(self) -> str:
        shortcut = self._choice(self.window.shortcuts)
        shortcut.activated.emit()
        return shortcut.key().toString()

    def pick_method(self) -> str:
        view = self.window.attribution_view
        view.pages.setCurrentIndex(0)
        if view.method_combo.count() == 0:
            return "(no methods yet)"
        index = self.random.randrange(view.method_combo.count())
        view.method_combo.setCurrentIndex(index)
        view.request_attribution()
        return view.current_method()

    def compare(self) -> str:
        compare = self.window.attribution_view.compare_view
        self.window.attribution_view.pages.setCurrentWidget(compare)
        if compare.is_running or self.random.random() < 0.3:
            compare.cancel()
            return "cancel"
        compare.request_all()
        return "all"

    def target(self) -> str:
        inspection = self._inspection
        if inspection is None:
            return "(nothing open)"
        target = self.random.choice([None, *range(len(inspection.probabilities))])
        self.window.prediction_panel.select_target(target)
        return str(target)

    def export(self) -> str:
        controller = self.window.export_controller
        folder = self.files.export_dir
        kind = self.random.choice(["view", "npz", "report", "all"])
        stamp = len(self.log)
        if kind == "view":
            controller.export_view(folder / f"view_{stamp}.png")
        elif kind == "npz":
            controller.export_npz(folder / f"act_{stamp}.npz")
        elif kind == "report":
            controller.export_report(folder / f"report_{stamp}.png")
        else:
            controller.export_all(folder / f"all_{stamp}")
        return kind

    def train(self) -> str:
        tab = self.window.training_tab
        if tab.is_running:
            tab.cancel_button.click()
            return "cancel"
        if self.trainings >= 3:  # each start spawns a TensorFlow process: keep it bounded
            return "(enough trainings)"
        self.trainings += 1
        own = self.random.random() < 0.5 and self.files.data_dir is not None
        tab.model_combo.setCurrentIndex(OPEN_MODEL if own else 0)
        tab.set_data_dir(self.files.data_dir if own else None)
        tab.epochs_spin.setValue(self.random.randint(1, 3))
        started = tab.start()
        return f"{'open model' if own else 'tiny'} started={started}"

    def neuron(self) -> str:
        view = self.window.neuron_view
        if self._inspection is None:
            return "(nothing open)"
        view.select_strongest_unit()
        return str(view.selection())

    def preset(self) -> str:
        combo = self.window.input_controls.preset_combo
        if combo.count() == 0:
            return "(engine not ready)"
        combo.setCurrentIndex(self.random.randrange(combo.count()))
        return combo.currentText()

    def labels(self) -> str:
        path = self._choice(self.files.labels)
        if path is None:
            return "(no labels files)"
        self.window.session.set_labels(path)
        return path.name
