"""The ``train`` command: its options, one-line errors, and a real run (slow)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from models.training.loop import DEFAULT_EPOCHS
from models.training.train_command import add_train_parser, main


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["train", *argv])


@pytest.mark.parametrize(
    ("task", "epochs", "out"),
    [("detector", DEFAULT_EPOCHS, "runs/face_cnn"), ("recognizer", 40, "runs/face_recognizer")],
)
def test_defaults_follow_the_task(task, epochs, out, monkeypatch):
    import models.training.loop
    from models.training.train_command import run_train

    called = {}
    monkeypatch.setattr(models.training.loop, "train_face_model", lambda **kw: called.update(kw))
    args = parse("--task", task)
    assert (args.data, args.epochs, args.resume, args.seed, args.strategy) == (
        None,
        None,
        False,
        None,
        "default",
    )
    assert run_train(args) == 0
    assert (called["epochs"], called["run_dir"], called["task"]) == (epochs, out, task)


def test_options():
    args = parse(
        "--data",
        "d",
        "--epochs",
        "3",
        "--out",
        "r",
        "--resume",
        "--seed",
        "7",
        "--strategy",
        "mirrored",
        "--min-per-class",
        "20",
    )
    assert (args.data, args.epochs, args.out, args.resume, args.seed) == ("d", 3, "r", True, 7)
    assert (args.strategy, args.min_per_class) == ("mirrored", 20)


@pytest.mark.parametrize("bad", [["--epochs", "0"], ["--epochs", "x"], ["--strategy", "tpu"]])
def test_bad_options_exit_2(bad, capsys):
    with pytest.raises(SystemExit) as stopped:
        parse(*bad)
    assert stopped.value.code == 2


def test_an_inspector_error_becomes_one_line_and_exit_2(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    assert main(["train", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: Expected a new or empty run directory") and "\n" not in err


@pytest.mark.slow
def test_the_command_trains_and_resumes(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", "models.training.train_command", "train", "--out", str(out)]
    first = subprocess.run([*command, "--epochs", "1"], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    # Keras-style progress: one line per epoch when not on a terminal.
    assert "250/250 - " in first.stdout and " - loss: " in first.stdout  # 8,000 / 32
    assert "Held-out accuracy" in first.stdout
    again = subprocess.run(
        [*command, "--epochs", "2", "--resume"], capture_output=True, text=True, env=env
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "Resuming after epoch 1 of 2" in again.stdout and "Epoch 2/2" in again.stdout
