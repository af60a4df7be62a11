"""The monkey test: random actions from every control, seeded and replayable.

Run the full 500 locally with ``MONKEY_ACTIONS=500``; replay a failure with the
seed its message prints (``MONKEY_SEED=...``). The test asserts zero unhandled
exceptions (pytest-qt fails a test on an exception raised in a Qt slot or
virtual method; ``sys.excepthook`` and ``threading.excepthook`` catch the rest),
no thread left running (the autouse fixture in tests/gui/conftest.py), and an
app that still answers at the end.
"""

from __future__ import annotations

import os
import sys
import threading

import keras
import numpy as np
import pytest
from PIL import Image
from PyQt6.QtWidgets import QFileDialog, QMessageBox

from tests.gui.app.monkey import Monkey, MonkeyFiles
from tests.gui.conftest import LABELS, write_image

SEED = int(os.environ.get("MONKEY_SEED", "20261127"))
ACTIONS = int(os.environ.get("MONKEY_ACTIONS", "100"))
ANSWER_MS = 120_000


def _deep_cnn() -> keras.Model:
    """A small but deep model: eight conv blocks with batch norm and a residual add."""
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    for index in range(8):
        y = keras.layers.Conv2D(8, 3, padding="same", name=f"conv{index}")(x)
        y = keras.layers.BatchNormalization(name=f"bn{index}")(y)
        y = keras.layers.ReLU(name=f"relu{index}")(y)
        x = keras.layers.Add(name=f"add{index}")([x, y]) if index else y
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x), name="deep")


@pytest.fixture(scope="module")
def monkey_files(tmp_path_factory, model_dir, image_dir):
    from gui.jobs.engine_cache import bundled_paths
    from inspector.engine.model_loading import save_model

    folder = tmp_path_factory.mktemp("monkey")
    keras.utils.set_random_seed(3)
    save_model(_deep_cnn(), folder / "deep.keras", LABELS)
    huge = folder / "huge.png"
    Image.fromarray(np.full((3000, 4000, 3), 90, np.uint8)).save(huge)
    data = folder / "classes"
    for index, name in enumerate(LABELS):
        (data / name).mkdir(parents=True)
        for k in range(4):
            write_image(data / name / f"{k}.png", 30, 30, seed=10 * index + k)
    models = [model_dir / n for n in ("tiny.keras", "broken.keras", "lambda.keras")]
    models += [folder / "deep.keras", model_dir / "nested.keras"]
    bundled = bundled_paths()[0]
    if bundled is not None:
        models.append(bundled)
    images = [image_dir / n for n in ("a_small.png", "b_wide.png", "c_other.png")]
    images += [image_dir / "not_an_image.png", huge]
    (folder / "exports").mkdir()
    labels = [folder / "three.txt", folder / "two.json", folder / "broken.json"]
    labels[0].write_text("one\ntwo\nthree\n")
    labels[1].write_text('["yes", "no"]')
    labels[2].write_text("{not json")
    return MonkeyFiles(
        models, images, folder / "exports", data_dir=data, runs_root=folder / "runs", labels=labels
    )


@pytest.fixture
def unhandled(monkeypatch):
    """Exceptions that reach sys.excepthook or threading.excepthook."""
    caught = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: caught.append(repr(value)))
    monkeypatch.setattr(threading, "excepthook", lambda args: caught.append(repr(args.exc_value)))
    return caught


@pytest.fixture
def dialogs(monkeypatch):
    """Message boxes and file dialogs answered without a user."""
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda _p, title, text, *a: shown.append(title))
    monkeypatch.setattr(QMessageBox, "about", lambda *a: None)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    return shown


def test_monkey_drives_every_control_without_an_unhandled_error(
    qtbot, open_window, monkey_files, unhandled, dialogs, monkeypatch, image_dir
):
    from gui.app import main_window

    answers = iter(np.random.default_rng(SEED).random(10_000) < 0.5)
    monkeypatch.setattr(main_window, "ask_to_trust_model", lambda *a: bool(next(answers)))
    monkey = Monkey(open_window, qtbot, monkey_files, SEED)
    try:
        monkey.run(ACTIONS)
        monkey.settle(ANSWER_MS)
        open_window.training_tab.cancel()
        qtbot.waitUntil(lambda: not open_window.training_tab.is_running, timeout=ANSWER_MS)
        # Still answering: a plain request gets its answer.
        with qtbot.waitSignal(open_window.state_shown, timeout=ANSWER_MS):
            open_window.open_model_file(monkey_files.models[0])
            open_window.open_image_file(image_dir / "c_other.png")
        assert open_window.session.state.inspection.model_name == "tiny_cnn"
        assert unhandled == []
        print(f"monkey: {len(monkey.log)} actions, seed {SEED}, {len(dialogs)} error boxes")
        print("\n".join(monkey.log))
    except BaseException as error:
        steps = "\n".join(monkey.log[-25:])
        raise AssertionError(
            f"Monkey failed with MONKEY_SEED={SEED} MONKEY_ACTIONS={ACTIONS} "
            f"after {len(monkey.log)} actions: {error!r}\nLast actions:\n{steps}"
        ) from error
