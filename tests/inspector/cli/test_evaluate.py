"""The ``evaluate`` command: its exact output contract, and one clean line per bad input."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inspector.attribution import method_names
from inspector.cli.evaluate_command import add_evaluate_parser, run_evaluate
from inspector.cli.runner import run_cli
from tests.inspector.export_fixtures import write_image, write_model

REPO = Path(__file__).resolve().parents[3]


def _bundled(model: Path | None) -> dict[str, Path] | None:
    """The launcher's ``bundled:NAME`` table with ``model`` as the default."""
    return None if model is None else {"detector": model}


def make_parser(default_model: Path | None = None, find_face=None) -> argparse.ArgumentParser:
    """The parser as the launcher builds it, with its own default-model handler."""
    parser = argparse.ArgumentParser(prog="layer-inspector")
    subparsers = parser.add_subparsers(dest="command")
    add_evaluate_parser(subparsers)
    subparsers.choices["evaluate"].set_defaults(
        handler=lambda a: run_evaluate(a, _bundled(default_model), find_face=find_face)
    )
    return parser


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("evaluate_inputs")
    images = folder / "images"
    images.mkdir()
    write_image(images, "a.png")
    write_image(images, "b.png", size=(24, 36))
    (images / "broken.png").write_text("not a picture\n")
    empty = folder / "empty"
    empty.mkdir()
    unreadable = folder / "unreadable"
    unreadable.mkdir()
    (unreadable / "x.png").write_bytes(b"\x89PNG nothing")
    corrupt = folder / "corrupt.keras"
    corrupt.write_bytes(np.random.default_rng(0).bytes(500))
    return {
        "model": write_model(folder),
        "images": images,
        "empty": empty,
        "unreadable": unreadable,
        "corrupt": corrupt,
    }


def evaluate(argv: list[str], capsys, default_model: Path | None = None) -> tuple[int, str]:
    code = run_cli(["evaluate", *argv], make_parser(default_model))
    return code, capsys.readouterr().err


