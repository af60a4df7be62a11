"""``inspect`` on the models users bring: presets, labels, extra inputs, output size,
and a crash that never reaches the terminal as a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from inspector.engine.model_loading import save_model
from tests.inspector.cli.test_cli import REPO, run
from tests.inspector.engine.test_model_kinds import head_model, raw_ops_model, two_input_model
from tests.inspector.export_fixtures import write_image, write_model


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    write_image(folder)
    write_model(folder)
    for name, model in (
        ("raw_ops", raw_ops_model()),
        ("multi_label", head_model(4, "sigmoid", 3)),
        ("regression", head_model(1, None, 3)),
        ("two_inputs", two_input_model()),
    ):
        save_model(model, folder / f"{name}.keras", None)
    return folder


def summary_of(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


@pytest.mark.parametrize("form", [["--value-range", "-1,1"], ["--value-range=-1,1"]])
def test_negative_values_are_accepted_in_both_forms(folder, tmp_path, form):
    out = tmp_path / "out"
    argv = [folder / "picture.png", "--model", folder / "tiny.keras", "--methods", "none"]
    assert run([*argv, *form, "--out", out]) == 0
    summary = summary_of(out)
    assert summary["preprocess"] == "-1,1"
    with np.load(out / "activations.npz") as npz:
        assert npz["input"].min() < 0 <= npz["input"].max() <= 1


def test_preset_labels_and_probability_rule_are_recorded_and_printed(folder, tmp_path, capsys):
    labels = folder / "names.txt"
    labels.write_text("a\nb\nc\nd\n")
    out = tmp_path / "out"
    argv = [folder / "picture.png", "--model", folder / "multi_label.keras", "--methods", "none"]
    assert run([*argv, "--preprocess", "tf", "--labels", labels, "--out", out]) == 0
    printed = capsys.readouterr().out
    assert "Preprocessing: preprocess tf (your choice): scaled to [-1, 1]" in printed
    summary = summary_of(out)
    assert summary["preprocess"] == "tf" and summary["probability_rule"] == "sigmoid"
    assert summary["preprocess_source"] == "user"
    assert summary["labels"] == ["a", "b", "c", "d"]
    assert run([*argv, "--labels", labels, "--out", tmp_path / "two"]) == 0
    wrong = tmp_path / "three.txt"
    wrong.write_text("x\ny\nz\n")
    assert run([*argv, "--labels", wrong, "--out", tmp_path / "bad"]) == 2
    assert "Expected 4 class names" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_regression_output_is_said_to_be_raw_values(folder, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [folder / "picture.png", "--model", folder / "regression.keras", "--methods", "none"]
    assert run([*argv, "--out", out]) == 0
    assert "raw values (linear output" in capsys.readouterr().out
    assert summary_of(out)["probability_rule"] == "none"


def test_raw_ops_model_runs_end_to_end(folder, tmp_path):
    out = tmp_path / "out"
    argv = [folder / "picture.png", "--model", folder / "raw_ops.keras", "--full"]
    assert run([*argv, "--methods", "saliency,gradcam", "--out", out]) == 0
    classes = {layer["class"] for layer in summary_of(out)["layers"]}
    assert {"Add", "Multiply", "Concatenate"} <= classes


def test_two_input_model_with_other_inputs_from_a_file(folder, tmp_path, capsys):
    others = tmp_path / "others.npz"
    np.savez(others, meta=np.array([0.5, -2.0], np.float32))
    out = tmp_path / "out"
    argv = [folder / "picture.png", "--model", folder / "two_inputs.keras", "--methods", "none"]
    assert run([*argv, "--input", "photo", "--other-inputs", others, "--out", out]) == 0
    assert "Inputs: image = input 'photo'; 'meta' = the given array" in capsys.readouterr().out
    assert summary_of(out)["inputs"] == "image = input 'photo'; 'meta' = the given array"
    assert run([*argv, "--input", "meta", "--out", tmp_path / "bad"]) == 2
    assert "image input to have shape" in capsys.readouterr().err


def test_compact_output_by_default_and_full_on_request(folder, tmp_path):
    argv = [folder / "picture.png", "--model", folder / "tiny.keras", "--methods", "none"]
    assert run([*argv, "--out", tmp_path / "compact"]) == 0
    assert run([*argv, "--full", "--out", tmp_path / "full"]) == 0
    compact, full = summary_of(tmp_path / "compact"), summary_of(tmp_path / "full")
    assert compact["arrays"]["mode"] == "compact" and full["arrays"]["mode"] == "full"
    exported = [layer["class"] for layer in compact["layers"] if layer["exported"]]
    assert exported == ["Conv2D", "Conv2D", "Dense", "Logits"]
    assert all(layer["exported"] for layer in full["layers"])
    with (
        np.load(tmp_path / "compact" / "activations.npz") as small,
        np.load(tmp_path / "full" / "activations.npz") as big,
    ):
        assert set(small.files) < set(big.files)
        assert small["c1"].dtype == np.float16 and big["c1"].dtype == np.float32
        np.testing.assert_allclose(small["c1"], big["c1"], rtol=1e-3, atol=1e-4)


PLANTED_BUG = """
import sys
from inspector.cli import inspect_command
from inspector.engine.extraction import Inspector

def broken(*args, **kwargs):
    raise RuntimeError("planted bug")

Inspector.inspect = broken
sys.exit(inspect_command.main(sys.argv[1:]))
"""


def test_a_bug_is_one_line_naming_a_log_file_with_the_trace(folder, tmp_path):
    logs = tmp_path / "logs"
    argv = ["inspect", str(folder / "picture.png"), "--model", str(folder / "tiny.keras")]
    done = subprocess.run(
        [sys.executable, "-c", PLANTED_BUG, *argv, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "LAYER_INSPECTOR_LOG_DIR": str(logs)},
        timeout=180,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "unexpected RuntimeError: planted bug" in lines[0]
    (log,) = logs.iterdir()
    assert str(log) in lines[0]
    assert "Traceback" in log.read_text() and "planted bug" in log.read_text()
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_mobilenet_v2_default_output_stays_under_30_mb(tmp_path):
    model_path = tmp_path / "mobilenetv2.keras"
    keras.applications.MobileNetV2(weights=None).save(model_path)
    image = write_image(tmp_path, size=(300, 240))
    out = tmp_path / "out"
    argv = [image, "--model", model_path, "--methods", "gradcam,saliency", "--crop", "none"]
    assert run([*argv, "--out", out]) == 0
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert size < 30e6, f"{size / 1e6:.1f} MB"
    summary = summary_of(out)
    assert summary["preprocess"] == "tf" and summary["labels"][0] == "tench"
