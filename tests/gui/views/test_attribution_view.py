"""AttributionView: method list, option forms, overlay, colour bar, cache, help."""

from __future__ import annotations

import html

import numpy as np
import pytest

from gui.views.attribution.view import METHOD_HELP, AttributionView, heatmap_levels
from inspector.attribution import REGISTRY, compute_attribution, method_names
from tests.gui.extras_models import inspected


@pytest.fixture(scope="module")
def tiny():
    return inspected()


@pytest.fixture
def view(qtbot):
    widget = AttributionView()
    qtbot.addWidget(widget)
    return widget


def _compute(tiny, method, **options):
    _, inspector, inspection = tiny
    return compute_attribution(method, inspection, inspector, **options)


def test_methods_come_from_the_registry_and_are_explained(qtbot, view, tiny):
    with qtbot.waitSignal(view.attribution_requested) as blocker:
        view.set_inspection(tiny[2])
    names = [view.method_combo.itemData(i) for i in range(view.method_combo.count())]
    assert names == list(method_names())
    assert blocker.args == [names[0], view.options()]
    # Users ask what the methods differ in: every method has its own explanation.
    assert set(METHOD_HELP) >= set(names)
    tooltips = {view.method_combo.itemData(i, 3) for i in range(view.method_combo.count())}
    assert len(tooltips) == len(names) and all(tooltips)


def test_every_method_accepts_the_options_its_form_produces(qtbot, view, tiny):
    view.auto_check.setChecked(False)
    view.set_inspection(tiny[2])
    for name in method_names():
        view.select_method(name)
        with qtbot.waitSignal(view.attribution_requested) as blocker:
            view.compute_button.click()
        method, options = blocker.args
        assert method == name and set(options) <= set(REGISTRY[name].defaults)
        attribution = _compute(tiny, method, **options)
        assert attribution.heatmap.shape == tiny[2].image.shape[:2]


def test_overlay_shows_the_heatmap_with_its_colour_range(qtbot, view, tiny):
    view.set_inspection(tiny[2])
    view.select_method("saliency")
    saliency = _compute(tiny, "saliency")
    view.show_attribution(saliency)
    np.testing.assert_array_equal(view.heat_item.image, saliency.heatmap)
    assert view.colour_bar.levels() == pytest.approx((0.0, float(saliency.heatmap.max())))
    assert html.escape(saliency.citation) in view.title_label.text()
    np.testing.assert_array_equal(view.image_item.image, tiny[2].display_image)


def test_signed_maps_are_centred_on_zero(qtbot, view, tiny):
    view.set_inspection(tiny[2])
    view.select_method("integrated_gradients")
    attribution = _compute(tiny, "integrated_gradients", steps=16)
    view.show_attribution(attribution)
    reach = float(np.abs(attribution.heatmap).max())
    assert view.colour_bar.levels() == pytest.approx((-reach, reach))
    assert "blue lowers it" in view.title_label.text()


def test_gradcam_layer_option_lists_conv_layers(qtbot, view, tiny):
    view.auto_check.setChecked(False)
    view.set_inspection(tiny[2])
    view.select_method("gradcam")
    combo = view.findChild(type(view.method_combo), "option_layer")
    layers = [combo.itemData(i) for i in range(combo.count())]
    assert layers == [None, "edges", "pool", "parts"]
    combo.setCurrentIndex(1)
    with qtbot.waitSignal(view.attribution_requested) as blocker:
        view.compute_button.click()
    assert blocker.args == ["gradcam", {"layer": "edges"}]
    attribution = _compute(tiny, *blocker.args[:1], **blocker.args[1])
    view.show_attribution(attribution)
    assert "edges" in view.title_label.text()


def test_alpha_slider_sets_the_overlay_opacity(qtbot, view, tiny):
    view.set_inspection(tiny[2])
    view.alpha_slider.setValue(25)
    assert view.heat_item.opacity() == pytest.approx(0.25)
    assert view.alpha == pytest.approx(0.25)


def test_computed_maps_are_kept_until_the_next_inspection(qtbot, view, tiny):
    view.set_inspection(tiny[2])
    view.select_method("saliency")
    view.show_attribution(_compute(tiny, "saliency"))
    view.show_attribution(_compute(tiny, "gradcam"))  # arrives while saliency is shown
    assert view.current_attribution.method == "saliency"
    with qtbot.assertNotEmitted(view.attribution_requested):
        view.select_method("gradcam")
    assert view.current_attribution.method == "gradcam"
    assert [a.method for a in view.attributions] == ["saliency", "gradcam"]
    with qtbot.waitSignal(view.attribution_requested):
        view.set_inspection(tiny[2])
    assert view.attributions == () and view.heat_item.image is None


def test_no_automatic_request_when_switched_off(qtbot, view, tiny):
    view.auto_check.setChecked(False)
    with qtbot.assertNotEmitted(view.attribution_requested):
        view.set_inspection(tiny[2])
        view.select_method("gradcam")


def test_heatmap_levels_known_answers():
    assert heatmap_levels(np.array([[-1.0, 3.0]]), signed=True) == (-3.0, 3.0)
    assert heatmap_levels(np.array([[2.0, 5.0]]), signed=False) == (0.0, 5.0)
    assert heatmap_levels(np.zeros((2, 2)), signed=False) == (0.0, 1.0)
    assert heatmap_levels(np.zeros((2, 2)), signed=True) == (-1.0, 1.0)


def test_clear_and_errors(qtbot, view, tiny):
    view.set_inspection(tiny[2])
    view.show_error("Expected a layer. Received: layer='x'.")
    assert "Received: layer='x'" in view.status_label.text()
    view.clear()
    assert not view.compute_button.isEnabled() and view.image_item.image is None
