"""Benchmark: the `inspect` command a researcher types first, on real architectures.

For each model (``keras.applications`` at 224 px, ``weights=None``, saved to a
temporary ``.keras``), runs ``layer-inspector inspect IMAGE --model M --out OUT``
as a user would, in a fresh process: start-up, loading, the inspection pass,
the attribution maps and the writing all count. Reports per model the median
wall time of ``--repeats`` runs, the child's peak resident memory (its own
``VmHWM``), the share of the time that is the inspection pass itself, and each
method's seconds (from ``summary.json``). ``--all`` runs ``--methods all`` once
per model too.

Run: python benchmarks/bench_inspect_command.py [--models resnet50,convnext,mobilenet]
     [--repeats 3] [--all]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "sample_images" / "grace_hopper.jpg"
BUILDERS = {
    "resnet50": "ResNet50",
    "convnext": "ConvNeXtTiny",
    "mobilenet": "MobileNetV2",
}
# The child reports its own peak: a parent's ru_maxrss of children starts at its own.
CHILD = """
import resource, sys
from layer_inspector.console import main
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(line for line in status if line.startswith("VmHWM"))
print("PEAK_KB", int(peak.split()[1]), file=sys.stderr)
sys.exit(code)
"""


def save_model(name: str, folder: Path) -> Path:
    path = folder / f"{name}.keras"
    if not path.exists():
        code = (
            f"import keras; keras.applications.{BUILDERS[name]}(weights=None).save({str(path)!r})"
        )
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return path


def run_once(model: Path, out: Path, extra: list[str]) -> dict:
    argv = ["inspect", str(IMAGE), "--model", str(model), "--out", str(out), *extra]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, cwd=ROOT
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    peak = next(
        int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK_KB")
    )
    timings = json.loads((out / "summary.json").read_text())["timings"]
    return {"wall": wall, "peak_mb": peak / 1024, "timings": timings}


def method_seconds(run: dict) -> dict[str, float]:
    """method -> seconds, from one run's ``summary.json`` timings."""
    prefix = "attribution/"
    return {k[len(prefix) :]: v for k, v in run["timings"].items() if k.startswith(prefix)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(BUILDERS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--all", action="store_true", help="also run --methods all once")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    for name in args.models.split(","):
        model = save_model(name, folder)
        runs = [run_once(model, folder / f"{name}_{i}", []) for i in range(args.repeats)]
        walls = [r["wall"] for r in runs]
        middle = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
        passed = middle["timings"]["pass"] + middle["timings"].get("to_numpy", 0.0)
        methods = method_seconds(middle)
        print(
            f"{name}: default inspect {statistics.median(walls):.1f} s median "
            f"({min(walls):.1f}-{max(walls):.1f}), peak {max(r['peak_mb'] for r in runs):,.0f} MB; "
            f"the inspection pass {passed:.2f} s ({passed / middle['wall']:.0%})"
        )
        print("   methods: " + ", ".join(f"{m} {s:.2f} s" for m, s in methods.items()))
        if args.all:
            full = run_once(model, folder / f"{name}_all", ["--methods", "all"])
            methods = method_seconds(full)
            print(
                f"   --methods all: {full['wall']:.0f} s, peak {full['peak_mb']:,.0f} MB; "
                + ", ".join(f"{m} {s:.1f} s" for m, s in methods.items())
            )


if __name__ == "__main__":
    main()
