"""Screenshots of the app for the README and the docs, taken on a real X server (Xvfb + xcb).

Opens the app as a user would (bundled model, first sample image), waits until
everything is computed and painted, then saves one PNG per tab into
docs/images/. The training tab is captured while a short training runs.
``--model`` opens another model instead (e.g. a 150-layer keras.applications
one) and ``--out``/``--size`` put its shots elsewhere at another window size.
Before the Units and Hierarchy shots the Units tab mines its data set (the
bundled faces, or ``--units-data FOLDER``: a few dozen images keep a 50-layer
model quick) and runs Network Dissection, so both show concepts. ``--only``
retakes some shots and leaves the others alone.

Run (Linux, packages listed in the README):
    xvfb-run -s "-screen 0 1600x1000x24" python benchmarks/take_screenshots.py
    xvfb-run -a -s "-screen 0 1366x768x24" python benchmarks/take_screenshots.py \
        --model /tmp/mnv2.keras --out /tmp/shots --size 1366x768 --skip-training
    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/take_screenshots.py \
        --only units,hierarchy --skip-training
    xvfb-run -a -s "-screen 0 1600x1000x24" python benchmarks/take_screenshots.py \
        --model /tmp/mnv2.keras --units-data /tmp/64_images --units-layer expanded_conv_project \
        --edges-only --only units,hierarchy --out /tmp/shots
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
OUT = ROOT / "docs" / "images"
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


def mine_and_dissect(window, app, data: str) -> None:
    """Mine every conv layer over ``data`` and dissect them, as the user would with
    the Units tab's Mine and Dissect buttons."""
    view = window.units_view
    if data.startswith("bundled"):
        view.data_combo.setCurrentIndex(view.data_combo.findData(data))
        view.request_mining()
    else:
        view.add_folder(data)
    wait_for(app, lambda: view.mined is not None, timeout=1800, what="unit mining")
    view.dissect_requested.emit()
    wait_for(app, lambda: view.dissection is not None, timeout=1800, what="dissection")


