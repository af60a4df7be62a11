"""The cascading model-randomisation check (Adebayo et al., NeurIPS 2018).

A small CNN is trained in the test (seconds) on bright squares in noise. The pass
rule is the module's, fixed before these numbers were seen: |rho| < 0.5 once the
top half of the cascade is randomised; over several images rho is first
averaged per step (as ``evaluate`` does).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from inspector import Inspector
from inspector.engine.errors import CancelledError, UnsupportedModelError
from inspector.trust.model_copy import RandomizableCopy, cascade_blocks, weighted_layers
from inspector.trust.randomization import (
    PASS_THRESHOLD,
    decisive_step,
    randomization_check,
    run_cascade,
)
from tests.inspector.export_fixtures import nested_model, random_pixels
from tests.inspector.trust.trained_toy import squares_data, trained_squares_model


@pytest.fixture(scope="module")
def trained():
    """(model, inspector, copy, eight positive images) of the trained squares CNN."""
    model = trained_squares_model()
    images, labels = squares_data(16, seed=1)
    assert (model.predict(images, verbose=0).argmax(axis=1) == labels).mean() >= 0.9
    return model, Inspector(model), RandomizableCopy(model), images[labels == 1]


def mean_rho(trained, method: str) -> np.ndarray:
    _, inspector, copy, positives = trained
    results = [run_cascade(copy, method, inspector.inspect(x, target=1)) for x in positives]
    return np.mean([r.spearman for r in results], axis=0)


def test_decisive_step_is_the_top_half():
    assert [decisive_step(n) for n in (1, 2, 3, 4, 7, 8)] == [1, 1, 2, 2, 4, 4]


def test_the_cascade_runs_top_down_over_every_layer_with_weights(trained):
    _, _, copy, _ = trained
    assert copy.labels == ("logits", "conv2", "conv1")


def test_gradcam_passes_the_cascade(trained):
    rho = mean_rho(trained, "gradcam")
    assert abs(rho[decisive_step(len(rho)) - 1]) < PASS_THRESHOLD


def test_guided_backprop_fails_the_cascade(trained):
    # The paper's central finding: Guided Backprop barely depends on the top layers.
    rho = mean_rho(trained, "guided_backprop")
    assert abs(rho[decisive_step(len(rho)) - 1]) >= PASS_THRESHOLD
    assert np.all(rho >= mean_rho(trained, "saliency"))


def test_saliency_loses_its_ranking_once_every_layer_is_randomised(trained):
    # Measured on this 3-layer toy: rho = 0.83, 0.55, 0.12, so plain gradients
    # narrowly FAIL the half-cascade rule here (see docs/trust.md); what holds is
    # that the ranking is gone once the whole network is re-initialised.
    rho = mean_rho(trained, "saliency")
    assert rho[0] > rho[-1]
    assert abs(rho[-1]) < PASS_THRESHOLD


def test_result_holds_read_only_maps_and_is_deterministic(trained):
    _, inspector, copy, positives = trained
    inspection = inspector.inspect(positives[0], target=1)
    first = run_cascade(copy, "saliency", inspection)
    again = run_cascade(copy, "saliency", inspection)
    np.testing.assert_array_equal(first.spearman, again.spearman)
    assert first.maps.shape == (4, 16, 16)
    np.testing.assert_allclose(first.maps[0], np.abs(inspection.input_gradient).max(-1), 1e-5)
    assert first.spearman.flags.writeable is False and first.maps.flags.writeable is False
    assert first.passes == (abs(first.spearman[1]) < PASS_THRESHOLD)


def test_randomize_changes_only_its_block_and_restore_undoes_it(trained):
    model, _, copy, _ = trained
    copy.randomize(0)
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(copy.model.get_weights(), model.get_weights(), strict=True)
    ]
    # conv1 kernel, bias, conv2 kernel, bias, logits kernel, bias; a zero bias stays zero.
    assert changed[:4] == [False] * 4 and changed[4]
    copy.restore()
    for a, b in zip(copy.model.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_users_model_is_bit_identical_afterwards_nested_too():
    model = nested_model()
    before = [np.array(w) for w in model.weights]
    inspector = Inspector(model)
    inspection = inspector.inspect(random_pixels())
    results = randomization_check(model, inspection, ["saliency", "gradcam"])
    assert results["saliency"].layers == ("head", "inner/conv", "c1")
    for old, new in zip(before, model.weights, strict=True):
        assert np.array_equal(old, np.asarray(new))
    # And the user's own inspector still gives the same answer.
    np.testing.assert_array_equal(
        inspector.inspect(random_pixels()).input_gradient, inspection.input_gradient
    )


def test_nested_layers_are_named_outer_slash_inner():
    names = [name for name, _ in weighted_layers(nested_model())]
    assert names == ["c1", "inner/conv", "head"]


def test_big_models_go_block_by_block():
    inputs = keras.Input((8, 8, 1))
    x = inputs
    for i in range(7):
        x = keras.layers.Conv2D(2, 3, padding="same", name=f"c{i}")(x)
    model = keras.Model(inputs, keras.layers.Dense(2, name="dense")(keras.layers.Flatten()(x)))
    blocks = cascade_blocks(model, max_steps=3)
    assert [b.label for b in blocks] == ["dense..c5", "c4..c2", "c1..c0"]


def test_progress_and_cancel(trained):
    model, inspector, _, positives = trained
    inspection = inspector.inspect(positives[0], target=1)
    seen = []
    randomization_check(
        model, inspection, ["saliency", "gradcam"], progress=lambda *a: seen.append(a)
    )
    assert [(d, t) for d, t, _ in seen] == [(i, 6) for i in range(1, 7)]
    assert seen[-1][2] == "gradcam: conv1"
    with pytest.raises(CancelledError, match="Received: a cancel request"):
        randomization_check(model, inspection, ["saliency"], cancelled=lambda: True)


def test_a_subclassed_model_is_refused_with_one_clear_error():
    class Custom(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(keras.ops.reshape(x, (-1, 16)))

    model = Custom()
    model(np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(UnsupportedModelError, match="clone_model"):
        RandomizableCopy(model)


def test_a_constant_trained_map_cannot_pass(trained, monkeypatch):
    from inspector.attribution import REGISTRY, AttributionMethod

    class Flat(AttributionMethod):
        name, title, citation = "flat", "Flat", "none"

        def attribute(self, inspection, inspector):
            return self._result(np.zeros(inspection.image.shape[:2]), signed=False)

    monkeypatch.setitem(REGISTRY, "flat", Flat)
    _, inspector, copy, positives = trained
    result = run_cascade(copy, "flat", inspector.inspect(positives[0], target=1))
    assert result.checkable is False and result.passes is False
    np.testing.assert_array_equal(result.spearman, 0.0)


def test_the_cascade_starts_from_the_very_map_the_user_sees(tmp_path):
    # A "tf" (-1..1) model: Integrated Gradients' black baseline is -1, not 0. The
    # cascade's first map must be the user's map, preset and baseline included.
    from PIL import Image

    from inspector import load_image
    from inspector.attribution import compute_attribution

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="tanh", name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    path = tmp_path / "picture.png"
    Image.fromarray(random_pixels((8, 8, 3), seed=3).astype(np.uint8)).save(path)
    prepared = load_image(path, model, preprocess="tf")
    assert prepared.preset == "tf" and prepared.pixels.min() < 0
    inspector = Inspector(model)
    inspection = inspector.inspect(prepared)
    users = compute_attribution("integrated_gradients", inspection, inspector)
    result = randomization_check(model, inspection, ["integrated_gradients"], max_steps=2)[
        "integrated_gradients"
    ]
    np.testing.assert_allclose(result.maps[0], users.heatmap, rtol=1e-4, atol=1e-6)
