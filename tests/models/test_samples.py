"""The shipped face model on the app's own sample images: portraits are faces, the rest not."""

from __future__ import annotations

import argparse
import json

import pytest

from inspector.engine.model_loading import load_model
from models import default_model_path
from models.evaluation.detector import SAMPLE_VERDICTS, SAMPLES_DIR, sample_verdicts


@pytest.fixture(scope="module")
def verdicts():
    return sample_verdicts(load_model(default_model_path()))


def test_every_sample_gets_its_expected_verdict(verdicts):
    assert [v["file"] for v in verdicts] == [name for name, _, _ in SAMPLE_VERDICTS]
    wrong = [v for v in verdicts if v["predicted"] != v["expected"]]
    assert not wrong


def test_portraits_are_cropped_to_their_face_and_the_rest_to_the_centre(verdicts):
    crops = {v["file"]: v["crop"] for v in verdicts}
    assert crops["grace_hopper.jpg"] is not None and crops["astronaut.jpg"] is not None
    assert crops["chelsea_cat.jpg"] is None and crops["coffee.jpg"] is None


def test_no_sample_without_a_face_is_called_a_near_certain_face(verdicts):
    assert max(v["p_face"] for v in verdicts if v["expected"] == "not_face") < 0.5


@pytest.mark.slow
def test_the_inspect_command_gives_the_same_verdicts(tmp_path, verdicts):
    # The command's own path: open, --crop auto (or the box), prepare, inspect.
    from inspector.cli.inspect_command import add_inspect_parser, run_inspect
    from models.default_model import bundled_models

    parser = argparse.ArgumentParser()
    add_inspect_parser(parser.add_subparsers(dest="command"))
    for (name, crop, _), expected in zip(SAMPLE_VERDICTS, verdicts, strict=True):
        out = tmp_path / name
        crop_text = crop if crop == "auto" else ",".join(map(str, crop))
        command = ["inspect", str(SAMPLES_DIR / name), "--crop", crop_text]
        options = ["--methods", "none", "--layers", "face_probability", "--out", str(out)]
        args = parser.parse_args([*command, *options])
        assert run_inspect(args, bundled_models()) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert summary["predicted_label"] == expected["predicted"], name
        assert summary["probabilities"][1] == pytest.approx(expected["p_face"], abs=1e-4)
