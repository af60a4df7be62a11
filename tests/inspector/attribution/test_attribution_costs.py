"""What a method costs in model passes, the default set that answers in seconds, progress
that reaches its total, and batches sized from the model's activation memory."""

from __future__ import annotations

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from inspector.attribution import (
    PASS_BUDGET,
    compute_attribution,
    default_methods,
    get_method,
    method_names,
)
from inspector.attribution._helpers import BATCH_MEMORY, memory_batch
from inspector.engine.errors import CancelledError
from tests.inspector.attribution_toys import conv_model, image, inspect

FREE = {"saliency", "gradient_x_input", "gradcam", "gradcam_plus_plus", "layercam"}


def fake_inspection(bytes_per_image: int):
    layer = SimpleNamespace(activation=np.zeros(bytes_per_image // 4, np.float32))
    return SimpleNamespace(layers=(layer,))


def test_batches_shrink_as_the_activation_memory_grows():
    # 64 MB of activations per image: a gradient pass holds about twice that.
    big = fake_inspection(64 * 2**20)
    assert memory_batch(big, 32, gradients=True) == BATCH_MEMORY // (128 * 2**20)
    assert memory_batch(big, 32, gradients=False) == BATCH_MEMORY // (64 * 2**20)
    small = fake_inspection(1024)
    assert memory_batch(small, 7, gradients=True) == 7  # never above what was asked
    assert memory_batch(fake_inspection(4 * BATCH_MEMORY), 64, gradients=False) == 1


def test_a_wide_layer_gets_smaller_gradient_batches(monkeypatch):
    """The same method on a model with a wide layer runs its passes in smaller batches;
    the batch never changes the map."""

    def model(width: int) -> keras.Model:
        inputs = keras.Input((16, 16, 3))
        x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name="wide")(inputs)
        x = keras.layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))

    monkeypatch.setattr("inspector.attribution._helpers.BATCH_MEMORY", 2**20)
    sizes = {}
    for width in (4, 256):
        keras.utils.set_random_seed(0)
        inspector, inspection = inspect(model(width), image((16, 16, 3), seed=1))
        seen: list[int] = []

        def spy(batch, *args, seen=seen, original=inspector.input_gradients, **kwargs):
            seen.append(len(batch))
            return original(batch, *args, **kwargs)

        inspector.input_gradients = spy
        compute_attribution("integrated_gradients", inspection, inspector, steps=16)
        sizes[width] = max(seen)
    assert sizes[256] < sizes[4]


def calls_into(calls: list):
    return lambda done, total, _what: calls.append((done, total))


def test_every_model_pass_is_reported_up_to_its_total():
    inspector, inspection = inspect(conv_model(), image((12, 12, 3), seed=2))
    small = {
        "integrated_gradients": {"steps": 8},
        "smoothgrad": {"samples": 6, "batch_size": 4},
        "vargrad": {"samples": 6, "batch_size": 4},
        "rise": {"masks": 40, "batch_size": 16},
        "occlusion": {},
        "scorecam": {"batch_size": 2},
        "guided_backprop": {},
        "deconvnet": {},
    }
    for name, options in small.items():
        calls: list[tuple[int, int]] = []
        method = get_method(name, **options)
        compute_attribution(name, inspection, inspector, progress=calls_into(calls), **options)
        assert calls, name
        done, total = calls[-1]
        assert done == total, (name, calls)
        assert all(t == total for _, t in calls) and [d for d, _ in calls] == sorted(
            d for d, _ in calls
        )
        assert total <= method.passes(inspection), name
    for name in FREE:
        assert get_method(name).passes(inspection) == 0


def test_a_progress_callback_can_stop_a_method():
    inspector, inspection = inspect(conv_model(), image((12, 12, 3), seed=2))

    def stop(done, total, what):
        raise CancelledError("Expected the map to finish. Received: a cancel request.")

    with pytest.raises(CancelledError):
        compute_attribution("rise", inspection, inspector, progress=stop, masks=64)


def test_the_default_set_is_within_the_budget_and_names_what_it_left_out():
    _, inspection = inspect(conv_model(), image((12, 12, 3), seed=2))
    chosen, left = default_methods(inspection)
    assert set(chosen) >= FREE
    assert set(chosen) | set(left) == set(method_names())
    for name in chosen:
        assert get_method(name).passes(inspection) <= PASS_BUDGET
    assert left["rise"] == 2000 and left["integrated_gradients"] == 66
    assert all(cost > PASS_BUDGET for cost in left.values())


@pytest.mark.slow
def test_on_a_large_model_the_default_is_the_cheap_set():
    model = keras.applications.MobileNetV2(weights=None)  # 224 px, 1280 channels at the end
    _, inspection = inspect(model, image((224, 224, 3), seed=0) * 255.0)
    chosen, left = default_methods(inspection)
    assert set(chosen) == FREE | {"guided_backprop", "deconvnet"}
    assert left["scorecam"] == 1281  # one pass per channel of out_relu, and the blank one
