"""export_inspection: the folder layout, its contents, and all-or-nothing writing."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inspector import ExportError, Inspector, LayerNotFoundError
from inspector.attribution import Attribution, compute_attribution
from inspector.render.exporting import (
    COMPACT_CLASSES,
    as_compact,
    export_inspection,
    file_stem,
    unique_stems,
)
from tests.inspector.export_fixtures import LABELS, inspect_nested, sigmoid_model


@pytest.fixture(scope="module")
def nested():
    """(inspector, inspection, attributions) for the tiny nested model."""
    inspector, inspection = inspect_nested()
    attributions = [compute_attribution(m, inspection, inspector) for m in ("gradcam", "saliency")]
    return inspector, inspection, attributions


def leftovers(folder: Path) -> list[str]:
    """Hidden staging folders that an export left beside its target."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_layout_and_arrays_match_the_inspection(nested, tmp_path):
    _, inspection, attributions = nested
    out = tmp_path / "out"
    result = export_inspection(inspection, out, attributions=attributions)
    assert sorted(p.name for p in out.iterdir()) == [
        "activations.npz",
        "attribution",
        "feature_maps",
        "summary.json",
    ]
    with np.load(out / "activations.npz") as npz:
        assert set(npz.files) == {"input", "grad/input"} | {
            key for r in inspection.layers for key in (r.name, f"grad/{r.name}")
        }
        np.testing.assert_array_equal(npz["input"], inspection.image)
        np.testing.assert_array_equal(npz["grad/input"], inspection.input_gradient)
        nested_record = inspection.layer("inner/conv")
        np.testing.assert_array_equal(npz["inner/conv"], nested_record.activation)
        np.testing.assert_array_equal(npz["grad/inner/conv"], nested_record.gradient)
        assert npz["c1"].shape == (16, 16, 4)  # no batch axis
    assert (out / "feature_maps" / "inner__conv.png").is_file()
    assert len(result.files) == len(inspection.layers) + 2 * 1 + 2  # npz, maps, 2 maps, json


def test_attribution_files_hold_overlay_and_raw_map_at_input_size(nested, tmp_path):
    _, inspection, attributions = nested
    export_inspection(inspection, tmp_path / "out", attributions=attributions)
    for attribution in attributions:
        raw = np.load(tmp_path / "out" / "attribution" / f"{attribution.method}.npy")
        np.testing.assert_array_equal(raw, attribution.heatmap)
        assert raw.shape == inspection.image.shape[:2] and raw.dtype == np.float32
        with Image.open(tmp_path / "out" / "attribution" / f"{attribution.method}.png") as image:
            # The overlay is the input enlarged by a whole factor, to be visible.
            height, width = inspection.image.shape[:2]
            factor = image.size[0] // width
            assert image.size == (width * factor, height * factor)
            assert min(image.size) >= 256


def test_summary_describes_prediction_layers_and_files(nested, tmp_path):
    _, inspection, attributions = nested
    export_inspection(inspection, tmp_path / "out", attributions=attributions)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["model"] == "tiny"
    assert summary["labels"] == list(LABELS)
    assert summary["target"] == inspection.target
    assert summary["target_label"] == LABELS[inspection.target]
    assert summary["predicted_label"] == LABELS[int(np.argmax(inspection.probabilities))]
    np.testing.assert_allclose(summary["probabilities"], inspection.probabilities, rtol=1e-6)
    assert summary["score"] == "logit"
    names = [layer["name"] for layer in summary["layers"]]
    assert names == list(inspection.layer_names)
    conv = summary["layers"][names.index("c1")]
    assert conv["class"] == "Conv2D" and conv["output_shape"] == [16, 16, 4]
    assert conv["receptive_field"] == {
        "size": [3, 3],
        "jump": [1.0, 1.0],
        "start": [0.0, 0.0],
        "is_global": False,
    }
    assert summary["feature_maps"]["inner/conv"] == "feature_maps/inner__conv.png"
    assert [a["method"] for a in summary["attributions"]] == ["gradcam", "saliency"]
    assert summary["attributions"][0]["overlay"] == "attribution/gradcam.png"
    assert {"pass", "to_numpy"} <= set(summary["timings"])
    for relative in summary["feature_maps"].values():
        assert (tmp_path / "out" / relative).is_file()


