"""Benchmark: live mode end to end, against the engine alone on the same frames.

It writes its own 640x480 MJPG video (a bundled face photo moving across a
noisy background, then a face-free stretch, repeated), opens the app headless on
a model, and plays the video through *File > Live* twice:

* **realtime**: at the video's 30 fps, as a camera would give it. Reported: the
  frames painted per second (frames painted over the run's duration), the
  latency from a frame's decoding to the end of its paint (median and 95th
  percentile), the frames dropped, the longest stall of the GUI event loop
  (a 10 ms timer's largest gap), and the RSS at the start and the end;
* **unpaced**: each frame decoded as soon as the previous one was taken, so the
  pipeline is the limit (no frame dropped, none waiting). Its rate is the
  throughput compared with the floor.

The floor, measured in the same process on the same model: the engine alone on
the same decoded frames, with the same crops (the tracker's boxes, computed
beforehand) and the same pass (``prepare_image`` then ``Inspector.inspect``), with
no decoding, no tracking and no painting; the median time per frame, inverted.

The last line is exactly
``live: fps=<f> latency_median_ms=<f> latency_p95_ms=<f> ratio=<f> model=<name>``
with fps and latency from the realtime run and ratio = unpaced rate / floor rate.

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_live.py [--model M.keras]
     [--seconds 20] [--minutes 10 (memory over a long run)]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FPS = 30
TICK_MS = 10


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_clip(path: Path, seconds: float) -> Path:
    """A 640x480 clip: 4 s of a moving face, 1 s without, repeated for ``seconds``."""
    import cv2
    import numpy as np

    from tests.inspector.live.video import frames

    cycle = frames(5 * FPS, 4 * FPS)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (640, 480))
    for number in range(int(seconds * FPS)):
        writer.write(np.ascontiguousarray(cycle[number % len(cycle)][..., ::-1]))
    writer.release()
    return path


def play(app, window, clip: Path, realtime: bool) -> dict:
    """Play ``clip`` through live mode; figures of the run."""
    import numpy as np
    from PyQt6.QtCore import QEventLoop, QTimer

    live = window.live_controller
    live.realtime = realtime
    paints: list[float] = []
    window.state_shown.connect(lambda s: paints.append(time.perf_counter()) if s.live else None)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    rss_start = rss_mb()
    timer.start()
    assert live.start(str(clip)), "live did not start"
    read = [0]
    samples: list[tuple[float, float]] = []  # (seconds, RSS MB) every 10 s
    started = time.perf_counter()
    loop = QEventLoop()  # the app's own event loop, as app.exec() runs it

    def check() -> None:
        if live.running:
            read[0] = live.source.frames_read
            now = time.perf_counter() - started
            if not samples or now - samples[-1][0] >= 10:
                samples.append((now, rss_mb()))
        else:
            loop.quit()

    watch = QTimer()
    watch.setInterval(50)
    watch.timeout.connect(check)
    watch.start()
    loop.exec()
    watch.stop()
    timer.stop()
    read = read[0]
    gaps = np.diff(paints)
    latencies = np.array(live.latencies) * 1000
    return {
        "fps": (len(paints) - 1) / (paints[-1] - paints[0]) if len(paints) > 1 else 0.0,
        "median_gap_ms": float(np.median(gaps) * 1000) if len(gaps) else 0.0,
        "latency_median": float(np.median(latencies)),
        "latency_p95": float(np.percentile(latencies, 95)),
        "latency_max": float(latencies.max()),
        "shown": live.shown,
        "read": read,
        "stall_ms": float(np.diff(ticks).max() * 1000) if len(ticks) > 1 else 0.0,
        "rss_start": rss_start,
        "rss_end": rss_mb(),
        "rss_samples": samples,
    }


def floor_rate(model_path: Path, clip: Path, count: int = 150) -> float:
    """Frames per second of prepare + inspect alone on ``count`` decoded frames."""
    from PIL import Image

    import inspector
    from inspector.engine.crop_policy import CropChoice
    from inspector.engine.image_loading import prepare_image
    from inspector.live.frames import FrameSource, parse_source
    from inspector.live.tracker import FaceTracker

    model = inspector.load_model(model_path)
    engine = inspector.Inspector(model)
    height, width = engine.input_shape[:2]
    source = FrameSource(parse_source(str(clip)), realtime=False)
    frames = [source.latest().pixels]
    while len(frames) < count and (frame := source.step()) is not None:
        frames.append(frame.pixels)
    source.close()
    tracker = FaceTracker(width / height)
    boxes = [CropChoice(tracker.update(f).box, "face").loader_box for f in frames]
    times = []
    for index, (pixels, box) in enumerate(zip(frames, boxes, strict=True)):
        started = time.perf_counter()
        prepared = prepare_image(Image.fromarray(pixels), f"frame {index}", model, crop=box)
        engine.inspect(prepared)
        if index >= 5:  # the first passes trace and warm up
            times.append(time.perf_counter() - started)
    return 1.0 / statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a .keras model (default: the bundled one)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the clip")
    parser.add_argument("--minutes", type=float, help="instead: one realtime run this long")
    args = parser.parse_args()

    from PyQt6.QtCore import QSettings

    import inspector
    from gui.app.application import application
    from gui.app.main_window import MainWindow

    model_path = args.model or inspector.bundled_model_path()
    scratch = Path(tempfile.mkdtemp(prefix="bench-live-"))
    seconds = args.minutes * 60 if args.minutes else args.seconds
    clip = write_clip(scratch / "clip.avi", seconds)
    app = application()
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    window.resize(1366, 740)
    window.show()
    window.live_controller.frozen_root = scratch / "frozen"
    window.session.start(model_path)
    while window.session.state is None:
        app.processEvents()
        time.sleep(0.01)
    name = window.session.state.inspection.model_name
    print(f"model {name} ({model_path.name}), clip {seconds:.0f} s at {FPS} fps, 640x480")

    realtime = play(app, window, clip, realtime=True)
    print(
        f"realtime: {realtime['fps']:.1f} fps (median gap {realtime['median_gap_ms']:.1f} ms), "
        f"latency median {realtime['latency_median']:.1f} ms, p95 {realtime['latency_p95']:.1f} "
        f"ms, max {realtime['latency_max']:.1f} ms; {realtime['shown']} of {realtime['read']} "
        f"frames painted ({realtime['read'] - realtime['shown']} dropped); longest GUI stall "
        f"{realtime['stall_ms']:.0f} ms; RSS {realtime['rss_start']:.0f} -> "
        f"{realtime['rss_end']:.0f} MB"
    )
    if args.minutes:  # is it flat? RSS at each tenth of the run
        step = max(1, len(realtime["rss_samples"]) // 10)
        marks = ", ".join(f"{s / 60:.1f} min {m:.0f}" for s, m in realtime["rss_samples"][::step])
        print(f"RSS (MB) over the run: {marks}")
    ratio = float("nan")
    if not args.minutes:
        unpaced = play(app, window, clip, realtime=False)
        floor = floor_rate(model_path, clip)
        ratio = unpaced["fps"] / floor
        print(
            f"unpaced: {unpaced['fps']:.1f} fps (median gap {unpaced['median_gap_ms']:.1f} ms), "
            f"latency median {unpaced['latency_median']:.1f} ms; floor (prepare + inspect "
            f"alone, same frames and crops): {floor:.1f} fps; ratio {ratio:.2f}"
        )
    window.close()
    print(
        f"live: fps={realtime['fps']:.2f} latency_median_ms={realtime['latency_median']:.2f} "
        f"latency_p95_ms={realtime['latency_p95']:.2f} ratio={ratio:.3f} model={name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
