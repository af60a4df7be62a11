"""The attribution interface: registry, options, errors, and what every method returns."""

import dataclasses
import inspect as pyinspect
import pkgutil
from pathlib import Path

import keras
import numpy as np
import pytest

import inspector.attribution as attribution
from inspector import Inspector, InspectorError
from inspector.attribution import (
    REGISTRY,
    Attribution,
    AttributionError,
    AttributionMethod,
    compute_attribution,
    get_method,
    method_names,
    register,
)
from tests.inspector.attribution_toys import conv_model, image, inspect

METHODS = {
    # name: (signed, uses a layer, runs the model again)
    "saliency": (False, False, False),
    "gradient_x_input": (True, False, False),
    "smoothgrad": (False, False, True),
    "integrated_gradients": (True, False, True),
    "gradcam": (False, True, False),
    "gradcam_plus_plus": (False, True, False),
    "occlusion": (True, False, True),
    "guided_backprop": (False, False, True),
    "deconvnet": (False, False, True),
    "layercam": (False, True, False),
    "scorecam": (False, True, True),
    "rise": (False, False, True),
    "vargrad": (False, False, True),
}
FAST = {
    "smoothgrad": {"samples": 5},
    "integrated_gradients": {"steps": 8},
    "rise": {"masks": 50},
    "vargrad": {"samples": 5},
}


@pytest.fixture(scope="module")
def conv():
    # Module fixtures are built before the autouse seeding of the first test.
    keras.utils.set_random_seed(0)
    return inspect(conv_model(shape=(10, 14, 3)), image((10, 14, 3), seed=2))


def test_registry_holds_the_thirteen_methods():
    assert method_names() == tuple(METHODS)
    assert all(REGISTRY[name].name == name for name in METHODS)


def test_unknown_method_names_the_known_ones():
    with pytest.raises(AttributionError) as caught:
        get_method("guided_gradcam")
    message = str(caught.value)
    assert "Received: method='guided_gradcam'" in message
    assert all(name in message for name in METHODS)
    assert isinstance(caught.value, InspectorError)


@pytest.mark.parametrize(
    ("name", "options", "pattern"),
    [
        ("gradcam", {"steps": 3}, "among: layer. Received: unknown option"),
        ("saliency", {"layer": "x"}, "among: none"),
        ("integrated_gradients", {"steps": 0}, "steps to be an integer >= 1"),
        ("integrated_gradients", {"batch_size": 2.5}, "batch_size to be an integer"),
        ("smoothgrad", {"samples": True}, "samples to be an integer"),
        ("smoothgrad", {"noise_level": -0.1}, "noise_level to be a number >= 0"),
    ],
)
def test_bad_options_say_what_was_expected(name, options, pattern):
    with pytest.raises(AttributionError, match=pattern):
        get_method(name, **options)


def test_options_become_attributes_with_defaults():
    method = get_method("integrated_gradients", steps=10)
    assert method.steps == 10 and method.baseline == "black"
    assert method.options == {"steps": 10, "baseline": "black", "batch_size": 32}
    assert "steps=10" in repr(method)


