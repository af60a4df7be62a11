"""Rebuild the shipped default model and run: ``python -m models.make_default``.

Runs ``layer-inspector train`` (the same ``run_train`` the CLI calls) with the
fixed seed into a scratch directory, measures it, refuses to ship a model below
``REQUIRED_ACCURACY`` on held-out faces or non-faces or one that misreads a
sample image, and otherwise ships:

* ``models/default/face_cnn.keras``: the trained model, labels inside;
* ``models/default/face_cnn.json``: how it was made, its training time, and
  the figures the README states (held-out faces and non-faces, per person and
  kind, calibration error, the sample images' verdicts, the false-positive rate
  on rendered face-free scenes); tests rebuild them from the data alone;
* ``models/default/run/``: the recorded run, without its resumable checkpoint
  and duplicate model (the two largest files), so the repository stays small.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from models.checkpoint import CHECKPOINT_FILE, FINAL_MODEL_FILE
from models.default_model import DEFAULT_DIR, default_model_path, default_run_path
from models.train_command import add_train_parser

SEED = 0
REQUIRED_ACCURACY = 0.97  # on held-out faces AND on held-out non-faces, each
INFO_FILE = "face_cnn.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.make_default")
    add_train_parser(parser.add_subparsers(dest="command"))
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = Path(scratch) / "run"
        command = ["train", "--seed", str(SEED), "--out", str(run_dir), *(argv or [])]
        args = parser.parse_args(command)
        started = time.perf_counter()
        args.run(args)
        seconds = time.perf_counter() - started
        accuracy, count = _held_out_accuracy(run_dir / FINAL_MODEL_FILE)
        measured = _measure(run_dir / FINAL_MODEL_FILE)
        refusal = _refusal(measured)
        if refusal:
            print(f"Not shipped: {refusal}.")
            return 1
        _ship(run_dir, command, accuracy, count, seconds, measured)
    return 0


def _held_out_accuracy(model_path: Path) -> tuple[float, int]:
    from inspector.engine.model_loading import load_model
    from models.bundled_data import bundled_face_data
    from models.training import held_out_accuracy

    held_out = bundled_face_data().held_out
    return held_out_accuracy(load_model(model_path), held_out), len(held_out)


def _measure(model_path: Path) -> dict:
    """The figures the README states: held-out by kind and person, ECE, samples, FPR."""
    from inspector.engine.model_loading import load_model
    from models.bundled_data import bundled_face_data
    from models.evaluation import (
        held_out_report,
        jittered_held_out_faces,
        sample_verdicts,
        unseen_false_positive_rate,
    )

    model = load_model(model_path)
    return {
        "held_out": held_out_report(model, bundled_face_data()),
        "held_out_faces_jittered": jittered_held_out_faces(model),
        "samples": sample_verdicts(model),
        "unseen_face_free": unseen_false_positive_rate(model),
    }


def _refusal(measured: dict) -> str:
    """Why the model must not ship, or "" when it meets every bar."""
    held = measured["held_out"]
    for kind in ("faces", "non_faces"):
        if held[kind] < REQUIRED_ACCURACY:
            return f"held-out {kind} {held[kind]:.1%} < {REQUIRED_ACCURACY:.0%}"
    wrong = [v["file"] for v in measured["samples"] if v["predicted"] != v["expected"]]
    if wrong:
        return f"sample image(s) misread: {', '.join(wrong)}"
    return ""


def _fit_seconds(run_dir: Path) -> float:
    # From the recorder's own timestamps: training start to the last epoch's end.
    from inspector.recording.run_writer import RECORDS_FILE

    lines = (run_dir / RECORDS_FILE).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    start = next(r["time"] for r in records if r["kind"] == "start")
    return max(r["time"] for r in records if r["kind"] == "epoch") - start


def _ship(
    run_dir: Path, command: list[str], accuracy: float, count: int, seconds: float, measured: dict
) -> None:
    shutil.rmtree(default_run_path(), ignore_errors=True)
    DEFAULT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy2(run_dir / FINAL_MODEL_FILE, default_model_path())
    leave_out = shutil.ignore_patterns(CHECKPOINT_FILE, FINAL_MODEL_FILE)
    shutil.copytree(run_dir, default_run_path(), ignore=leave_out)
    info = {
        "command": " ".join(["layer-inspector", *command[:3], "--out RUN_DIR", *command[5:]]),
        "seed": SEED,
        "held_out_accuracy": accuracy,
        "held_out_images": count,
        "train_command_seconds": round(seconds, 1),
        "fit_seconds": round(_fit_seconds(run_dir), 1),
        "note": "Times measured once on the machine that built it (see README).",
        **measured,
    }
    (DEFAULT_DIR / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    print(f"Shipped {default_model_path()} ({accuracy:.1%} held-out) and {default_run_path()}.")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
