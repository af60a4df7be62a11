"""The one-page report: what it contains, and saving it as PNG or PDF."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from PIL import Image

from inspector import ExportError, Inspector
from inspector.attribution import compute_attribution
from inspector.render.colormaps import lookup_table
from inspector.render.report import (
    PAGE_WIDTH,
    TOP_LABELS,
    hierarchy_layers,
    hierarchy_panel,
    prediction_panel,
    render_report,
    save_report,
)
from tests.inspector.export_fixtures import dense_only_model, inspect_nested


@pytest.fixture(scope="module")
def nested():
    inspector, inspection = inspect_nested()
    attributions = [compute_attribution(m, inspection, inspector) for m in ("gradcam", "saliency")]
    return inspection, attributions


def test_hierarchy_is_every_conv_layer_first_to_last(nested):
    inspection, _ = nested
    assert [r.name for r in hierarchy_layers(inspection)] == ["c1", "inner/conv"]


def test_hierarchy_falls_back_to_spatial_layers_without_convs():
    keras_model = dense_only_model()
    inspection = Inspector(keras_model).inspect(np.ones((4, 4, 1), np.float32))
    assert hierarchy_layers(inspection) == ()  # Flatten and Dense are not spatial
    panel = hierarchy_panel(inspection, 4)
    assert panel.size[0] == PAGE_WIDTH  # a note instead of columns
    page = render_report(inspection)
    assert page.size[0] == PAGE_WIDTH


def test_hierarchy_shows_the_strongest_channels_of_each_layer(nested):
    inspection, _ = nested
    one = hierarchy_panel(inspection, 1, cell=40)
    three = hierarchy_panel(inspection, 3, cell=40)
    assert three.size[1] > one.size[1]  # more channels, taller columns
    assert one.size[0] >= 2 * 40  # one column per layer
    # Each cell is scaled to its own range, so every cell reaches the top colour.
    viridis_top = lookup_table("viridis")[255]
    rgb = np.asarray(one).reshape(-1, 3)
    assert np.all(rgb == viridis_top, axis=1).sum() > 0


def _classifier(classes: int) -> Inspector:
    inputs = keras.Input((2, 2, 1))
    outputs = keras.layers.Dense(classes, activation="softmax")(keras.layers.Flatten()(inputs))
    return Inspector(keras.Model(inputs, outputs))


def test_prediction_panel_lists_at_most_the_top_labels():
    image = np.ones((2, 2, 1), np.float32)
    panels = {n: prediction_panel(_classifier(n).inspect(image), 600) for n in (3, 12, 25)}
    assert panels[3].size[1] < panels[12].size[1]
    assert panels[12].size == panels[25].size  # both show TOP_LABELS bars
    assert TOP_LABELS < 12


def test_report_has_the_page_width_and_grows_with_attributions(nested):
    inspection, attributions = nested
    bare = render_report(inspection)
    full = render_report(inspection, attributions)
    assert bare.size[0] == full.size[0] == PAGE_WIDTH
    assert full.size[1] > bare.size[1] + 200  # a row of overlays with captions
    # The input picture is on the page (scaled up without smoothing).
    picture = np.asarray(full)
    top_left = inspection.display_image[0, 0]
    assert np.all(picture == top_left, axis=-1).sum() > 100


def test_save_report_writes_png_and_pdf(nested, tmp_path):
    inspection, attributions = nested
    page = render_report(inspection, attributions)
    png = save_report(page, tmp_path / "report.png")
    pdf = save_report(page, tmp_path / "sub" / "report.PDF")
    with Image.open(png) as image:
        assert image.size == page.size
    assert pdf.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_save_report_refuses_other_suffixes_and_unwritable_places(nested, tmp_path):
    inspection, _ = nested
    page = render_report(inspection)
    with pytest.raises(ExportError, match=r"\.png or \.pdf.*report\.svg"):
        save_report(page, tmp_path / "report.svg")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="Expected to write the report"):
        save_report(page, blocker / "report.png")
