"""GUI test fixtures: tiny models saved to disk, images, windows, and a thread check.

Every GUI test runs headless (QT_QPA_PLATFORM=offscreen, set by tests/conftest.py).
The autouse fixture ``_no_thread_left_running`` fails a test that leaves a model
worker busy or a QThread running at teardown.
"""

from __future__ import annotations

import gc
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image
from PyQt6.QtCore import QSettings, QThread, QThreadPool

from gui.jobs import worker as worker_module
from gui.widgets.image_helpers import configure_pyqtgraph

THREAD_JOIN_MS = 5000
SIZE = 24
LABELS = ("face", "cat", "car")


# --- no thread left running --------------------------------------------------------
def _alive(obj) -> bool:
    try:
        obj.objectName()
    except RuntimeError:  # the C++ object is gone
        return False
    return True


def running_qthreads() -> list[QThread]:
    """Every QThread object in this process (other than the GUI thread) that runs."""
    main = QThread.currentThread()
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, QThread) and obj is not main and _alive(obj) and obj.isRunning():
            found.append(obj)
    return found


@pytest.fixture(autouse=True)
def _no_thread_left_running(qapp):
    """Fail the test if it leaves a ModelWorker thread or a QThread running."""
    configure_pyqtgraph()
    yield
    busy = [w for w in worker_module.live_workers() if _alive(w) and w.active_thread_count()]
    threads = running_qthreads()
    pool_busy = QThreadPool.globalInstance().activeThreadCount()
    # Join before failing, so that one leaky test does not poison the next ones.
    for w in busy:
        w.shutdown(THREAD_JOIN_MS)
    for thread in threads:
        thread.quit()
        thread.wait(THREAD_JOIN_MS)
    QThreadPool.globalInstance().waitForDone(THREAD_JOIN_MS)
    problems = []
    if busy:
        problems.append(f"{len(busy)} ModelWorker thread(s) not shut down")
    if threads:
        problems.append(f"QThreads still running: {[type(t).__name__ for t in threads]}")
    if pool_busy:
        problems.append(f"{pool_busy} global QThreadPool thread(s) still active")
    if problems:
        pytest.fail("Thread left running at teardown: " + "; ".join(problems))


@pytest.fixture(autouse=True)
def _no_modal_box(monkeypatch):
    """A message box the test did not expect fails the test instead of blocking the
    suite forever (a modal box waits for a click no one gives). Tests that expect
    one patch ``QMessageBox`` themselves, which replaces this."""
    from PyQt6.QtWidgets import QMessageBox

    def unexpected(_parent, title, text, *args, **kwargs):
        pytest.fail(f"Unexpected message box {title!r}: {text}")

    for name in ("critical", "warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, name, unexpected)


# --- tiny models ---------------------------------------------------------------------
def tiny_cnn() -> keras.Model:
    """24x24 RGB in 0..255: conv-bn-relu, pool, conv-relu, global pool, dense(3)."""
    inputs = keras.Input((SIZE, SIZE, 3), name="pixels")
    x = keras.layers.Rescaling(1 / 255, name="scale")(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", name="edges")(x)
    x = keras.layers.BatchNormalization(name="edges_bn")(x)
    x = keras.layers.ReLU(name="edges_relu")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="parts")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(len(LABELS), activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="tiny_cnn")


def nested_cnn() -> keras.Model:
    """A Sequential backbone inside a functional model, like a transfer-learning model."""
    backbone = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv_a"),
            keras.layers.Conv2D(5, 3, strides=2, activation="relu", name="conv_b"),
        ],
        name="backbone",
    )
    inputs = keras.Input((SIZE, SIZE, 3))
    x = backbone(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="head")(x)
    return keras.Model(inputs, outputs, name="with_backbone")


def lambda_cnn() -> keras.Model:
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0, name="doubler")(inputs)
    x = keras.layers.Conv2D(2, 3, name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x), name="lambda_model")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    from inspector.engine.model_loading import save_model

    folder = tmp_path_factory.mktemp("models")
    keras.utils.set_random_seed(1)
    save_model(tiny_cnn(), folder / "tiny.keras", LABELS)
    save_model(nested_cnn(), folder / "nested.keras", ("yes", "no"))
    lambda_cnn().save(folder / "lambda.keras")
    (folder / "broken.keras").write_bytes(b"this is not a zip file")
    return folder


@pytest.fixture(scope="session")
def tiny_model_path(model_dir) -> Path:
    return model_dir / "tiny.keras"


@pytest.fixture(scope="session")
def nested_model_path(model_dir) -> Path:
    return model_dir / "nested.keras"


# --- images --------------------------------------------------------------------------
def write_image(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """A smooth colour picture with a bright disc, saved with Pillow."""
    rows, cols = np.mgrid[0:height, 0:width]
    disc = ((rows - height * 0.45) ** 2 + (cols - width * 0.55) ** 2) < (
        min(width, height) / 4
    ) ** 2
    rng = np.random.default_rng(seed)
    rgb = np.stack([cols / width, rows / height, disc * 1.0], axis=-1) * 200
    rgb = rgb + rng.integers(0, 40, size=rgb.shape)
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="session")
def image_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("images")
    write_image(folder / "a_small.png", SIZE, SIZE, seed=0)
    write_image(folder / "b_wide.png", 60, 40, seed=1)
    write_image(folder / "c_other.png", SIZE, SIZE, seed=2)
    (folder / "not_an_image.png").write_text("hello, I am text")
    return folder


@pytest.fixture(scope="session")
def image_path(image_dir) -> Path:
    return image_dir / "a_small.png"


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


# --- inspections and windows ---------------------------------------------------------
@pytest.fixture(scope="session")
def tiny_inspection(tiny_model_path, image_path):
    """An Inspection of the tiny model on the small image (computed once)."""
    from inspector import Inspector, load_image
    from inspector.engine.model_loading import load_model

    model = load_model(tiny_model_path)
    return Inspector(model).inspect(load_image(image_path, model))


@pytest.fixture(scope="session")
def engine_cache():
    """One worker-side cache for all windows: each test need not reload the models.

    Safe because tests run one at a time, so only one worker thread uses it at once.
    """
    from gui.jobs.engine_cache import EngineCache

    return EngineCache()


@pytest.fixture
def window(qtbot, settings, image_dir, engine_cache):
    """A main window with no model open yet; closed (threads joined) at teardown."""
    from gui.app.main_window import MainWindow
    from gui.app.session import Session

    win = MainWindow(session=Session(cache=engine_cache), settings=settings, sample_dir=image_dir)
    qtbot.addWidget(win)
    yield win
    win.close()


@pytest.fixture
def open_window(qtbot, window, tiny_model_path, image_path):
    """The window showing the tiny model on the small image."""
    with qtbot.waitSignal(window.state_shown, timeout=30000):
        window.session.open_model(tiny_model_path)
        window.session.open_image(image_path)
    return window
