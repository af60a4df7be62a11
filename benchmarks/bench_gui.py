"""Benchmark: how fast the desktop app answers, against floors measured in the same run.

Four figures (goals from issue 4), each printed with its floor and their ratio:

1. Cold start to the first fully painted window (goal <= 4 s), in a fresh
   process. Floor: a bare QApplication painting an empty QMainWindow. Also
   printed: when the default model and a sample image are fully shown (the
   engine imports TensorFlow on the worker thread meanwhile).
2. Loading an image until all views are painted (goal <= 150 ms median).
   Floor: the engine alone, ``load_image`` + ``Inspector.inspect``.
3. Switching layers until the feature grid is painted (goal <= 50 ms median).
   Floor: one ``ImageItem.setImage`` + repaint of a mosaic of the same size.
4. Longest event-loop stall while training runs in GUI-training's thread (goal:
   none over 100 ms). A 10 ms QTimer heartbeat; floor: the same heartbeat idle.

The model is the bundled default (models/default/face_cnn.keras) when shipped;
otherwise an untrained ``models.face_cnn.build_face_cnn()`` (said in the output).
Images are the repository's sample_images/. "Painted" means the window was
repainted synchronously (``QWidget.repaint``) after the views were updated.

``--model PATH`` measures 2 and 3 on another model instead (e.g. MobileNetV2 with
``weights=None`` saved to a .keras file, 155 layers); cold start then opens it too.

Run: python benchmarks/bench_gui.py [--repeats 15] [--train-seconds 20] [--skip-training]
     python benchmarks/bench_gui.py --model /tmp/mnv2.keras --repeats 2 --skip-training --skip-cold
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The app's remembered state goes to a scratch folder (children inherit it): a
# benchmark neither reads nor overwrites the user's own settings.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="bench-settings-")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLD_START_CHILD = r"""
import os, sys, time
started = time.perf_counter()
sys.path.insert(0, {root!r})
from PyQt6.QtWidgets import QApplication
from gui.app.application import application, open_window
app = application()
model = {model!r}
window = open_window(model and __import__("pathlib").Path(model))
window.repaint()
app.processEvents()
painted = time.perf_counter() - started
shown = []
window.state_shown.connect(lambda state: shown.append(time.perf_counter()))
deadline = time.perf_counter() + 120
while not shown and time.perf_counter() < deadline:
    app.processEvents()
    time.sleep(0.002)
