"""Top-k mining: the planted detector, statistics checked independently, the merge's algebra."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from inspector.units.mining import ShardMiner
from inspector.units.probe import LayerProbe
from inspector.units.run import mine_units
from inspector.units.sources import ArraySource, FolderSource
from inspector.units.topk_state import HIST_EDGES, bin_of_bits, merge_states
from tests.inspector.units.planted import (
    PLANTED,
    noise_images,
    paste,
    planted_folder,
    planted_model,
)


@pytest.fixture(scope="module")
def probe():
    return LayerProbe(planted_model())


def test_default_layers_are_the_convolutions(probe):
    assert probe.names == ("detector", "random")


def test_planted_detector_is_found_in_a_folder(probe, tmp_path):
    pasted = planted_folder(tmp_path)
    source = FolderSource(tmp_path, probe.input_shape, probe.preprocess)
    result = mine_units(probe, source, k=len(PLANTED), batch_size=8, shard_size=16, cache_dir=False)
    units = result.layer("detector")
    names = [result.names[int(i)] for i in units.images[0]]
    assert sorted(names) == sorted(pasted)
    for name, (left, top, right, bottom) in zip(names, units.boxes[0], strict=True):
        row, col = pasted[name]
        # The 7x7 receptive field of the best unit covers the pasted 7x7 pattern exactly.
        assert (left, top, right, bottom) == (col, row, col + 7, row + 7)
    assert np.all(units.scores[0] > 0)


def test_statistics_match_an_independent_computation(probe):
    images = paste(noise_images(50), PLANTED)
    result = mine_units(
        probe, ArraySource(images), k=4, batch_size=7, shard_size=20, cache_dir=False
    )
    for units, activation in zip(result.layers, probe.forward(images), strict=True):
        activation = np.asarray(activation, np.float64)
        np.testing.assert_allclose(
            units.mean, activation.mean(axis=(0, 1, 2)), rtol=1e-5, atol=1e-7
        )
        np.testing.assert_allclose(units.fraction_active, (activation > 0).mean(axis=(0, 1, 2)))
        positions = activation.astype(np.float32).reshape(-1, activation.shape[-1])
        for c in range(positions.shape[1]):  # every position of every image, binned
            expected = np.bincount(
                np.searchsorted(HIST_EDGES, positions[:, c], side="right"),
                minlength=len(HIST_EDGES) + 1,
            )
            np.testing.assert_array_equal(units.histogram[c], expected)
        maxima = activation.max(axis=(1, 2))  # (N, C)
        for c in range(maxima.shape[1]):
            order = np.lexsort((np.arange(len(maxima)), -maxima[:, c]))[:4]
            np.testing.assert_array_equal(units.images[c], order)


def test_bins_from_bits_match_searchsorted_at_the_edges():
    rng = np.random.default_rng(0)
    spread = rng.normal(size=20000) * np.exp(rng.normal(size=20000) * 6)
    special = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-40, 1e-3, 1e3]
    values = np.concatenate(
        [
            spread.astype(np.float32),
            HIST_EDGES,
            np.nextafter(HIST_EDGES, np.float32(-np.inf)),
            np.nextafter(HIST_EDGES, np.float32(np.inf)),
            np.float32(special),
        ]
    ).astype(np.float32)
    expected = np.searchsorted(HIST_EDGES, values, side="right")
    bins = [bin_of_bits(int(bits)) for bits in values.view(np.int32)]
    np.testing.assert_array_equal(bins, expected)
    assert set(expected) == set(range(len(HIST_EDGES) + 1))  # every bin was reached


def test_ties_go_to_the_earlier_image(probe):
    images = np.repeat(paste(noise_images(1), {0: (5, 5)}), 12, axis=0)
    result = mine_units(
        probe, ArraySource(images), k=5, batch_size=4, shard_size=8, cache_dir=False
    )
    np.testing.assert_array_equal(result.layer("detector").images[0], [0, 1, 2, 3, 4])


def _equal(a, b) -> None:
    assert a.shards == b.shards and a.images_read == b.images_read
    for name in a.layers:
        x, y = a.layers[name], b.layers[name]
        for field in ("scores", "images", "locations", "active", "histogram"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))
        assert sorted(x.sums) == sorted(y.sums)
        for start in x.sums:
            np.testing.assert_array_equal(x.sums[start], y.sums[start])


def test_merge_is_associative_and_order_independent(probe):
    source = ArraySource(paste(noise_images(60), PLANTED))
    miner = ShardMiner(probe, k=5, batch_size=8)
    shards = [miner.mine(source, s, min(s + 16, 60)) for s in range(0, 60, 16)]
    reference = shards[0]
    for state in shards[1:]:
        reference = merge_states(reference, state)
    for order in itertools.permutations(shards):
        folded = order[0]
        for state in order[1:]:
            folded = merge_states(folded, state)
        _equal(folded, reference)
    a, b, c, d = shards
    _equal(merge_states(merge_states(a, b), merge_states(c, d)), reference)
    _equal(merge_states(a, merge_states(b, merge_states(c, d))), reference)


def test_a_tf_data_dataset_gives_the_array_result(probe):
    import tensorflow as tf

    from inspector.units.sources import DatasetSource

    images = paste(noise_images(30), PLANTED)
    labels = np.zeros(30, np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    settings = dict(k=3, batch_size=8, shard_size=16, cache_dir=False)
    from_dataset = mine_units(probe, DatasetSource(dataset), **settings)
    from_array = mine_units(probe, ArraySource(images), **settings)
    for a, b in zip(from_dataset.layers, from_array.layers, strict=True):
        np.testing.assert_array_equal(a.images, b.images)
        np.testing.assert_array_equal(a.boxes, b.boxes)


@pytest.mark.parametrize("threads", [1, 3])
def test_batch_statistics_match_numpy_on_every_value(threads):
    import tensorflow as tf

    from inspector.units import channel_stats

    rng = np.random.default_rng(3)
    a = (rng.normal(size=(5, 6, 7, 9)) * np.exp(rng.normal(size=(5, 6, 7, 9)) * 4)).astype(
        np.float32
    )
    a[1, 2, 3, 1] = a[1, 4, 5, 1] = 1e6  # a tie: the earlier position, 2 * 7 + 3, wins
    a[2, :, :, 2] = -np.inf
    a[3, 0, 0, 3] = np.nan  # counted in the top bin, never the maximum
    a[4, 1, 1, 4], a[4, 1, 2, 4], a[4, 1, 3, 4] = 1e-40, -0.0, np.float32(HIST_EDGES[7])
    a[0, :, :, 5] = HIST_EDGES.reshape(6, 7)  # every edge, and just below every edge
    a[1, :, :, 5] = np.nextafter(HIST_EDGES, np.float32(-np.inf)).reshape(6, 7)
    ((maxima, where, sums, histogram),) = channel_stats.batch_statistics([tf.constant(a)], threads)

    flat = a.reshape(5, -1, 9)
    finite = np.where(np.isnan(flat), -np.inf, flat)
    np.testing.assert_array_equal(maxima, finite.max(axis=1))
    np.testing.assert_array_equal(where, finite.argmax(axis=1))
    assert where[1, 1] == 2 * 7 + 3
    np.testing.assert_allclose(sums, flat.astype(np.float64).sum(axis=1), rtol=1e-12)
    for c in range(9):
        expected = np.bincount(
            np.searchsorted(HIST_EDGES, flat[:, :, c].ravel(), side="right"),
            minlength=len(HIST_EDGES) + 1,
        )
        np.testing.assert_array_equal(histogram[c], expected)


@pytest.mark.parametrize("shape", [(3, 8, 8, 2), (4, 4, 6, 8), (2, 5, 5, 16), (2, 3, 3, 70)])
def test_rows_of_several_positions_keep_the_first_maximum(shape):
    """Few channels: a row of the loop holds several positions (``_width``); many
    ties across those lanes must still give the FIRST position of the maximum."""
    import tensorflow as tf

    from inspector.units import channel_stats

    rng = np.random.default_rng(5)
    a = rng.integers(-3, 4, size=shape).astype(np.float32)  # few values: ties everywhere
    ((maxima, where, sums, histogram),) = channel_stats.batch_statistics([tf.constant(a)], 2)
    flat = a.reshape(shape[0], -1, shape[3])
    np.testing.assert_array_equal(maxima, flat.max(axis=1))
    np.testing.assert_array_equal(where, flat.argmax(axis=1))  # argmax: the first one
    np.testing.assert_array_equal(sums, flat.sum(axis=1))
    for c in range(shape[3]):
        expected = np.bincount(
            np.searchsorted(HIST_EDGES, flat[:, :, c].ravel(), side="right"),
            minlength=len(HIST_EDGES) + 1,
        )
        np.testing.assert_array_equal(histogram[c], expected)


def test_row_width_divides_the_positions():
    from inspector.units.channel_stats import ROW_VALUES, _width

    assert _width(64 * 64, 8) == 8  # 8 positions of 8 channels per row
    assert _width(42, 9) == 2  # 42 is not a multiple of 4
    assert _width(49, 4) == 1  # odd: one position per row
    assert _width(4096, 960) == 1
    for positions, channels in [(4096, 8), (1024, 16), (12544, 32), (30, 3)]:
        width = _width(positions, channels)
        assert positions % width == 0 and width * channels <= ROW_VALUES


def test_inserting_a_batch_equals_merging_it_as_a_state():
    """``insert_batch`` (no sort) keeps the same top k as ``best_k`` over the union,
    ties included, whatever order the batches' image indices come in."""
    from inspector.units.mining import insert_batch
    from inspector.units.topk_state import LayerState, best_k

    rng = np.random.default_rng(11)
    channels, k = 6, 4
    state = LayerState.empty(channels, k)
    seen_scores, seen_images, seen_locations = [], [], []
    for index_of in (np.arange(10, 17), np.arange(0, 5), np.array([30, 20, 25])):
        maxima = rng.integers(0, 4, size=(len(index_of), channels)).astype(np.float32)
        maxima[0, 0] = -np.inf  # an image whose maximum is -inf still beats an empty slot
        where = rng.integers(0, 50, size=maxima.shape).astype(np.int32)
        insert_batch(state.scores, state.images, state.locations, maxima, where, index_of)
        seen_scores.append(maxima.T)
        seen_images.append(np.broadcast_to(index_of, maxima.T.shape))
        seen_locations.append(where.T)
        expected = best_k(
            np.concatenate(seen_scores, 1),
            np.concatenate(seen_images, 1),
            np.concatenate(seen_locations, 1),
            k,
        )
        for got, want in zip((state.scores, state.images, state.locations), expected, strict=True):
            np.testing.assert_array_equal(got, want)
