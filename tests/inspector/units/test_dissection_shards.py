"""Dissection as a shard map: the same numbers as one plain pass, in any shard order."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from inspector.engine.errors import CancelledError
from inspector.units import dissection_scoring as scoring
from inspector.units.concepts import combine, synthetic_edges
from inspector.units.dissection import TOP_QUANTILE, Dissector
from inspector.units.dissection_shards import ShardTask, dissection_data, merge_shards
from inspector.units.probe import LayerProbe
from tests.inspector.units.planted import SIZE
from tests.inspector.units.test_dissection import eye_model, face_concepts

LAYERS = ["detector", "pooled"]  # 32x32 and 8x8 maps: a different m per layer
BATCH = 8


@pytest.fixture(scope="module")
def setting():
    concepts = combine(synthetic_edges(SIZE, 1, per_kind=4), face_concepts())  # 32 + 60 images
    return LayerProbe(eye_model(), LAYERS), concepts


def plain_reference(dissector: Dissector, concepts, seed: int = 0):
    """One pass over all images in batches from 0, no shards, no top-m merging:
    thresholds by a full sort of every raw activation, counts summed per batch."""
    data = dissection_data(concepts, seed)
    images = data.images
    raw_pass = tf.function(dissector._raw_all, autograph=False)  # every activation, no top-k
    raw = [[] for _ in LAYERS]
    for low in range(0, len(images), BATCH):
        for i, rows in enumerate(raw_pass(dissector._scaled(images[low : low + BATCH]))):
            raw[i].append(np.asarray(rows))
    levels = []
    for rows in raw:
        values = np.concatenate(rows, axis=1)  # (C, N * h * w)
        m = int(np.ceil(TOP_QUANTILE * values.shape[1]))
        levels.append(-np.sort(-values, axis=1)[:, m - 1])

    def summed(images, masks, annotated):
        total = [(0, 0)] * len(LAYERS)
        for low in range(0, len(images), BATCH):
            part = slice(low, low + BATCH)
            batch = dissector._counts(
                dissector._scaled(images[part]),
                levels,
                masks[part].astype(np.float32),
                annotated[part].astype(np.float32),
            )
            total = [
                (ti + np.asarray(i, np.int64), ta + np.asarray(a, np.int64))
                for (ti, ta), (i, a) in zip(total, batch, strict=True)
            ]
        return total

    real = summed(images, data.masks, data.annotated)
    shuffled = summed(images, data.shuffled, data.annotated)
    donors = data.donors
    negative = summed(images[data.negatives], data.masks[donors], data.annotated[donors])
    return levels, real, shuffled, negative, data


def test_in_process_dissection_equals_the_plain_reference(setting):
    probe, concepts = setting
    dissector = Dissector(probe, batch_size=BATCH, shard_batches=2)  # 6 shards of 16
    results = dissector.dissect(concepts)
    levels, real, shuffled, negative, data = plain_reference(dissector, concepts)
    for mine, expected in zip(dissector.thresholds(concepts.images), levels, strict=True):
        np.testing.assert_array_equal(mine, expected)
    mask_area = data.masks.sum(axis=(0, 1, 2))
    negative_area = data.masks[data.donors].sum(axis=(0, 1, 2))
    assert len(data.negatives) > 0
    for i, result in enumerate(results):
        iou = scoring.iou(*real[i], mask_area)
        np.testing.assert_array_equal(result.iou, iou)
        assert result.controls["shuffled_masks"] == scoring.passing_fraction(
            scoring.iou(*shuffled[i], mask_area)
        )
        assert result.controls["masks_over_non_faces"] == scoring.passing_fraction(
            scoring.iou(*negative[i], negative_area), concepts, concepts.names
        )
    assert results[1].labels[0] == "eye"  # the data is not degenerate


def shuffling_map(dissector: Dissector, seed: int, ran: list | None = None):
    """A ``ShardMap`` that runs the jobs here but hands the results back shuffled."""

    def bind(data, batch_size):
        assert batch_size == dissector.batch_size

        def run(jobs):
            for index in np.random.default_rng(seed).permutation(len(jobs)):
                if ran is not None:
                    ran.append(index)
                task, start, stop = jobs[index]
                yield int(index), dissector.run_shard(data, task, start, stop)

        return run

    return bind


@pytest.mark.parametrize("shard_batches, seed", [(1, 0), (2, 1), (3, 2), (100, 3)])
def test_any_shard_size_and_arrival_order_gives_the_same_dissection(setting, shard_batches, seed):
    probe, concepts = setting
    alone = Dissector(probe, batch_size=BATCH).dissect(concepts)
    dissector = Dissector(probe, batch_size=BATCH, shard_batches=shard_batches)
    spread = dissector.dissect(concepts, shard_map=shuffling_map(dissector, seed))
    for a, b in zip(alone, spread, strict=True):
        np.testing.assert_array_equal(a.iou, b.iou)
        np.testing.assert_array_equal(a.scores, b.scores)
        assert (a.labels, a.fractions, a.controls) == (b.labels, b.fractions, b.controls)


def test_merge_is_exact_under_any_grouping(setting):
    """((a + b) + (c + d)) equals (((d + c) + b) + a) for both kinds of pass."""
    probe, concepts = setting
    dissector = Dissector(probe, batch_size=BATCH)
    data = dissection_data(concepts)
    ranges = [(0, 24), (24, 48), (48, 80), (80, len(data.images))]
    top = ShardTask("top", dissector._wanted(len(data.images)))
    levels = tuple(dissector.thresholds(data.images))
    for task in (top, ShardTask("shuffled", levels=levels)):
        a, b, c, d = (dissector.run_shard(data, task, *r) for r in ranges)
        tree = merge_shards(task, merge_shards(task, a, b), merge_shards(task, c, d))
        chain = merge_shards(task, merge_shards(task, merge_shards(task, d, c), b), a)
        for x, y in zip(tree, chain, strict=True):
            if task.kind == "top":  # the same multiset of the top m values
                np.testing.assert_array_equal(np.sort(x, axis=1), np.sort(y, axis=1))
            else:
                np.testing.assert_array_equal(x[0], y[0])
                np.testing.assert_array_equal(x[1], y[1])
        if task.kind == "top":
            # m is global: a shard of 24 of the 92 images keeps the whole set's m values.
            assert [v.shape[1] for v in a] == list(top.wanted)
            assert all(x < y for x, y in zip(dissector._wanted(24), top.wanted, strict=True))
            assert all(
                np.array_equal(np.min(v, axis=1), t) for v, t in zip(tree, levels, strict=True)
            )
        else:
            whole = dissector.counts(*data.part("shuffled", 0, len(data.images)), levels)
            for (i, area), (wi, warea) in zip(tree, whole, strict=True):
                np.testing.assert_array_equal(i, wi)
                np.testing.assert_array_equal(area, warea)


def test_cancel_is_polled_as_each_remote_shard_arrives(setting):
    probe, concepts = setting
    dissector = Dissector(probe, batch_size=BATCH, shard_batches=1)
    ran: list = []
    asked: list = []

    def on_third() -> bool:
        asked.append(1)
        return len(asked) == 3

    with pytest.raises(CancelledError, match="Received: a cancel request"):
        dissector.dissect(concepts, cancelled=on_third, shard_map=shuffling_map(dissector, 0, ran))
    assert len(asked) == 3 and len(ran) == 3  # no shard was asked for after the cancel
