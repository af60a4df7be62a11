"""The headless ``inspect`` command: its output folder, and one clean line per bad input."""

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

from inspector import Inspector, load_image
from inspector.attribution import method_names
from inspector.cli.inspect_command import add_inspect_parser, run_inspect
from inspector.cli.runner import run_cli
from inspector.engine.model_loading import load_model
from tests.inspector.export_fixtures import lambda_model, write_image, write_model

REPO = Path(__file__).resolve().parents[3]


def _bundled(model: Path | None) -> dict[str, Path] | None:
    """The launcher's ``bundled:NAME`` table with ``model`` as the default."""
    return None if model is None else {"detector": model}


def make_parser(default_model: Path | None = None, find_face=None) -> argparse.ArgumentParser:
    """The parser as the launcher builds it, with its own default-model handler."""
    parser = argparse.ArgumentParser(prog="layer-inspector")
    subparsers = parser.add_subparsers(dest="command")
    add_inspect_parser(subparsers)
    subparsers.choices["inspect"].set_defaults(
        handler=lambda a: run_inspect(a, _bundled(default_model), find_face=find_face)
    )
    return parser


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Model and image files, good and bad, written once for the module."""
    folder = tmp_path_factory.mktemp("cli_inputs")
    picture = write_image(folder)
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "whole.png")  # noise: ~12 kB, cut at 1 kB
    truncated = folder / "truncated.png"
    truncated.write_bytes((folder / "whole.png").read_bytes()[:1000])
    not_image = folder / "notes.png"
    not_image.write_text("this is text, not a picture\n")
    corrupt = folder / "corrupt.keras"
    corrupt.write_bytes(np.random.default_rng(0).bytes(2000))
    empty = folder / "empty.keras"
    empty.write_bytes(b"")
    return {
        "model": write_model(folder),
        "lambda": write_model(folder, lambda_model(), "lambda.keras"),
        "image": picture,
        "truncated": truncated,
        "not_image": not_image,
        "corrupt": corrupt,
        "empty": empty,
        "missing": folder / "missing.png",
        "folder": folder,
    }


def run(argv: list[str], default_model: Path | None = None) -> int:
    return run_cli(["inspect", *[str(a) for a in argv]], make_parser(default_model))


def test_writes_the_layout_and_prints_a_summary(files, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [files["image"], "--model", files["model"], "--methods", "gradcam,saliency"]
    assert run([*argv, "--out", out]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "Predicted: " in captured.out and str(out) in captured.out
    assert sorted(p.name for p in out.iterdir()) == [
        "activations.npz",
        "attribution",
        "feature_maps",
        "summary.json",
    ]
    assert sorted(p.name for p in (out / "attribution").iterdir()) == [
        "gradcam.npy",
        "gradcam.png",
        "saliency.npy",
        "saliency.png",
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["labels"] == ["face", "other"] and summary["score"] == "logit"
    assert {"load", "pass", "attribution/gradcam"} <= set(summary["timings"])


def test_arrays_equal_the_engine_on_the_same_file(files, tmp_path):
    out = tmp_path / "out"
    argv = [files["image"], "--model", files["model"], "--methods", "none", "--full"]
    assert run([*argv, "--out", out]) == 0
    model = load_model(files["model"])
    inspection = Inspector(model).inspect(load_image(files["image"], model))
    with np.load(out / "activations.npz") as npz:
        np.testing.assert_array_equal(npz["input"], inspection.image)
        for record in inspection.layers:
            np.testing.assert_allclose(npz[record.name], record.activation, rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(
                npz[f"grad/{record.name}"], record.gradient, rtol=1e-4, atol=1e-6
            )
    assert not (out / "attribution").exists()  # --methods none


def test_options_layers_target_value_range_and_report(files, tmp_path):
    out, report = tmp_path / "out", tmp_path / "report.pdf"
    argv = [files["image"], "--model", files["model"], "--layers", "c1, inner/conv"]
    argv += ["--target", "0", "--value-range", "0,1", "--methods", "none"]
    assert run([*argv, "--report", report, "--out", out]) == 0
    with np.load(out / "activations.npz") as npz:
        assert set(npz.files) == {"input", "grad/input", "c1", "grad/c1"} | {
            "inner/conv",
            "grad/inner/conv",
        }
        assert npz["input"].max() <= 1.0  # the value range asked for, not the model's 0..255
    summary = json.loads((out / "summary.json").read_text())
    assert summary["target"] == 0 and summary["target_label"] == "face"
    assert summary["preprocessing"][-1].endswith("scaled to [0, 1]")
    assert summary["preprocess"] == "0,1"
    assert report.read_bytes().startswith(b"%PDF")


def test_the_cheap_methods_by_default_all_on_request_and_the_default_model(files, tmp_path, capsys):
    out = tmp_path / "out"
    assert run([files["image"], "--out", out], default_model=files["model"]) == 0
    written = {p.stem for p in (out / "attribution").glob("*.npy")}
    cheap = {
        "saliency",
        "gradient_x_input",
        "gradcam",
        "gradcam_plus_plus",
        "layercam",
        "guided_backprop",
        "deconvnet",
        "scorecam",  # this model's CAM layer has few channels: within 20 passes
    }
    assert written == cheap
    printed = capsys.readouterr().out
    assert "Left out by default (over 20 extra passes on this model): smoothgrad" in printed
    assert "--methods all" in printed
    out = tmp_path / "all"
    argv = [files["image"], "--methods", "all", "--out", out]
    assert run(argv, default_model=files["model"]) == 0
    assert {p.stem for p in (out / "attribution").glob("*.npy")} == set(method_names())


def test_unsafe_flag_loads_a_lambda_model(files, tmp_path):
    out = tmp_path / "out"
    argv = [files["image"], "--model", files["lambda"], "--unsafe", "--methods", "none"]
    assert run([*argv, "--out", out]) == 0
    assert (out / "summary.json").is_file()


BAD_INPUTS = {
    "missing image": (["{missing}", "--model", "{model}"], r"does not exist"),
    "not an image": (["{not_image}", "--model", "{model}"], r"Pillow can read"),
    "truncated image": (["{truncated}", "--model", "{model}"], r"truncated\.png"),
    "corrupt model": (["{image}", "--model", "{corrupt}"], r"corrupt\.keras"),
    "empty model": (["{image}", "--model", "{empty}"], r"empty"),
    "lambda model": (["{image}", "--model", "{lambda}"], r"Lambda.*--unsafe"),
    "wrong layer": (["{image}", "--model", "{model}", "--layers", "c1,nope"], r"layer='nope'"),
    "unknown method": (["{image}", "--model", "{model}", "--methods", "gradcam,magic"], r"magic"),
    "target too big": (["{image}", "--model", "{model}", "--target", "7"], r"target=7"),
    "unknown output": (["{image}", "--model", "{model}", "--output", "nope"], r"output='nope'"),
    "no model at all": (["{image}"], r"no --model given and no default model"),
    "bad value range": (["{image}", "--model", "{model}", "--value-range", "1,0"], r"LOW < HIGH"),
    "bad report name": (["{image}", "--model", "{model}", "--report", "r.txt"], r"\.png or \.pdf"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_2_and_nothing_written(case, files, tmp_path, capsys):
    template, pattern = BAD_INPUTS[case]
    argv = [part.format(**{k: str(v) for k, v in files.items()}) for part in template]
    out = tmp_path / "out"
    assert run([*argv, "--out", out]) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("layer-inspector") and "error:" in lines[0]
    assert "Traceback" not in captured.err + captured.out
    import re

    assert re.search(pattern, lines[0]), lines[0]
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no staging folder either


def test_usage_errors_are_one_line_too(files, tmp_path, capsys):
    assert run([files["image"], "--model", files["model"]]) == 2  # no --out
    assert run([files["image"], "--out", tmp_path / "o", "--frobnicate"]) == 2
    assert run([files["image"], "--out", tmp_path / "o", "--target", "-1"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert "--out" in lines[0] and "--frobnicate" in lines[1] and "-1" in lines[2]
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_and_a_previous_export_stay_untouched(files, tmp_path, capsys):
    a_file = tmp_path / "taken"
    a_file.write_text("keep me")
    assert run([files["image"], "--model", files["model"], "--out", a_file]) == 2
    assert a_file.read_text() == "keep me"
    out = tmp_path / "out"
    assert run([files["image"], "--model", files["model"], "--methods", "none", "--out", out]) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert run([files["image"], "--model", files["model"], "--layers", "nope", "--out", out]) == 2
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert "layer='nope'" in capsys.readouterr().err.splitlines()[-1]


def test_help_exits_zero(capsys):
    assert run_cli(["inspect", "--help"], make_parser()) == 0
    assert "--methods" in capsys.readouterr().out


# The lead's launcher is meant to import TensorFlow through inspector.engine.quiet first;
# this bootstrap does the same, so the test sees exactly what a user's terminal shows.
BOOTSTRAP = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("quiet", sys.argv[1])
quiet = importlib.util.module_from_spec(spec)
spec.loader.exec_module(quiet)
quiet.import_tensorflow_quietly()
from inspector.cli.inspect_command import main
sys.exit(main(sys.argv[2:]))
"""


