"""Screenshots of the app for the README, taken on a real X server (Xvfb + xcb).

Opens the app as a user would (bundled model, first sample image), waits until
everything is computed and painted, then saves one PNG per tab into
gui/screenshots/. The training tab is captured while a short training runs.
``--model`` opens another model instead (e.g. a 150-layer keras.applications
one) and ``--out``/``--size`` put its shots elsewhere at another window size.

Run (Linux, packages listed in the README):
    xvfb-run -s "-screen 0 1600x1000x24" python benchmarks/take_screenshots.py
    xvfb-run -a -s "-screen 0 1366x768x24" python benchmarks/take_screenshots.py \
        --model /tmp/mnv2.keras --out /tmp/shots --size 1366x768 --skip-training
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


def save(window, app, name: str, out: Path = OUT) -> Path:
    settle(app)
    path = out / f"{name}.png"
    if not window.grab().save(str(path), "PNG"):
        raise OSError(f"could not write {path}")
    print(f"wrote {path}")
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


def capture_training(window, app, seconds: float, out: Path = OUT) -> None:
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
    save(window, app, "training", out)
    tab.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seconds", type=float, default=40.0)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--model", type=Path, help="a .keras model instead of the bundled one")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    parser.add_argument("--size", default="x".join(map(str, SIZE)), help="window WxH")
    args = parser.parse_args()
    from PyQt6.QtCore import QSettings

    from gui.app.application import application, open_window

    # A fresh settings folder: the shots start from the defaults, not from what the
    # user's last session remembered, and the user's settings stay untouched.
    for settings_format in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = application()
    if app.platformName() != "xcb":
        print(f"warning: platform {app.platformName()!r}, not xcb (run under xvfb-run)")
    args.out.mkdir(parents=True, exist_ok=True)
    window = open_window(args.model)
    window.resize(*(int(v) for v in args.size.split("x")))
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
            save(window, app, names[title], args.out)
    if not args.skip_training:
        capture_training(window, app, args.train_seconds, args.out)
    window.close()


if __name__ == "__main__":
    main()
