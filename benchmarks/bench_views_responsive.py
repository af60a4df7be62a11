"""Benchmark: does the window keep answering while the Trust and Units jobs run?

A 10 ms QTimer ticks on the GUI thread. The gap between two ticks is how long
the event loop was blocked (a click waits at most that long). Measured:

* floor: the window idle (the same timer, the same event loop, no job);
* trust: while the Trust tab checks Grad-CAM on the open image (curves and the
  randomisation cascade, on the worker);
* units: while the Units tab mines a data set and computes one layer's crops and
  visualisations (on the worker).

Prints the median and the maximum tick gap of each, and each one's ratio to the
floor. Every run uses the same timer and the same per-tick overhead; only the
worker's job differs. Goal: no gap a user would feel (max under ~100 ms).

Run: xvfb-run -a python benchmarks/bench_views_responsive.py [--model M.keras]
     (or QT_QPA_PLATFORM=offscreen)
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The app's remembered state goes to a scratch folder (children inherit it): a
# benchmark neither reads nor overwrites the user's own settings.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="bench-settings-")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICK_MS = 10


def gaps_while(app, busy, seconds: float | None = None) -> list[float]:
    """Tick gaps (ms) while ``busy()`` is True, or for ``seconds`` when given."""
    from PyQt6.QtCore import QTimer

    stamps: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
    timer.start(TICK_MS)
    end = time.perf_counter() + (seconds or 1e9)
    while busy() if seconds is None else time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    timer.stop()
    return [1000 * (b - a) for a, b in itertools.pairwise(stamps)]


def describe(name: str, gaps: list[float], floor: float) -> None:
    median, worst = statistics.median(gaps), max(gaps)
    print(
        f"{name:6s} ticks {len(gaps):5d}  median gap {median:6.1f} ms ({median / floor:4.2f}x "
        f"floor)  max gap {worst:6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="default: the bundled face model")
    parser.add_argument("--images", type=int, default=2000, help="images to mine")
    parser.add_argument("--layer", help="the layer chosen once mining is done (default: first)")
    parser.add_argument("--channel", type=int, default=0, help="the channel chosen with it")
    args = parser.parse_args()
    import numpy as np

    from gui.app.application import application, open_window
    from models.default_model import default_model_path

    os.environ["LAYER_INSPECTOR_CACHE"] = tempfile.mkdtemp()  # mine for real, no cache
    app = application()
    window = open_window(args.model or default_model_path())
    idle = lambda: window.session.state is None or window.session.worker.is_busy  # noqa: E731
    gaps_while(app, idle)
    floor_gaps = gaps_while(app, lambda: False, seconds=3.0)
    floor = statistics.median(floor_gaps)
    describe("floor", floor_gaps, floor)
    window.tabs.setCurrentWidget(window.trust_view)
    window.trust_view.select_method("gradcam")
    window.trust_view.check_button.click()
    describe("trust", gaps_while(app, lambda: window.session.worker.is_busy), floor)
    rng = np.random.default_rng(0)
    shape = (args.images, *window.session.state.inspection.image.shape)
    data = rng.integers(0, 256, shape, dtype=np.uint8)  # what the images provider returns
    window.units_controller.images = lambda name, shape: SimpleNamespace(images=data, is_face=None)
    window.tabs.setCurrentWidget(window.units_view)
    window.units_view.mine_button.click()
    view = window.units_view
    marks: dict[str, float] = {}

    def until_synthetic() -> bool:
        """Busy until the chosen channel's synthetic image is in; notes when each
        stage reached the screen."""
        now = time.perf_counter()
        if view.mined is not None and "mined" not in marks:
            marks["mined"] = now
            if args.layer:  # chosen as a user would, once the layers are listed
                view.select_unit(args.layer, args.channel)
        detail = view.details.get(view.layer())
        if detail is not None:
            marks.setdefault("crops", now)
            if detail.visual(view.channel()) is not None:
                marks.setdefault("synthetic", now)
                return False
        return True

    started = time.perf_counter()
    describe("units", gaps_while(app, until_synthetic), floor)
    mined = marks["mined"]
    print(
        f"units on {view.layer()} channel {view.channel()}: mined in {mined - started:.1f} s; "
        f"then its crops on screen after {marks['crops'] - mined:.1f} s (goal 3 s) and its "
        f"synthetic image after {marks['synthetic'] - mined:.1f} s (goal 15 s)"
    )
    window.close()


if __name__ == "__main__":
    main()