@pytest.mark.parametrize(
    ("baseline", "pattern"),
    [
        ("purple", "black, grey, mean"),
        (np.zeros((3, 3, 3)), r"shape \(3, 3, 3\)"),
        (None, "Received: baseline=None"),
        (np.nan, "finite"),
    ],
)
def test_bad_baselines_are_refused(conv, baseline, pattern):
    inspector, inspection = conv
    with pytest.raises(AttributionError, match=pattern):
        compute_attribution("integrated_gradients", inspection, inspector, baseline=baseline)


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_returns_a_read_only_map_at_input_size(conv, name):
    inspector, inspection = conv
    result = compute_attribution(name, inspection, inspector, **FAST.get(name, {}))
    signed, uses_layer, _ = METHODS[name]
    method = REGISTRY[name]
    assert (result.method, result.title, result.citation) == (name, method.title, method.citation)
    assert result.heatmap.shape == (10, 14) and result.heatmap.dtype == np.float32
    assert np.all(np.isfinite(result.heatmap))
    # Score-CAM on this untrained net is all zero: every channel's mask lowers the
    # top class's probability below the black image's, so all weights are < 0
    # (test_attribution_perturbation checks it against an independent computation).
    assert np.ptp(result.heatmap) > 0 or name == "scorecam"
    assert result.signed is signed
    assert (result.layer == "last_conv") if uses_layer else (result.layer is None)
    if not signed:
        assert result.heatmap.min() >= 0
    with pytest.raises(ValueError):
        result.heatmap[0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.signed = not signed


@pytest.mark.parametrize("name", list(METHODS))
def test_every_docstring_cites_its_paper_and_describes_the_map(name):
    doc = pyinspect.getdoc(REGISTRY[name])
    year = REGISTRY[name].citation[-4:]
    assert "Paper:" in doc and year in doc and "Heatmap: float32 ``(H, W)``" in doc


class _NoModelRuns:
    """An inspector stand-in that fails the test if anything touches it."""

    def __getattr__(self, name):
        raise AssertionError(f"the method used the inspector ({name}) instead of the inspection")


@pytest.mark.parametrize("name", [n for n, (_, _, runs) in METHODS.items() if not runs])
def test_methods_that_reuse_the_inspection_do_not_run_the_model(conv, name):
    inspector, inspection = conv
    expected = compute_attribution(name, inspection, inspector).heatmap
    result = compute_attribution(name, inspection, _NoModelRuns())
    np.testing.assert_array_equal(result.heatmap, expected)


@pytest.mark.parametrize("name", [n for n, (_, _, runs) in METHODS.items() if runs])
def test_extra_passes_use_the_inspections_target_and_output(monkeypatch, name):
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(3, 3, activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    first = keras.layers.Dense(2, name="first")(x)
    second = keras.layers.Dense(4, activation="softmax", name="second")(x)
    spied = Inspector(keras.Model(inputs, [first, second]))
    inspection = spied.inspect(image((6, 6, 3)), target=3, output="second")
    calls = []

    def recorder(original, kind):
        def record(batch, *args, **kwargs):
            calls.append((kind, args, batch.shape))
            return original(batch, *args, **kwargs)

        return record

    monkeypatch.setattr(spied, "input_gradients", recorder(spied.input_gradients, "grad"))
    monkeypatch.setattr(spied, "predict", recorder(spied.predict, "predict"))
    batching = {"batch_size": 4} if "batch_size" in REGISTRY[name].defaults else {}
    compute_attribution(name, inspection, spied, **FAST.get(name, {}), **batching)
    assert calls
    for kind, args, shape in calls:
        assert args == ((3, 1) if kind == "grad" else (1,))
        assert shape[1:] == (6, 6, 3) and 1 <= shape[0] <= 4


def test_attribution_needs_a_2d_heatmap():
    with pytest.raises(ValueError, match=r"\(H, W\) heatmap"):
        Attribution("x", "X", np.zeros((2, 2, 3)), False, None, "")
    made = Attribution("x", "X", np.zeros((2, 3), np.float64), False, None, "")
    assert made.heatmap.dtype == np.float32 and not made.heatmap.flags.writeable


def test_a_new_method_is_one_class_and_one_registration(conv):
    inspector, inspection = conv

    @register
    class Brightness(AttributionMethod):
        """Mean over channels of the image: model-independent, for this test only."""

        name = "brightness_test"
        title = "Brightness"
        citation = "none"

        def attribute(self, inspection, inspector):
            return self._result(inspection.image.mean(axis=-1), signed=False)

    try:
        assert method_names()[-1] == "brightness_test"
        result = compute_attribution("brightness_test", inspection, inspector)
        np.testing.assert_allclose(result.heatmap, inspection.image.mean(-1), rtol=1e-6)
        assert result.method == "brightness_test"
        with pytest.raises(ValueError, match="already registered"):

            @register
            class Clash(Brightness):
                name = "saliency"

    finally:
        REGISTRY.pop("brightness_test", None)
    assert "brightness_test" not in method_names()
    assert REGISTRY["saliency"].__name__ == "Saliency"


def test_each_method_module_is_one_import_line_and_registers_one_class():
    package = Path(attribution.__file__).parent
    init_text = (package / "__init__.py").read_text()
    modules = [
        m.name
        for m in pkgutil.iter_modules([str(package)])
        if not m.name.startswith("_") and m.name != "base"
    ]
    assert len(modules) == len(METHODS)
    for module in modules:
        assert init_text.count(f"from inspector.attribution import {module} ") == 1
        owned = [c for c in REGISTRY.values() if c.__module__ == f"inspector.attribution.{module}"]
        assert len(owned) == 1, module


@pytest.mark.slow
def test_every_method_on_a_nested_keras_applications_backbone():
    backbone = keras.applications.MobileNetV2(
        input_shape=(64, 64, 3), include_top=False, weights=None, alpha=0.35
    )
    inputs = keras.Input((64, 64, 3))
    x = backbone(keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs))
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.GlobalAveragePooling2D()(x))
    inspector, inspection = inspect(keras.Model(inputs, outputs), image((64, 64, 3)) * 255)
    for name in METHODS:
        options = {"samples": 8} if name in ("smoothgrad", "vargrad") else {}
        options = {"masks": 256} if name == "rise" else options
        result = compute_attribution(name, inspection, inspector, **options)
        assert result.heatmap.shape == (64, 64) and np.all(np.isfinite(result.heatmap))
        if METHODS[name][1]:
            assert result.layer == f"{backbone.name}/out_relu"


NEW_METHODS = ("guided_backprop", "deconvnet", "layercam", "scorecam", "rise", "vargrad")


@pytest.mark.slow
def test_the_new_methods_on_mobilenet_v2_at_224():
    # The ReLU6 layers (ReLU(max_value=6)) and the 1280-channel last block of
    # MobileNetV2, at the input size it was designed for.
    model = keras.applications.MobileNetV2(weights=None, alpha=0.35, classes=5)
    inspector, inspection = inspect(model, image((224, 224, 3)) * 2 - 1)
    options = {"rise": {"masks": 256}, "vargrad": {"samples": 8}}
    maps = {}
    for name in NEW_METHODS:
        result = compute_attribution(name, inspection, inspector, **options.get(name, {}))
        assert result.heatmap.shape == (224, 224) and np.all(np.isfinite(result.heatmap))
        if METHODS[name][1]:
            assert result.layer == "out_relu"
        maps[name] = result.heatmap
    saliency = compute_attribution("saliency", inspection, inspector).heatmap

    def differ(a, b):  # an untrained net's gradients are tiny: compare shapes
        return not np.allclose(a / a.max(), b / b.max(), atol=1e-3)

    assert differ(maps["guided_backprop"], saliency)
    assert differ(maps["deconvnet"], maps["guided_backprop"])
