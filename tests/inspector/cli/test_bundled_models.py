"""``--model bundled:NAME`` in every command: both shipped networks by name, and one
line naming the valid ones for a name that is not shipped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inspector.cli.model_options import model_path
from inspector.cli.runner import run_cli
from inspector.engine.errors import ModelLoadError
from layer_inspector.console import build_parser, main
from models.default_model import RECOGNIZER_DIR, bundled_models

SAMPLE = Path(__file__).resolve().parents[3] / "sample_images" / "grace_hopper.jpg"
VALID = "Expected --model bundled:detector or bundled:recognizer. Received: 'bundled:x'."


def recognizer_info() -> Path:
    return RECOGNIZER_DIR / "face_recognizer.json"


def run(argv) -> int:
    return run_cli([str(a) for a in argv], build_parser())


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    for i in range(3):
        pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"p{i}.png")
    return folder


def test_model_path_reads_paths_bundled_names_and_the_default(tmp_path):
    shipped = {"detector": tmp_path / "a.keras", "recognizer": tmp_path / "b.keras"}
    assert model_path(None, shipped) == shipped["detector"]  # the first is the default
    assert model_path("bundled:recognizer", shipped) == shipped["recognizer"]
    assert model_path("mine.keras", shipped) == Path("mine.keras")
    with pytest.raises(ModelLoadError) as raised:
        model_path("bundled:x", shipped)
    assert str(raised.value) == VALID
    with pytest.raises(ModelLoadError, match="no --model given"):
        model_path(None, None)


def commands(images: Path, out: Path, model: str) -> dict[str, list]:
    """Each command's shortest real run on ``model``."""
    return {
        "inspect": ["inspect", SAMPLE, "--methods", "none", "--out", out / "i"],
        "evaluate": [
            "evaluate",
            "--images",
            images / "p0.png",
            "--methods",
            "saliency",
            "--randomization",
            "none",
            "--steps",
            "4",
            "--out",
            out / "e",
        ],
        "units": ["units", "--data", images, "--layers", "face_conv3", "--out", out / "u"],
        "dissect": ["dissect", "--layers", "face_conv3", "--out", out / "d"],
    }


@pytest.mark.parametrize("command", ["inspect", "evaluate", "units", "dissect"])
def test_an_unknown_bundled_name_is_one_line_naming_the_valid_ones(
    command, images, tmp_path, capsys
):
    argv = commands(images, tmp_path, "bundled:x")[command]
    assert run([*argv, "--model", "bundled:x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.endswith(VALID)
    assert not any(tmp_path.iterdir())  # nothing written


def test_the_app_refuses_an_unknown_bundled_name_before_opening(capsys, monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["app", "--model", "bundled:x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.endswith(VALID)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["inspect", "evaluate", "units", "dissect"])
def test_every_command_accepts_the_bundled_recogniser(command, images, tmp_path, capsys):
    argv = commands(images, tmp_path, "bundled:recognizer")[command]
    assert run([*argv, "--model", "bundled:recognizer"]) == 0, capsys.readouterr().err
    recognizer = str(bundled_models()["recognizer"])
    if command == "inspect":
        summary = json.loads((tmp_path / "i" / "summary.json").read_text())
        assert summary["model"] == "face_recognizer" and len(summary["labels"]) == 40
        stated = json.loads(recognizer_info().read_text())["unknown"]["threshold"]
        assert summary["unknown_below"] == pytest.approx(stated)
        said = capsys.readouterr().out
        assert ("Unknown person" in said) != ("Known person" in said)
    elif command == "evaluate":
        document = json.loads((tmp_path / "e" / "evaluation.json").read_text())
        assert document["model"] == recognizer
    elif command == "units":
        document = json.loads((tmp_path / "u" / "units.json").read_text())
        assert document["model"] == recognizer
        assert len(document["layers"]["face_conv3"]["channels"]) == 32
    else:
        document = json.loads((tmp_path / "d" / "dissection.json").read_text())
        assert document["settings"]["model"] == recognizer
        assert document["settings"]["output"] == "class_probabilities"
