"""The views' worker jobs: the memory bound on attribution batches."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from gui.app.view_jobs import BATCH_MEMORY_BYTES, memory_bounded


def _inspection(bytes_per_image: int):
    layer = SimpleNamespace(activation=np.zeros(bytes_per_image // 4, np.float32))
    return SimpleNamespace(layers=(layer,))


def test_batch_size_is_lowered_to_fit_the_memory_budget():
    # 64 MB of activations per image: a gradient pass needs 128 MB per image.
    big = _inspection(64 * 2**20)
    fitting = BATCH_MEMORY_BYTES // (128 * 2**20)
    assert memory_bounded("integrated_gradients", {}, big) == {"batch_size": fitting}
    asked = {"steps": 16, "batch_size": 32}
    assert memory_bounded("integrated_gradients", asked, big) == {
        "steps": 16,
        "batch_size": fitting,
    }
    assert asked["batch_size"] == 32  # the caller's dict is left alone


def test_small_models_keep_the_batch_asked_for_and_huge_ones_get_one():
    small = _inspection(1024)
    assert memory_bounded("smoothgrad", {"batch_size": 7}, small) == {"batch_size": 7}
    assert memory_bounded("occlusion", {}, small) == {"batch_size": 64}  # the default
    huge = _inspection(4 * BATCH_MEMORY_BYTES)
    assert memory_bounded("rise", {}, huge)["batch_size"] == 1


def test_methods_without_batches_are_untouched():
    assert memory_bounded("saliency", {}, _inspection(2**30)) == {}
    assert memory_bounded("gradcam", {"layer": "conv"}, _inspection(2**30)) == {"layer": "conv"}
