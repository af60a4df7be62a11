"""The ``units`` and ``dissect`` commands: the output contract, and one line per bad input."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from inspector.cli.dissect_command import add_dissect_parser, run_dissect
from inspector.cli.runner import run_cli
from inspector.cli.units_command import add_units_parser, run_units
from tests.inspector.units.planted import (
    PLANTED,
    noise_images,
    paste,
    planted_folder,
    planted_model,
)
from tests.inspector.units.test_dissection import eye_model, face_concepts


def eye_concepts(shape, progress=None):
    """The stand-in for bundled-faces: eye and face masks on the eye model's images."""
    return face_concepts()


def _bundled(model: Path | None) -> dict[str, Path] | None:
    """The launcher's ``bundled:NAME`` table with ``model`` as the default."""
    return None if model is None else {"detector": model}


def make_parser(model: Path | None, bundled=None, concepts=None) -> argparse.ArgumentParser:
    """The parser as the launcher builds it, with the bundled model and data passed in."""
    parser = argparse.ArgumentParser(prog="layer-inspector")
    subparsers = parser.add_subparsers(dest="command")
    add_units_parser(subparsers)
    models = _bundled(model)
    subparsers.choices["units"].set_defaults(handler=lambda a: run_units(a, models, bundled))
    add_dissect_parser(subparsers)
    subparsers.choices["dissect"].set_defaults(handler=lambda a: run_dissect(a, models, concepts))
    return parser


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("units_inputs")
    planted_model().save(folder / "planted.keras")
    eye_model().save(folder / "eye.keras")
    data = folder / "data"
    pasted = planted_folder(data, count=24)
    (data / "a" / "broken.png").write_bytes(b"\x89PNG not really")
    (data / "notes.txt").write_text("ignored: not an image suffix")
    (folder / "empty").mkdir()
    junk = folder / "junk"
    junk.mkdir()
    (junk / "x.jpg").write_text("text")
    return {
        "folder": folder,
        "data": data,
        "pasted": pasted,
        "junk": junk,
        "empty": folder / "empty",
    }


def run(argv, files, bundled=None, concepts=None) -> int:
    model = files["folder"] / "planted.keras"
    return run_cli([str(a) for a in argv], make_parser(model, bundled, concepts))


def test_units_writes_the_contract(files, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LAYER_INSPECTOR_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    argv = ["units", "--data", files["data"], "--top-k", "3", "--batch-size", "8", "--visualize"]
    assert run([*argv, "--out", out], files) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "1 unreadable files skipped" in captured.out
    document = json.loads((out / "units.json").read_text())
    assert document["images"] == 24 and document["skipped"] == 1
    assert set(document["layers"]) == {"detector", "random"}
    channel = document["layers"]["detector"]["channels"][0]
    assert set(channel) == {"channel", "mean", "fraction_active", "top", "visualization"}
    assert len(channel["top"]) == 3 and {t["image"] for t in channel["top"]} <= set(files["pasted"])
    for top in channel["top"]:
        row, col = files["pasted"][top["image"]]
        assert top["box"] == [col, row, col + 7, row + 7]
    assert (out / channel["visualization"]["file"]).is_file()
    assert channel["visualization"]["activation"] >= channel["top"][0]["score"]
    assert sorted(p.name for p in (out / "sheets").iterdir()) == ["detector.png", "random.png"]


def test_units_on_bundled_data_names_images_by_index(files, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYER_INSPECTOR_CACHE", str(tmp_path / "cache"))
    images = paste(noise_images(20), {i: v for i, v in PLANTED.items() if i < 20})
    asked = []

    def bundled(name, shape, progress=None):
        asked.append(name)
        faces = np.arange(20) % 2 == 1  # the odd images play the faces
        return SimpleNamespace(images=(images * 255).astype(np.uint8), is_face=faces)

    out = tmp_path / "out"
    assert run(["units", "--layers", "detector", "--top-k", "2", "--out", out], files, bundled) == 0
    document = json.loads((out / "units.json").read_text())
    assert asked == ["bundled-natural"] and document["data"] == "bundled-natural"
    top = document["layers"]["detector"]["channels"][0]["top"]
    assert [t["image"] for t in top] == [3, 11]
    assert [t["is_face"] for t in top] == [True, True]
    second = document["layers"]["detector"]["channels"][1]["top"]
    assert [t["is_face"] for t in second] == [t["image"] % 2 == 1 for t in second]


def test_units_unknown_bundled_set_is_one_line(files, tmp_path, capsys):
    def bundled(name, shape, progress=None):
        raise ValueError(f"Expected --data DIR or a bundled set: a, b. Received: {name!r}.")

    out = tmp_path / "out"
    assert run(["units", "--data", "bundled-x", "--out", out], files, bundled) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Received: 'bundled-x'" in err and not out.exists()


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--data", "{empty}"], "Expected image files"),
        (["--data", "{junk}"], "none of which could be read"),
        (["--data", "{data}", "--layers", "detector,nope"], "Expected layer names among: detector"),
        (["--data", "{data}", "--scheduler", "local:zero"], "Expected --scheduler local:N"),
        (["--data", "{data}", "--scheduler", "tcp://127.0.0.1:9"], "reachable Dask scheduler"),
        (["--data", "{data}", "--top-k", "0"], "expected a whole number >= 1"),
        (["--data", "{data}", "--model", "{folder}/missing.keras"], "does not exist"),
    ],
)
def test_units_bad_input_is_one_line_and_writes_nothing(
    files, tmp_path, capsys, argv, expected, monkeypatch
):
    monkeypatch.setenv("LAYER_INSPECTOR_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out"
    argv = [a.format(**{k: v for k, v in files.items() if isinstance(v, Path)}) for a in argv]
    assert run(["units", *argv, "--out", out], files) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "cache"] == []


