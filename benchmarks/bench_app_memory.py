"""Benchmark: the app's resident memory on MobileNetV2 over images and attributions.

Issue 10's goal: the app stays under 1.5 GB resident (VmRSS) after 5 images and
every attribution method on MobileNetV2 (``weights=None``). The figure is
printed with its floor, measured in the same run: the resident memory once the
model is loaded and the first image fully shown (what the app needs at all).
Every step waits until its answer is painted in the window (offscreen), as a
user would, and reads ``/proc/self/status`` after a ``gc.collect()``.

Steps: open MobileNetV2 on a first sample (floor), then 5 images (each with the
Attribution tab's automatic map), then *Compare all* (every registered method,
default options) on the last image, then 5 more images (do old answers let go?).

Run: python benchmarks/bench_app_memory.py [--model /tmp/mnv2.keras] [--skip-compare]
     [--no-batch-limit]  (the methods' own batch sizes: the figure before the fix)
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_GB = 1.5


def resident_gb() -> float:
    """VmRSS of this process in GB (10^9 bytes), after a garbage collection."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e9
    raise OSError("no VmRSS in /proc/self/status")


def mobilenet_file(folder: Path) -> Path:
    """MobileNetV2 (weights=None, 224x224, 1000 classes) saved as .keras."""
    import keras

    keras.utils.set_random_seed(0)
    path = folder / "mobilenet_v2.keras"
    keras.applications.MobileNetV2(weights=None).save(path)
    return path


def wait(app, condition, what: str, timeout: float = 1800.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what} took more than {timeout:.0f} s")
        app.processEvents()
        time.sleep(0.01)


def show(window, app, action, what: str) -> float:
    """Run ``action``, wait for the new state and for the worker to be idle.

    Counts states with a counter, not by keeping them: a list of states (or a
    ``list.append`` slot, which PyQt keeps alive after ``disconnect``) would keep
    every old inspection alive and measure the benchmark's own leak.
    """
    before = window.states_painted
    started = time.perf_counter()
    action()
    wait(
        app,
        lambda: window.states_painted > before and not window.session.worker.is_busy,
        what,
    )
    window.repaint()
    return time.perf_counter() - started


class _Rows(list):
    """The table, printed row by row as it grows (a long run shows its progress)."""

    def append(self, row) -> None:
        if not self:
            print(f"{'step':44s} {'VmRSS GB':>9s} {'seconds':>8s}", flush=True)
        name, gb, secs = row
        print(f"{name:44s} {gb:9.2f} {secs:8.1f}", flush=True)
        super().append(row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a .keras file (default: MobileNetV2)")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument(
        "--no-batch-limit",
        action="store_true",
        help="the methods' own batch sizes (the app before its memory bound), for comparison",
    )
    args = parser.parse_args()
    if args.no_batch_limit:
        from inspector.attribution import _helpers

        _helpers.BATCH_MEMORY = 2**62
    from PyQt6.QtCore import QSettings

    from gui.app.application import application
    from gui.app.main_window import MainWindow
    from gui.app.session import sample_images

    folder = Path(tempfile.mkdtemp())
    model = args.model or mobilenet_file(folder)
    app = application()
    settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.states_painted = 0

    def count(_state) -> None:
        window.states_painted += 1

    window.state_shown.connect(count)
    window.show()
    images = sample_images()
    rows = _Rows()
    rows.append(("empty window", resident_gb(), 0.0))
    seconds = show(window, app, lambda: window.open_model_file(model), "opening the model")
    floor = resident_gb()
    rows.append(("model + first image (floor)", floor, seconds))
    for index in range(5):
        path = images[index % len(images)]
        seconds = show(window, app, lambda p=path: window.open_image_file(p), path.name)
        rows.append((f"image {index + 1}: {path.name}", resident_gb(), seconds))
    if not args.skip_compare:
        compare = window.attribution_view.compare_view
        started = time.perf_counter()
        compare.request_all()
        wait(app, lambda: not compare.is_running and not window.session.worker.is_busy, "compare")
        failed = f", {len(compare._failures)} failed" if compare._failures else ""
        label = f"every method ({len(compare.results)} maps{failed})"
        rows.append((label, resident_gb(), time.perf_counter() - started))
    after_all = rows[-1][1]
    for index in range(5):
        path = images[(index + 1) % len(images)]
        seconds = show(window, app, lambda p=path: window.open_image_file(p), path.name)
        rows.append((f"again {index + 1}: {path.name}", resident_gb(), seconds))
    window.close()
    print(f"model: {model}")
    peak = max(gb for _, gb, _ in rows)
    print(
        f"after 5 images + every method: {after_all:.2f} GB (goal < {GOAL_GB} GB); "
        f"floor {floor:.2f} GB; ratio {after_all / floor:.2f}; peak {peak:.2f} GB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
