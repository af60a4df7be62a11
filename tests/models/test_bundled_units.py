"""``units`` and ``dissect`` on the bundled model, as a user runs them: the named data
sets, ``is_face`` on every top image, and the exact selectivity contract."""

from __future__ import annotations

import json

import pytest

from layer_inspector.console import main
from models.datasets.unit_data import BUNDLED_SETS

PARTS = {"eye", "nose", "mouth"}


@pytest.mark.slow
def test_units_names_its_set_and_marks_every_top_image(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAYER_INSPECTOR_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "faces"
    argv = ["units", "--data", "bundled-faces", "--layers", "face_conv1", "--out", str(out)]
    assert main(argv) == 0
    document = json.loads((out / "units.json").read_text())
    assert document["data"] == "bundled-faces" and document["images"] == 500
    # The bundled model carries its preset: a fact, not a guess.
    assert (document["preprocess"], document["preprocess_source"]) == ("0-255", "sidecar")
    tops = [t for c in document["layers"]["face_conv1"]["channels"] for t in c["top"]]
    assert tops and all(t["is_face"] is True for t in tops)
    out = tmp_path / "natural"
    assert main(["units", "--layers", "parts_conv2", "--top-k", "3", "--out", str(out)]) == 0
    document = json.loads((out / "units.json").read_text())
    assert document["data"] == "bundled-natural" == next(iter(BUNDLED_SETS))
    flags = [t["is_face"] for c in document["layers"]["parts_conv2"]["channels"] for t in c["top"]]
    assert flags and all(isinstance(f, bool) for f in flags)
    assert all(
        (t["image"] < 500) == t["is_face"]
        for c in document["layers"]["parts_conv2"]["channels"]
        for t in c["top"]
    )


@pytest.mark.slow
def test_dissect_writes_the_selectivity_contract_on_the_bundled_model(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["dissect", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    document = json.loads((out / "dissection.json").read_text())
    assert (document["preprocess"], document["preprocess_source"]) == ("0-255", "sidecar")
    layers = list(document["layers"])
    assert layers[0] == "edges_conv1" and layers[-1] == "face_conv3"
    for key in ("selectivity", "random_init", "units_selectivity"):
        assert list(document[key]) == layers, key
    for key in ("selectivity", "random_init"):
        for layer in layers:
            entry = document[key][layer]
            assert set(entry) == {"edge", "part", "face"}
            assert set(entry["edge"]) == {"mean", "detectors"}
            assert set(entry["part"]) == {"mean", "detectors", "best_part"}
            assert set(entry["part"]["best_part"]) == PARTS
            assert set(entry["face"]) == {"mean_auc", "mean_auc_pr", "detectors"}
            assert all(0.0 <= entry[g]["detectors"] <= 1.0 for g in ("edge", "part", "face"))
    for layer in layers:
        units = document["units_selectivity"][layer]
        assert [u["channel"] for u in units] == list(range(len(units)))
        assert len(units) == len(document["layers"][layer]["units"])
        for unit in units:
            assert set(unit) == {"channel", "osi", "pointing", "face_auc", "detector_of"}
            assert set(unit["pointing"]) == PARTS
            assert set(unit["detector_of"]) <= {"edge", "part", "face"}
            assert unit["osi"] is None or 0.0 <= unit["osi"] <= 1.0
        detectors = document["selectivity"][layer]["face"]["detectors"]
        counted = sum("face" in u["detector_of"] for u in units) / len(units)
        assert detectors == pytest.approx(counted)
    verdict = document["hierarchy"]
    assert set(verdict) == {"edge_peak", "part_peak", "face_peak", "shown"}
    assert isinstance(verdict["shown"], bool)
    assert ("Hierarchy shown" in printed) == verdict["shown"]
    assert document["settings"]["selectivity"]["random_seeds"] == [0, 1, 2]
    assert (out / "hierarchy.png").stat().st_size > 1000
    assert (out / "hierarchy_labels.png").stat().st_size > 1000