def test_dissect_writes_the_contract(files, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["dissect", "--model", files["folder"] / "eye.keras", "--layers", "pooled", "--out", out]
    assert run(argv, files, concepts=lambda shape, progress=None: face_concepts()) == 0
    assert "pooled: edge 0.00, part 0.50" in capsys.readouterr().out
    document = json.loads((out / "dissection.json").read_text())
    layer = document["layers"]["pooled"]
    assert set(layer) == {"fractions", "units"}
    assert layer["units"][0] == {
        "channel": 0,
        "concept": "eye",
        "group": "part",
        "score": pytest.approx(layer["units"][0]["score"]),
    }
    assert layer["units"][1]["group"] == "none"
    assert (out / "hierarchy.png").stat().st_size > 1000


def test_dissect_bad_concept_folder_is_one_line(files, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(["dissect", "--concepts", files["junk"], "--out", out], files) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "concepts.npz" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "scheduler, expected",
    [("local:zero", "Expected --scheduler local:N"), ("tcp://127.0.0.1:9", "reachable Dask")],
)
def test_dissect_bad_scheduler_is_one_line(files, tmp_path, capsys, scheduler, expected):
    out = tmp_path / "out"
    argv = ["dissect", "--model", files["folder"] / "eye.keras", "--layers", "pooled"]
    code = run([*argv, "--scheduler", scheduler, "--out", out], files, concepts=eye_concepts)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.slow
def test_dissect_on_a_local_cluster_writes_the_same_document(files, tmp_path):
    pytest.importorskip("distributed")
    argv = ["dissect", "--model", files["folder"] / "eye.keras", "--layers", "detector,pooled"]
    documents = []
    for extra in ([], ["--scheduler", "local:2"]):
        out = tmp_path / f"out{len(extra)}"
        assert run([*argv, *extra, "--out", out], files, concepts=eye_concepts) == 0
        documents.append(json.loads((out / "dissection.json").read_text()))
    alone, spread = documents
    assert alone["layers"]["pooled"]["units"][0]["concept"] == "eye"
    assert spread["layers"] == alone["layers"] and spread["controls"] == alone["controls"]
    # The selectivity passes (the model and its three random-init copies) ran as jobs on
    # the workers too, each building its copies from the same seeds: the same numbers.
    for key in ("selectivity", "random_init", "units_selectivity", "hierarchy"):
        assert spread[key] == alone[key], key
    assert spread["settings"]["selectivity"] == alone["settings"]["selectivity"]
    assert "part" in alone["units_selectivity"]["pooled"][0]["detector_of"]
