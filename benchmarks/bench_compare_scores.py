"""Benchmark: the Compare grid's AUC job against the forward passes it cannot avoid.

The job (``gui.jobs.compare_scores.score_maps``, the exact worker function)
plays deletion and insertion for every registered method's map on one image,
with the random and centre controls, computed once per job: n + 2 maps x 2 x 21
images through ``Inspector.predict``. The floor is n + 2 calls of ``predict`` on
the same 42 images (same per-call overheads: one dispatch of the same traced
function, NumPy in and out). Calling ``curves_with_controls`` per method would
cost 3n passes; that is printed too. Medians of interleaved repeats; the ratio says what the
ranking, the masks, the substrate and the job's bookkeeping add.

Run: python benchmarks/bench_compare_scores.py [--repeats 7] [--model PATH] [--image PATH]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from bench_trust import sample_inspection  # noqa: E402

from gui.jobs.compare_scores import score_maps  # noqa: E402
from gui.jobs.trust_jobs import CURVE_STEPS  # noqa: E402
from inspector import compute_attribution  # noqa: E402
from inspector.attribution import method_names  # noqa: E402


class _Control:
    """The job's progress and cancel hooks, doing nothing (as the GUI's nearly do)."""

    def progress(self, done: int, total: int, what: str = "") -> None:
        pass

    def cancelled(self) -> bool:
        return False


def main() -> None:
    args, _, inspector, inspection = sample_inspection(__doc__.splitlines()[0], 7)
    asked = tuple(
        ((method,), method, compute_attribution(method, inspection, inspector).heatmap)
        for method in method_names()
    )
    context = SimpleNamespace(state=SimpleNamespace(inspection=inspection), inspector=inspector)
    batch = np.repeat(inspection.image[None], 2 * (CURVE_STEPS + 1), axis=0)

    def floor(passes: int = len(asked) + 2) -> None:
        for _ in range(passes):
            inspector.predict(batch, inspection.output_index)

    for _ in range(2):  # trace and warm both
        floor()
        score_maps(context, _Control(), asked)
    measured, floors, naive = [], [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        floor()
        floors.append(time.perf_counter() - started)
        started = time.perf_counter()
        floor(3 * len(asked))
        naive.append(time.perf_counter() - started)
        started = time.perf_counter()
        score_maps(context, _Control(), asked)
        measured.append(time.perf_counter() - started)
    job, base = statistics.median(measured), statistics.median(floors)
    print(f"model {args.model.name}, input {inspection.image.shape}, {args.repeats} repeats")
    print(
        f"AUCs of {len(asked)} maps with both controls: {job * 1e3:.1f} ms; floor "
        f"({len(asked) + 2} predicts of {len(batch)} images): {base * 1e3:.1f} ms; "
        f"ratio {job / base:.2f}x; 3n predicts (controls per method) would take at least "
        f"{statistics.median(naive) * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