def test_single_sigmoid_unit_exports_two_probabilities(tmp_path):
    inspector = Inspector(sigmoid_model())
    image = np.random.default_rng(0).random((8, 8, 1)).astype(np.float32)
    inspection = inspector.inspect(image)
    export_inspection(inspection, tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    logits, _ = inspector.predict(image[None])
    p = 1.0 / (1.0 + np.exp(-logits[0, 1]))  # the unit's own logit is class 1's
    np.testing.assert_allclose(summary["probabilities"], [1 - p, p], rtol=1e-5)


def test_chosen_layers_only_and_unknown_layer_writes_nothing(nested, tmp_path):
    _, inspection, _ = nested
    result = export_inspection(inspection, tmp_path / "some", layers=["inner/conv", "c1"])
    assert result.layers == ("c1", "inner/conv")  # model order
    with np.load(tmp_path / "some" / "activations.npz") as npz:
        assert set(npz.files) == {"input", "grad/input", "c1", "grad/c1"} | {
            "inner/conv",
            "grad/inner/conv",
        }
    assert sorted(p.name for p in (tmp_path / "some" / "feature_maps").iterdir()) == [
        "c1.png",
        "inner__conv.png",
    ]
    with pytest.raises(LayerNotFoundError, match=r"Received: layer='nope'"):
        export_inspection(inspection, tmp_path / "bad", layers=["c1", "nope"])
    assert not (tmp_path / "bad").exists() and leftovers(tmp_path) == []


def test_progress_counts_every_file_then_the_move(nested, tmp_path):
    _, inspection, attributions = nested
    calls = []
    export_inspection(
        inspection,
        tmp_path / "out",
        attributions=attributions,
        progress=lambda *a: calls.append(a[:2]),
    )
    total = len(inspection.layers) + len(attributions) + 3
    assert calls == [(done, total) for done in range(1, total + 1)]


def test_a_failed_write_leaves_nothing_behind(nested, tmp_path, monkeypatch):
    _, inspection, attributions = nested
    import inspector.render.exporting as exporting

    drawn = []

    def failing_grid(record, **options):
        drawn.append(record.name)
        if len(drawn) == 3:
            raise OSError(28, "No space left on device")
        return exporting.feature_map_grid.__wrapped__(record, **options)

    failing_grid.__wrapped__ = exporting.feature_map_grid
    monkeypatch.setattr(exporting, "feature_map_grid", failing_grid)
    with pytest.raises(ExportError, match=r"No space left on device.*Nothing was written"):
        export_inspection(inspection, tmp_path / "out", attributions=attributions)
    assert len(drawn) == 3  # it failed part-way, after writing some files
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []


def test_a_failed_write_keeps_the_previous_export_intact(nested, tmp_path, monkeypatch):
    _, inspection, attributions = nested
    out = tmp_path / "out"
    export_inspection(inspection, out, attributions=attributions)
    (out / "notes.txt").write_text("mine")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    import inspector.render.exporting as exporting

    def failing_save(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(exporting.np, "save", failing_save)
    with pytest.raises(ExportError, match="Permission denied"):
        export_inspection(inspection, out, layers=["c1"], attributions=attributions)
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert leftovers(tmp_path) == []


def _failing_rename(monkeypatch, out: Path, times: int) -> None:
    """Make moving a summary.json into ``out`` fail the first ``times`` times."""
    original_rename = Path.rename
    failures = []

    def rename(self, target):
        if self.name == "summary.json" and Path(target).parent == out and len(failures) < times:
            failures.append(self)
            raise OSError(5, "Input/output error")
        return original_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)


def test_a_failure_while_swapping_restores_the_previous_export(nested, tmp_path, monkeypatch):
    _, inspection, _ = nested
    out = tmp_path / "out"
    export_inspection(inspection, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _failing_rename(monkeypatch, out, times=1)  # summary.json is the last entry moved
    with pytest.raises(ExportError, match="Input/output error"):
        export_inspection(inspection, out, layers=["c1"])
    monkeypatch.undo()
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert leftovers(tmp_path) == []


def test_a_previous_file_that_cannot_be_put_back_is_kept_not_deleted(nested, tmp_path, monkeypatch):
    _, inspection, _ = nested
    out = tmp_path / "out"
    export_inspection(inspection, out)
    previous = (out / "summary.json").read_bytes()
    _failing_rename(monkeypatch, out, times=2)  # the move in, then the move back
    with pytest.raises(ExportError, match="could not be put back and are kept in") as caught:
        export_inspection(inspection, out, layers=["c1"])
    monkeypatch.undo()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith(".out.old-")]
    assert len(kept) == 1 and str(kept[0]) in str(caught.value)
    assert (kept[0] / "summary.json").read_bytes() == previous
    assert (out / "feature_maps").is_dir()  # the other entries were restored


def test_re_export_replaces_layout_entries_and_keeps_other_files(nested, tmp_path):
    _, inspection, _ = nested
    out = tmp_path / "out"
    export_inspection(inspection, out)
    (out / "notes.txt").write_text("mine")
    export_inspection(inspection, out, layers=["c1"])
    assert (out / "notes.txt").read_text() == "mine"
    assert [p.name for p in (out / "feature_maps").iterdir()] == ["c1.png"]  # no stale grids
    assert leftovers(tmp_path) == []


def test_bad_arguments_are_refused_before_writing(nested, tmp_path):
    _, inspection, _ = nested
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ExportError, match="which is a file"):
        export_inspection(inspection, a_file)
    wrong_size = Attribution("saliency", "Saliency", np.zeros((3, 3)), False, None, "x")
    with pytest.raises(ExportError, match=r"input size \(16, 16\).*\(3, 3\)"):
        export_inspection(inspection, tmp_path / "out", attributions=[wrong_size])
    with pytest.raises(ExportError, match="colormap"):
        export_inspection(inspection, tmp_path / "out", colormap="jet")
    with pytest.raises(ExportError, match="normalise"):
        export_inspection(inspection, tmp_path / "out", normalise="global")
    renamed = dataclasses.replace(inspection.layers[0], name="input")
    clash = dataclasses.replace(inspection, layers=(renamed, *inspection.layers[1:]))
    with pytest.raises(ExportError, match="clash"):
        export_inspection(clash, tmp_path / "out")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_file_stems_are_safe_and_unique():
    assert file_stem("outer/inner") == "outer__inner"
    assert file_stem("../evil") == "__evil"
    assert file_stem("conv 1:a") == "conv_1_a"
    stems = unique_stems(["a/b", "a__b", "A__B", "c"])
    assert stems == {"a/b": "a__b", "a__b": "a__b-2", "A__B": "A__B-3", "c": "c"}


