"""Rebuild a shipped network and its run: ``python -m models.training.make_default [--task T]``.

``--task detector`` (the default) rebuilds the face detector; ``--task
recognizer`` the face recogniser (see the end of this docstring).

Runs ``layer-inspector train`` (the same ``run_train`` the CLI calls) with the
fixed seed into a scratch directory, measures it, refuses to ship a model below
``REQUIRED_ACCURACY`` on held-out faces or non-faces or one that misreads a
sample image, and otherwise ships:

* ``models/default/face_cnn.keras``: the trained model, labels inside;
* ``models/default/face_cnn.json``: how it was made, its training time, and
  the figures docs/face-model.md states (held-out faces and non-faces, per person and
  kind, calibration error, the sample images' verdicts, the false-positive rate
  on rendered face-free scenes); tests rebuild them from the data alone;
* ``models/default/run/``: the recorded run, without its resumable checkpoint
  and duplicate model (the two largest files), so the repository stays small.

The recogniser (``models/recognizer/``) is trained by the same command with
``--task recognizer --epochs 20``, refused below ``RECOGNIZER_ACCURACY`` top-1 on
its 80 held-out photos, and shipped with its "unknown person" threshold stored
inside (``models.evaluation.recognizer``) and ``face_recognizer.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from models.default_model import DEFAULT_DIR, default_model_path, default_run_path
from models.settings import TASK_EPOCHS
from models.training.checkpoint import CHECKPOINT_FILE, FINAL_MODEL_FILE
from models.training.train_command import add_train_parser

SEED = 0
REQUIRED_ACCURACY = 0.97  # on held-out faces AND on held-out non-faces, each
INFO_FILE = "face_cnn.json"


RECOGNIZER_EPOCHS = TASK_EPOCHS["recognizer"]
RECOGNIZER_SNAPSHOT_EPOCHS = 5  # the shipped run keeps every 5th epoch's snapshot
RECOGNIZER_INFO = "face_recognizer.json"


def main(argv: list[str] | None = None) -> int:
    argv = list(argv or [])
    if "--task" in argv and argv[argv.index("--task") + 1] == "recognizer":
        return ship_recognizer([a for a in argv if a not in ("--task", "recognizer")])
    parser = argparse.ArgumentParser(prog="python -m models.training.make_default")
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
    from models.datasets.bundled_data import bundled_face_data
    from models.training.loop import held_out_accuracy

    held_out = bundled_face_data().held_out
    return held_out_accuracy(load_model(model_path), held_out), len(held_out)


def _measure(model_path: Path) -> dict:
    """The figures docs/face-model.md states: held-out by kind and person, ECE, samples, FPR."""
    from inspector.engine.model_loading import load_model
    from models.datasets.bundled_data import bundled_face_data
    from models.evaluation.detector import (
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


def thin_snapshots(run_dir: Path, every: int) -> int:
    """Keep the snapshots of the first epoch, every ``every``-th epoch's end and the
    last; delete the others' files and records. Returns how many are kept.

    A 40-epoch run writes 47 snapshots (25 MB); thinned, Weight updates still
    replays the whole run, with the early steps, where most changes, in full.
    """
    from inspector.recording.run_directory import load_run
    from inspector.recording.run_writer import RECORDS_FILE

    run = load_run(run_dir)
    ends = run.epoch_steps
    keep = {s for s in run.snapshot_steps if s <= ends[0]}
    keep |= set(ends[every - 1 :: every]) | {ends[-1]}
    lines = (run_dir / RECORDS_FILE).read_text().splitlines()
    kept_lines = []
    for line in lines:
        record = json.loads(line)
        if record.get("kind") == "snapshot" and int(record["step"]) not in keep:
            (run_dir / record["file"]).unlink(missing_ok=True)
            continue
        kept_lines.append(line)
    (run_dir / RECORDS_FILE).write_text("\n".join(kept_lines) + "\n")
    return len(keep & set(run.snapshot_steps))


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
        "note": "Times measured once on the machine that built it (see docs/face-model.md).",
        **measured,
    }
    (DEFAULT_DIR / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")
    print(f"Shipped {default_model_path()} ({accuracy:.1%} held-out) and {default_run_path()}.")


def ship_recognizer(extra: list[str], destination: Path | None = None) -> int:
    """Train the recogniser with the fixed seed, refuse it below the bar, else ship it.

    Args:
        extra: more ``train`` options (a later ``--epochs`` wins over the default).
        destination: the folder shipped into (default ``models/recognizer``): its
            ``face_recognizer.keras``, ``run/`` and ``face_recognizer.json``.

    Returns:
        0 when shipped; 1 when the held-out accuracy is under ``REQUIRED_ACCURACY``,
        and then nothing in ``destination`` changes.
    """
    from inspector.engine.model_loading import load_model, save_model
    from models.default_model import RECOGNIZER_DIR, recognizer_model_path, recognizer_run_path
    from models.evaluation.recognizer import REQUIRED_ACCURACY, recognizer_report
    from models.face_cnn import INPUT_PRESET

    destination = Path(destination or RECOGNIZER_DIR)
    model_file = destination / recognizer_model_path().name
    run_copy = destination / recognizer_run_path().name
    parser = argparse.ArgumentParser(
        prog="python -m models.training.make_default --task recognizer"
    )
    add_train_parser(parser.add_subparsers(dest="command"))
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = Path(scratch) / "run"
        command = [
            "train",
            "--seed",
            str(SEED),
            "--task",
            "recognizer",
            "--epochs",
            str(RECOGNIZER_EPOCHS),
            "--out",
            str(run_dir),
            *extra,
        ]
        args = parser.parse_args(command)
        started = time.perf_counter()
        args.run(args)
        seconds = time.perf_counter() - started
        model = load_model(run_dir / FINAL_MODEL_FILE)
        report = recognizer_report(model)
        if report["held_out_accuracy"] < REQUIRED_ACCURACY:
            print(
                f"Not shipped: held-out accuracy {report['held_out_accuracy']:.1%} < "
                f"{REQUIRED_ACCURACY:.0%}."
            )
            return 1
        shutil.rmtree(run_copy, ignore_errors=True)
        destination.mkdir(parents=True, exist_ok=True)
        save_model(
            model,
            model_file,
            model.class_names,
            INPUT_PRESET,
            unknown_below=report["unknown"]["threshold"],
        )
        leave_out = shutil.ignore_patterns(CHECKPOINT_FILE, FINAL_MODEL_FILE)
        shutil.copytree(run_dir, run_copy, ignore=leave_out)
        kept = thin_snapshots(run_copy, RECOGNIZER_SNAPSHOT_EPOCHS)
        info = {
            "command": "layer-inspector " + " ".join(command[:7]) + " --out RUN_DIR",
            "snapshots_kept": (
                f"{kept}: every snapshot of the first epoch, then every "
                f"{RECOGNIZER_SNAPSHOT_EPOCHS}th epoch's end and the last (the repository "
                "copy is thinned; training writes one per epoch)"
            ),
            "seed": SEED,
            "train_command_seconds": round(seconds, 1),
            "fit_seconds": round(_fit_seconds(run_dir), 1),
            "required_accuracy": REQUIRED_ACCURACY,
            "note": "Times measured once on the machine that built it (see docs/face-model.md).",
            **report,
        }
        (destination / RECOGNIZER_INFO).write_text(json.dumps(info, indent=2) + "\n")
    print(
        f"Shipped {model_file} ({report['held_out_accuracy']:.1%} held-out, "
        f"unknown below {report['unknown']['threshold']:.3f}) and {run_copy}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
