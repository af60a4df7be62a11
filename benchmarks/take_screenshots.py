"""Screenshots of the app for the README, taken on a real X server (Xvfb + xcb).

Opens the app as a user would (bundled model, first sample image), waits until
everything is computed and painted, then saves one PNG per tab into
gui/screenshots/. The training tab is captured while a short training runs.

Run (Linux, packages listed in the README):
    xvfb-run -s "-screen 0 1600x1000x24" python benchmarks/take_screenshots.py
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "gui" / "screenshots"
SIZE = (1560, 940)


def settle(app, seconds: float = 0.3) -> None:
    """Let Qt lay out and paint (animations, deferred pyqtgraph range updates)."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.01)


def wait_for(app, condition, timeout: float = 180.0, what: str = "the app") -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} did not get ready within {timeout:.0f} s")
        app.processEvents()
        time.sleep(0.01)


def save(window, app, name: str) -> Path:
    settle(app)
    path = OUT / f"{name}.png"
    if not window.grab().save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    print(f"wrote {path.relative_to(ROOT)}")
    return path


def show_receptive_field(window, app) -> None:
    """Open a mid-level conv layer and hover its strongest unit, so the shot shows
    the receptive-field rectangle on the input."""
    inspection = window.session.state.inspection
    convs = [r for r in inspection.spatial_layers if "Conv" in r.class_name]
    record = convs[len(convs) // 2] if convs else inspection.spatial_layers[0]
    window.model_panel.select_layer(record.name)
    settle(app)
    channel = window.feature_view.channel
    maps = record.activation[..., channel]
    row, col = (int(v) for v in divmod(int(maps.argmax()), maps.shape[1]))
    window.feature_view.hover_unit(channel, row, col)


def capture_training(window, app, seconds: float) -> None:
    tab = window.training_tab
    window.tabs.setCurrentWidget(tab)
    tab.runs_root = Path(tempfile.mkdtemp())
    tab.run_dir_edit.setText(str(tab.runs_root / "screenshot_run"))
    tab.epochs_spin.setValue(3)
    tab.start()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline and tab.is_running:
        app.processEvents()
        time.sleep(0.02)
    save(window, app, "training")
    tab.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seconds", type=float, default=40.0)
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    from gui.app.application import application, open_window

    app = application()
    if app.platformName() != "xcb":
        print(f"warning: platform {app.platformName()!r}, not xcb (run under xvfb-run)")
    OUT.mkdir(parents=True, exist_ok=True)
    window = open_window()
    window.resize(*SIZE)
    wait_for(app, lambda: window.session.state is not None, what="the first inspection")
    wait_for(app, lambda: not window.session.worker.is_busy, what="the follow-up jobs")
    view = window.weight_updates_view
    if view is not None:
        wait_for(app, lambda: view.run is not None, what="the default training run")
    show_receptive_field(window, app)
    names = {
        "Feature maps": "feature_maps",
        "Hierarchy": "hierarchy",
        "Backprop": "backprop",
        "Neuron": "neuron",
        "Attribution": "attribution",
        "Weight updates": "weight_updates",
    }
    for index in range(window.tabs.count()):
        title = window.tabs.tabText(index)
        if title in names:
            window.tabs.setCurrentIndex(index)
            wait_for(app, lambda: not window.session.worker.is_busy, what=title)
            save(window, app, names[title])
    if not args.skip_training:
        capture_training(window, app, args.train_seconds)
    window.close()


if __name__ == "__main__":
    main()