window.repaint()
full = (time.perf_counter() - started) if shown else float("nan")
print(f"RESULT {{painted:.4f}} {{full:.4f}}")
window.close()
"""

BARE_WINDOW_CHILD = r"""
import time
started = time.perf_counter()
from PyQt6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.resize(1440, 900)
window.show()
window.repaint()
app.processEvents()
print(f"RESULT {time.perf_counter() - started:.4f}")
"""


def run_child(code: str) -> list[float]:
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT"))
    return [float(v) for v in line.split()[1:]]


def report(name: str, values: list[float], floor: list[float], goal: str) -> None:
    median, floor_median = statistics.median(values), statistics.median(floor)
    ratio = median / floor_median if floor_median > 0 else float("nan")
    print(
        f"{name:<44} median {median * 1000:8.1f} ms  (min {min(values) * 1000:7.1f}, "
        f"max {max(values) * 1000:7.1f})  floor {floor_median * 1000:7.1f} ms  "
        f"ratio {ratio:5.1f}x  goal {goal}"
    )


# --- the model ---------------------------------------------------------------------------
def benchmark_model() -> tuple[Path, bool, str]:
    from gui.jobs.engine_cache import bundled_paths

    shipped, _ = bundled_paths()
    if shipped is not None:
        return shipped, True, f"the bundled default model ({shipped.relative_to(ROOT)})"
    from inspector.engine.model_loading import save_model
    from models.face_cnn import FACE_LABELS, build_face_cnn

    path = Path(tempfile.mkdtemp()) / "face_cnn_untrained.keras"
    save_model(build_face_cnn(), path, FACE_LABELS)
    return path, False, "models.face_cnn.build_face_cnn() UNTRAINED (default model not shipped)"


# --- 1. cold start -------------------------------------------------------------------------
def cold_start(model: Path, shipped: bool, repeats: int) -> None:
    # With the default model shipped the child opens it the way the app does (no path).
    code = COLD_START_CHILD.format(root=str(ROOT), model="" if shipped else str(model))
    runs = [run_child(code) for _ in range(repeats)]
    floor = [run_child(BARE_WINDOW_CHILD)[0] for _ in range(repeats)]
    report("1. cold start: first painted window", [r[0] for r in runs], floor, "<= 4000 ms")
    report("   cold start: model + sample fully shown", [r[1] for r in runs], floor, "(info)")


# --- 2 and 3: in-process -------------------------------------------------------------------
def wait_for(app, condition, timeout: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not answer in time")
        app.processEvents()
        time.sleep(0.0005)


def open_app(model: Path):
    from gui.app.application import application
    from gui.app.main_window import MainWindow

    app = application()
    window = MainWindow()
    window.show()
    window.session.open_model(model)
    shown = []
    window.state_shown.connect(shown.append)
    wait_for(app, lambda: shown)
    return app, window, shown


def image_loading(app, window, shown, images: list[Path], repeats: int) -> None:
    from inspector import Inspector, load_image

    times, worker = [], []
    for k in range(repeats + 2):
        image = images[k % len(images)]
        count = len(shown)
        started = time.perf_counter()
        window.session.open_image(image)
        wait_for(app, lambda count=count: len(shown) > count and not window.session.worker.is_busy)
        window.repaint()
        if k >= 2:  # the first two include tracing the model's functions
            times.append(time.perf_counter() - started)
            worker.append(window.session.state.seconds)
    from inspector.engine.model_loading import load_model

    keras_model = load_model(window.session.requested.model_path)
    inspector = Inspector(keras_model)
    floor = []
    for k in range(repeats + 2):
        started = time.perf_counter()
        inspector.inspect(load_image(images[k % len(images)], keras_model))
        if k >= 2:
            floor.append(time.perf_counter() - started)
    report("2. load an image -> all views painted", times, floor, "<= 150 ms")
    print(
        f"   of which on the worker (decode, face crop, inspect): median "
        f"{statistics.median(worker) * 1000:.1f} ms"
    )


def layer_switching(app, window, repeats: int) -> None:
    window.tabs.setCurrentWidget(window.feature_view)
    names = [r.name for r in window.session.state.inspection.spatial_layers]
    times, floor = [], []
    for k in range(repeats * len(names)):
        name = names[k % len(names)]
        started = time.perf_counter()
        window.model_panel.select_layer(name)
        window.feature_view.graphics.repaint()
        times.append(time.perf_counter() - started)
    # Floor: only putting an already painted mosaic of the same layer on screen,
    # through the same ImageItem and widget.
    grid = window.feature_view
    for k in range(repeats * len(names)):
        window.model_panel.select_layer(names[k % len(names)])
        mosaic = grid.mosaic().copy()
        started = time.perf_counter()
        grid.grid_item.setImage(mosaic, autoLevels=False, levels=(0, 255))
        grid.graphics.repaint()
        floor.append(time.perf_counter() - started)
    report(f"3. switch layer -> grid painted ({len(names)} layers)", times, floor, "<= 50 ms")


# --- 4. stalls during training --------------------------------------------------------------
def heartbeat_gaps(app, seconds: float, until=None) -> list[float]:
    """Run the event loop for ``seconds`` with a 10 ms timer; the gaps between ticks."""
    from PyQt6.QtCore import QTimer

    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and (until is None or not until()):
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    return [b - a for a, b in itertools.pairwise(ticks)]


def training_stalls(app, window, seconds: float) -> None:
    tab = window.training_tab
    idle = heartbeat_gaps(app, 2.0)
    tab.runs_root = Path(tempfile.mkdtemp())
    tab.run_dir_edit.setText(str(tab.runs_root / "bench_run"))
    tab.epochs_spin.setValue(1000)  # stopped after ``seconds`` below
    tab.start()
    gaps = heartbeat_gaps(app, seconds, until=lambda: not tab.is_running)
    ran = tab.is_running
    tab.stop()
    worst, idle_worst = max(gaps), max(idle)
    print(
        f"4. longest event-loop stall while training     {worst * 1000:8.1f} ms over "
        f"{len(gaps)} ticks ({'training ran throughout' if ran else 'training ENDED early'}); "
        f"idle floor {idle_worst * 1000:.1f} ms; ratio {worst / idle_worst:.1f}x; "
        f"ticks over 100 ms: {sum(g > 0.1 for g in gaps)}; goal none over 100 ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument("--train-seconds", type=float, default=20.0)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--skip-cold", action="store_true")
    parser.add_argument("--model", type=Path, help="a .keras model instead of the bundled one")
    args = parser.parse_args()
    if args.model is not None:
        model, shipped, description = args.model, False, f"{args.model} (--model)"
    else:
        model, shipped, description = benchmark_model()
    print(
        f"model: {description}; platform: {os.environ['QT_QPA_PLATFORM']}; cpus: {os.cpu_count()}"
    )
    if not args.skip_cold:
        cold_start(model, shipped, args.cold_repeats)
    from gui.app.session import sample_images

    images = sample_images()
    app, window, shown = open_app(model)
    image_loading(app, window, shown, images, args.repeats)
    layer_switching(app, window, args.repeats)
    if not args.skip_training:
        training_stalls(app, window, args.train_seconds)
    window.close()


if __name__ == "__main__":
    main()