def test_the_output_contract(files, tmp_path, capsys, monkeypatch):
    import sys

    # The progress bar draws on a terminal only (piped stderr keeps just the errors).
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    out = tmp_path / "out"
    code, err = evaluate(
        ["--model", str(files["model"]), "--images", str(files["images"]),
         "--methods", "saliency,gradcam", "--steps", "4", "--out", str(out)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [
        "curves.png",
        "evaluation.json",
        "randomization.png",
    ]
    for figure in ("curves.png", "randomization.png"):
        with Image.open(out / figure) as image:
            assert image.size[0] > 300 and image.size[1] > 100
    document = json.loads((out / "evaluation.json").read_text())
    assert document["model"] == str(files["model"])
    assert document["images"] == 2
    assert set(document["methods"]) == {"saliency", "gradcam"}
    for entry in document["methods"].values():
        assert isinstance(entry["deletion_auc"], float) and 0 <= entry["deletion_auc"] <= 1
        assert isinstance(entry["insertion_auc"], float)
        randomization = entry["randomization"]
        assert randomization["layers"] == ["head", "inner/conv", "c1"]
        assert len(randomization["spearman"]) == 3
        assert isinstance(randomization["passes"], bool)
        for kind in ("deletion", "insertion"):
            faithfulness = entry["faithfulness"][kind]
            assert faithfulness["better_than"] == "random"
            assert faithfulness["pairs"] == 2 * (document["steps"] - 1)  # inner steps, 2 images
            assert 0 <= faithfulness["p_value"] <= 1
            assert faithfulness["better"] in (True, False, None)
        per_image = entry["per_image"]
        assert [p["image"] for p in per_image] == ["a.png", "b.png"]
        assert entry["deletion_auc"] == pytest.approx(
            np.mean([p["deletion_auc"] for p in per_image])
        )
    assert set(document["controls"]) == {"random", "centre"}
    for control in document["controls"].values():
        assert {"deletion_auc", "insertion_auc"} <= set(control)
    # The unreadable file is skipped and counted, not fatal.
    assert [Path(s["file"]).name for s in document["skipped"]] == ["broken.png"]
    assert "skipped 1 unreadable file(s)" in err
    assert "] 4/4 maps" in err  # the progress bar: 2 images x 2 methods
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_no_randomization_and_the_default_model(files, tmp_path, capsys):
    out = tmp_path / "out"
    code, err = evaluate(
        ["--images", str(files["images"] / "a.png"), "--methods", "saliency",
         "--randomization", "none", "--baseline", "zero", "--out", str(out)],
        capsys,
        default_model=files["model"],
    )  # fmt: skip
    assert code == 0, err
    document = json.loads((out / "evaluation.json").read_text())
    assert document["images"] == 1 and document["baseline"] == "zero"
    assert document["methods"]["saliency"]["randomization"]["passes"] is None


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (["--methods", "saliency,nope"], "unknown: nope"),
        (["--images", "MISSING"], "which does not exist"),
        (["--images", "EMPTY"], "which is empty"),
        (["--images", "UNREADABLE"], "at least one readable image"),
        (["--model", "CORRUPT"], "Expected a .keras model file"),
        (["--steps", "0"], "expected a whole number >= 1"),
        (["--baseline", "grey"], "invalid choice: 'grey'"),
        (["--target", "7"], "Expected a target class 0..1"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(files, tmp_path, capsys, case, message):
    paths = {
        "MISSING": str(tmp_path / "missing"),
        "EMPTY": str(files["empty"]),
        "UNREADABLE": str(files["unreadable"]),
        "CORRUPT": str(files["corrupt"]),
    }
    argv = {
        "--model": str(files["model"]),
        "--images": str(files["images"]),
        "--methods": "saliency",
    }
    for flag, value in zip(case[::2], case[1::2], strict=True):
        argv[flag] = paths.get(value, value)
    out = tmp_path / "out"
    code, err = evaluate([*sum(argv.items(), ()), "--out", str(out)], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not out.exists()
    assert not list(tmp_path.glob(".out*"))


def test_an_unknown_method_lists_the_valid_ones(files, tmp_path, capsys):
    code, err = evaluate(
        ["--images", str(files["images"]), "--methods", "magic", "--out", str(tmp_path / "o")],
        capsys,
        default_model=files["model"],
    )
    assert code == 2 and ", ".join(method_names()) in err


def test_out_must_be_a_new_or_empty_folder(files, tmp_path, capsys):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    for out, message in ((busy, "already holds files"), (a_file, "which is a file")):
        code, err = evaluate(
            ["--model", str(files["model"]), "--images", str(files["images"]), "--out", str(out)],
            capsys,
        )
        assert code == 2 and message in err
    assert (busy / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_the_launcher_runs_it_as_one_line_on_stderr(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "layer_inspector", "evaluate", "--images", str(tmp_path / "none"),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "does not exist" in done.stderr


def test_auto_crop_asks_the_face_finder_for_every_readable_image(files, tmp_path, capsys):
    asked = []

    def find_face(rgb, aspect):
        asked.append((rgb.shape, aspect))
        return (0, 0, 10, 10)

    argv = ["evaluate", "--model", str(files["model"]), "--images", str(files["images"]),
            "--methods", "saliency", "--randomization", "none", "--steps", "2"]  # fmt: skip
    assert run_cli([*argv, "--out", str(tmp_path / "a")], make_parser(find_face=find_face)) == 0
    assert asked == [((30, 40, 3), 1.0), ((36, 24, 3), 1.0)]
    assert (
        run_cli(
            [*argv, "--crop", "none", "--out", str(tmp_path / "b")],
            make_parser(find_face=find_face),
        )
        == 0
    )
    assert len(asked) == 2
    capsys.readouterr()