def test_as_compact_keeps_float16_and_counts_what_it_flushes():
    half, flushed = as_compact(np.array([1e-9, 2e-9, 0.5, 0.0, -3.0], np.float32))
    assert half.dtype == np.float16 and flushed == pytest.approx(2 / 4)
    np.testing.assert_array_equal(half, [0.0, 0.0, 0.5, 0.0, -3.0])
    big, flushed = as_compact(np.array([1e5, 1.0], np.float32))  # beyond float16's 65504
    assert big.dtype == np.float32 and flushed == 0.0


def test_compact_export_writes_conv_and_dense_layers_in_float16(nested, tmp_path):
    _, inspection, _ = nested
    out = tmp_path / "out"
    result = export_inspection(inspection, out, compact=True)
    kept = [r.name for r in inspection.layers if r.class_name in COMPACT_CLASSES]
    assert list(result.layers) == kept == ["c1", "inner/conv", "head", "head.logits"]
    with np.load(out / "activations.npz") as npz:
        assert set(npz.files) == {"input", "grad/input"} | {
            key for name in kept for key in (name, f"grad/{name}")
        }
        assert {npz[key].dtype for key in npz.files} == {np.dtype(np.float16)}
        np.testing.assert_allclose(npz["c1"], inspection.layer("c1").activation, rtol=1e-3)
    with Image.open(out / "feature_maps" / "c1.png") as grid:
        assert grid.mode == "P"  # a 256-colour palette image
    summary = json.loads((out / "summary.json").read_text())
    assert summary["arrays"]["mode"] == "compact"
    assert summary["arrays"]["flushed"] == result.flushed
    named = export_inspection(inspection, tmp_path / "named", layers=["pool"], compact=True)
    assert named.layers == ("pool",)  # a layer asked for by name is always written