def test_command_line_process_prints_one_line_and_no_traceback(files, tmp_path):
    out = tmp_path / "out"
    argv = ["inspect", str(files["not_image"]), "--model", str(files["model"]), "--out", str(out)]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = str(REPO / "inspector" / "engine" / "quiet.py")
    done = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP, quiet, *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert "notes.png" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == "" and not out.exists()


def _inspect_with_finder(files, out: Path, crop: str, finder) -> list[str]:
    argv = [
        "inspect",
        str(files["image"]),
        "--model",
        str(files["model"]),
        "--methods",
        "none",
        "--crop",
        crop,
        "--out",
        str(out),
    ]
    assert run_cli(argv, make_parser(find_face=finder)) == 0
    return json.loads((out / "summary.json").read_text())["preprocessing"]


def test_crop_auto_uses_the_face_finder_and_a_box_overrides_it(files, tmp_path):
    seen = []

    def finder(rgb, aspect):
        seen.append((rgb.shape, aspect))
        return (2, 3, 12, 13)

    steps = _inspect_with_finder(files, tmp_path / "auto", "auto", finder)
    assert "cropped to box (2, 3, 12, 13)" in steps
    assert seen and seen[0][0][2] == 3 and seen[0][1] == 1.0  # RGB picture, square model
    steps = _inspect_with_finder(files, tmp_path / "box", "1,1,9,9", finder)
    assert "cropped to box (1, 1, 9, 9)" in steps and len(seen) == 1
    steps = _inspect_with_finder(files, tmp_path / "none", "none", finder)
    assert not any(step.startswith("cropped to box") for step in steps)


def test_crop_auto_without_a_face_falls_back_to_the_centre(files, tmp_path):
    steps = _inspect_with_finder(files, tmp_path / "auto", "auto", lambda rgb, aspect: None)
    assert not any(step.startswith("cropped to box") for step in steps)


def test_bad_crop_box_is_a_usage_error(files, tmp_path, capsys):
    code = run(
        [files["image"], "--model", files["model"], "--crop", "5,5,1,1", "--out", tmp_path / "out"]
    )
    assert code == 2
    assert "LEFT,TOP,RIGHT,BOTTOM" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