def show_labelled_unit(window, app, layer: str = "") -> None:
    """Open ``layer`` at its best-labelled unit, or without ``layer`` the strongest eye
    unit through Show me (as a student would), so the Units shot shows what the unit
    detects, and wait for its crops and feature visualisations (a minute per 16
    channels of a deep 224-px layer on two busy cores)."""
    view = window.units_view
    found = view.dissection.exemplars.get("eye", ())
    if found and not layer:
        window.tabs.setCurrentWidget(view)
        view.show_me_requested.emit("eye")
        wait_for(
            app,
            lambda: (
                (view.layer(), view.channel()) == (found[0].layer, found[0].channel)
                and found[0].layer in view.details
                and view.details[found[0].layer].visual(found[0].channel) is not None
            ),
            timeout=1800,
            what="the eye unit",
        )
        return
    layers = [d for d in view.dissection.layers if len(d.labels)]
    chosen = next((d for d in layers if d.layer == layer), layers[len(layers) // 2])
    channel = int(max(range(len(chosen.labels)), key=lambda c: float(chosen.scores[c])))
    view.select_unit(chosen.layer, channel)
    window.tabs.setCurrentWidget(view)  # the tab computes its crops only while shown
    wait_for(
        app,
        lambda: (
            chosen.layer in view.details and view.details[chosen.layer].visual(channel) is not None
        ),
        timeout=1800,
        what="the unit's crops and synthetic image",
    )


def overlay(window, app, path: Path) -> None:
    """Choose ``path`` in the chart's *Compare with*, as the user would, and wait for
    its dissection to be drawn dotted."""
    view = window.units_view
    window.units_controller.compare_with(str(path))
    wait_for(app, lambda: view.overlay is not None, timeout=1800, what="the overlaid dissection")
    wait_for(app, lambda: not window.session.worker.is_busy, what="the overlay")


def capture_compare(window, app, out: Path = OUT) -> None:
    """Press *Compute all* on the Attribution tab's *Compare all* page and save it
    once every method's map is drawn."""
    view = window.attribution_view
    window.tabs.setCurrentWidget(view)
    view.pages.setCurrentWidget(view.compare_view)
    view.compare_view.request_all()
    wait_for(app, lambda: not view.compare_view.is_running, timeout=1800, what="Compare all")
    save(window, app, "compare", out)
    view.pages.setCurrentIndex(0)


def capture_trust(window, app, out: Path = OUT, method: str = "saliency") -> None:
    """Check ``method`` on the Trust tab, as a user pressing *Check this method*."""
    view = window.trust_view
    window.tabs.setCurrentWidget(view)
    view.select_method(method)
    view.check_button.click()
    wait_for(app, lambda: view.verdict_label.text() != "", timeout=1800, what="the Trust check")
    save(window, app, "trust", out)


def capture_live(window, app, video: str, out: Path = OUT) -> None:
    """Play ``video`` (``clip``: a face moving across the frame, written here) in live
    mode and save the Units and Feature maps tabs while frames stream in."""
    live = window.live_controller
    live.frozen_root = Path(tempfile.mkdtemp())
    if video == "clip":
        from tests.inspector.live.video import write_video

        video = str(write_video(Path(tempfile.mkdtemp()) / "clip.avi", count=300, cut=280))
    for tab, name in ((window.units_view, "live_units"), (window.feature_view, "live")):
        window.tabs.setCurrentWidget(tab)
        if not live.start(video):
            raise RuntimeError(f"live did not start on {video}")
        wait_for(app, lambda: live.shown >= 40, what="live frames")
        save(window, app, name, out)
        live.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-seconds", type=float, default=40.0)
    parser.add_argument("--skip-training", action="store_true")
    parser.add_argument("--model", type=Path, help="a .keras model instead of the bundled one")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs")
    parser.add_argument("--size", default="x".join(map(str, SIZE)), help="window WxH")
    parser.add_argument(
        "--units-data",
        default="bundled-natural",
        help="a bundled set (bundled-natural, bundled-faces, bundled) or a folder of images",
    )
    parser.add_argument("--units-layer", default="", help="the layer the Units shot shows")
    parser.add_argument(
        "--live",
        metavar="VIDEO|clip",
        help="also shoot live mode on a video (clip: a generated face clip) as live*.png",
    )
    parser.add_argument(
        "--edges-only",
        action="store_true",
        help="dissect on the synthetic edges only (the face masks take long at 224 px)",
    )
    parser.add_argument(
        "--only", default="", help="comma-separated shot names (e.g. units,hierarchy)"
    )
    parser.add_argument(
        "--compare-with",
        type=Path,
        help="a model whose detector lines the Units chart overlays (dotted)",
    )
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
        "Units": "units",
        "Backprop": "backprop",
        "Neuron": "neuron",
        "Attribution": "attribution",
        "Weight updates": "weight_updates",
    }
    extras = {"compare", "trust"}  # pressed buttons, not just opened tabs
    wanted = set(args.only.split(",")) if args.only else set(names.values()) | extras
    if args.edges_only:
        window.units_controller.concepts = None
    if wanted & {"units", "hierarchy"}:
        mine_and_dissect(window, app, args.units_data)
        show_labelled_unit(window, app, args.units_layer)
        if args.compare_with:
            overlay(window, app, args.compare_with)
    for index in range(window.tabs.count()):
        title = window.tabs.tabText(index)
        if names.get(title) in wanted:
            window.tabs.setCurrentIndex(index)
            wait_for(app, lambda: not window.session.worker.is_busy, what=title)
            save(window, app, names[title], args.out)
    if "compare" in wanted:
        capture_compare(window, app, args.out)
    if "trust" in wanted:
        capture_trust(window, app, args.out)
    if args.live:
        capture_live(window, app, args.live, args.out)
    if not args.skip_training and (not args.only or "training" in wanted):
        capture_training(window, app, args.train_seconds, args.out)
    window.close()


if __name__ == "__main__":
    main()
