"""The three selectivity measures on planted units, the random-init control and the verdict."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from inspector.engine.model_copy import reinitialized_copy
from inspector.units.exemplars import strongest_units
from inspector.units.gratings import gratings
from inspector.units.probe import LayerProbe
from inspector.units.selectivity import (
    PERCENTILE,
    average_precision,
    chance_level,
    detectors,
    field_centres,
    hierarchy_verdict,
    orientation_selectivity,
    pointing_game,
    preferred_orientation,
    random_threshold,
    roc_auc,
)
from inspector.units.selectivity_report import measure_selectivity
from inspector.units.unit_responses import ResponseMeter
from tests.inspector.units.test_dissection import EYES, eye_model, face_concepts

SIZE = 64


def filter_model(kernels: np.ndarray) -> keras.Model:
    """One linear-then-ReLU conv layer with the given (k, k, 1, C) kernels, no bias."""
    inputs = keras.Input((SIZE, SIZE, 1))
    conv = keras.layers.Conv2D(
        kernels.shape[-1], kernels.shape[0], padding="same", activation="relu", name="conv"
    )
    outputs = keras.layers.GlobalAveragePooling2D()(conv(inputs))
    conv.set_weights([kernels.astype(np.float32), np.zeros(kernels.shape[-1], np.float32)])
    return keras.Model(inputs, outputs)


def gabor(size: int, theta: float, period: float, sigma_along: float, sigma_across: float):
    rows, cols = np.mgrid[0:size, 0:size] - (size - 1) / 2
    across = cols * np.cos(theta) + rows * np.sin(theta)
    along = -cols * np.sin(theta) + rows * np.cos(theta)
    envelope = np.exp(-(across**2) / (2 * sigma_across**2) - along**2 / (2 * sigma_along**2))
    kernel = envelope * np.cos(2 * np.pi * across / period)
    return kernel - kernel.mean()  # zero mean: grey alone drives it nowhere


def osi_of(kernels: np.ndarray) -> np.ndarray:
    probe = LayerProbe(filter_model(kernels), ["conv"])
    probes = gratings(SIZE, 1)
    (responses,) = ResponseMeter(probe).run(probes.images, 0, len(probes.images))
    centre = responses.centre.reshape(*probes.grid, -1).transpose(3, 0, 1, 2)
    return orientation_selectivity(centre, probes.angles)[0]


def test_an_oriented_gabor_is_selective_and_an_isotropic_blob_is_not():
    rows, cols = np.mgrid[0:31, 0:31] - 15
    blob = np.exp(-(rows**2 + cols**2) / (2 * 2.0**2))
    centre_surround = (
        blob
        - np.exp(-(rows**2 + cols**2) / (2 * 4.0**2))
        * blob.sum()
        / np.exp(-(rows**2 + cols**2) / (2 * 4.0**2)).sum()
    )
    # On one of the 8 probe orientations (67.5 degrees) and frequencies (8 cycles), and
    # wide enough for its envelope (a 21 px kernel cuts it and leaks: OSI 0.83).
    gabor_kernel = gabor(31, 3 * np.pi / 8, 8.0, 9.0, 2.5)
    between = gabor(31, np.pi / 3, 8.0, 9.0, 2.5)  # 60 degrees: between two probes
    kernels = np.stack([gabor_kernel, between, blob, centre_surround], axis=-1)[:, :, None, :]
    osi = osi_of(kernels)
    assert osi[0] > 0.9
    assert osi[1] > 0.6  # its tuning is split over the two nearest probe orientations
    assert osi[2] < 0.05 and osi[3] < 0.05


def test_osi_is_one_minus_circular_variance():
    angles = np.arange(8) * np.pi / 8
    one = np.zeros((1, 8, 1, 1))
    one[0, 2] = 5.0
    flat = np.ones((1, 8, 1, 1))
    cosine = (1 + np.cos(2 * (angles - angles[3])))[None, :, None, None]  # half of its peak
    osi, _ = orientation_selectivity(np.concatenate([one, flat, cosine]), angles)
    assert osi == pytest.approx([1.0, 0.0, 0.5], abs=1e-12)
    silent, _ = orientation_selectivity(np.zeros((1, 8, 3, 4)), angles)
    assert np.isnan(silent[0])


def test_a_unit_that_answers_a_handful_of_gratings_has_no_osi():
    """Random-init units that fire on 1-3 of the 96 gratings read OSI 1.0 and would
    set the control's bar at the ceiling; under 5 % of the probes there is no score."""
    angles = np.arange(8) * np.pi / 8
    sparse = np.zeros((2, 8, 3, 4))
    sparse[0, 5, 1, 2] = 3.0  # one grating of 96
    sparse[1, 5, 1, :] = 3.0  # four phases of one grating: 4 of 96, still under 5 %
    osi, _ = orientation_selectivity(sparse, angles)
    assert np.isnan(osi).all()
    sparse[1, 5, 2, :] = 1.0  # eight of 96: scored, and one orientation only
    osi, _ = orientation_selectivity(sparse, angles)
    assert osi[1] == pytest.approx(1.0)


def test_gratings_cover_every_orientation_frequency_and_phase():
    probes = gratings(32, 3)
    assert probes.images.shape == (8 * 3 * 4, 32, 32, 3) and probes.grid == (8, 3, 4)
    assert probes.images.min() >= 0 and probes.images.max() <= 1
    stack = probes.images[..., 0].reshape(8, 3, 4, 32, 32)
    # Orientation 0 varies along the columns only; orientation 4 (90 degrees) along rows only.
    assert np.allclose(np.diff(stack[0, 0, 0], axis=0), 0, atol=1e-6)
    assert np.allclose(np.diff(stack[4, 0, 0], axis=1), 0, atol=1e-6)
    # The 4 phases of one grating average to mean grey.
    assert np.allclose(stack[1, 2].mean(axis=0), 0.5, atol=1e-6)


def test_the_planted_eye_unit_wins_the_pointing_game():
    probe = LayerProbe(eye_model(), ["pooled"])
    concepts = face_concepts()
    report = measure_selectivity(probe, concepts, seeds=(0, 1, 2))
    layer = report.layer("pooled")
    eye = layer.trained.pointing["eye"]
    assert eye[0] == pytest.approx(1.0)  # the matched filter peaks on an eye every time
    assert layer.chance["eye"] < 0.25  # two 7x7 eyes on a 32x32 image
    assert layer.trained.top_hits["eye"][0] == 9
    assert "part" in layer.detector_of[0]
    # It fires on every face image and on no non-face: a perfect face unit as well.
    assert layer.trained.face_auc[0] == pytest.approx(1.0)
    assert layer.trained.face_auc_pr[0] == pytest.approx(1.0)


def test_pointing_game_counts_only_active_images_and_needs_enough_of_them():
    centres = np.array([[0, 0], [10, 10]])
    masks = np.zeros((40, 16, 16), bool)
    masks[:, 8:12, 8:12] = True
    maxima = np.ones((40, 2))
    maxima[:, 1] = 0.0
    maxima[0, 1] = 1.0  # unit 1 is active on one image of 40 only (under 5 %)
    argmax = np.zeros((40, 2), int)
    argmax[:30, 0] = 1  # unit 0 peaks inside the part on 30 of 40 images
    argmax[0, 1] = 1
    hits, active = pointing_game(maxima, argmax, centres, masks)
    assert hits[0] == pytest.approx(0.75) and active.tolist() == [40, 1]
    assert np.isnan(hits[1])
    assert chance_level(centres, masks) == pytest.approx(0.5)


def test_field_centres_are_the_centres_of_the_probe_boxes():
    probe = LayerProbe(eye_model(), ["pooled"])
    layer = probe.layers[0]
    centres = field_centres(layer.field, layer.shape[:2], probe.input_shape[:2])
    for position in (0, 17, 100, 255):
        row, col = divmod(position, layer.shape[1])
        left, top, right, bottom = layer.box(row, col, probe.input_shape[:2])
        assert left <= centres[position, 1] < right and top <= centres[position, 0] < bottom


def test_the_response_pass_takes_the_earliest_maximum():
    probe = LayerProbe(eye_model(), ["pooled"])
    images = face_concepts().images[:4]
    images[1] = 0.0  # a blank image: every position ties
    (responses,) = ResponseMeter(probe, batch_size=3).run(images, 0, 4)
    maps = np.asarray(probe.forward(images.astype(np.float32))[0])
    flat = maps.reshape(4, -1, maps.shape[-1])
    assert np.array_equal(responses.argmax, flat.argmax(axis=1))  # NumPy: the first maximum
    assert np.allclose(responses.maxima, flat.max(axis=1))
    assert np.allclose(responses.centre, maps[:, 8, 8, :])


def test_roc_auc_and_average_precision_match_brute_force():
    rng = np.random.default_rng(3)
    positives = np.round(rng.normal(1.0, 1.0, (40, 3)), 1)  # rounded: ties happen
    negatives = np.round(rng.normal(0.0, 1.0, (60, 3)), 1)
    pairs = np.array(
        [
            [1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pc, nc)]
            for pc, nc in zip(positives.T, negatives.T, strict=True)
        ]
    ).mean(axis=1)
    assert roc_auc(positives, negatives) == pytest.approx(pairs, abs=1e-12)
    # Average precision: at each distinct threshold, precision times the new recall.
    expected = []
    for c in range(3):
        scores = np.r_[positives[:, c], negatives[:, c]]
        truth = np.r_[np.ones(40), np.zeros(60)]
        total, last_recall = 0.0, 0.0
        for level in np.unique(scores)[::-1]:
            chosen = scores >= level
            recall = truth[chosen].sum() / 40
            total += (recall - last_recall) * truth[chosen].mean()
            last_recall = recall
        expected.append(total)
    assert average_precision(positives, negatives) == pytest.approx(expected, abs=1e-12)
    same = rng.normal(0, 1, (2000, 1))
    assert roc_auc(same[:1000], same[1000:])[0] == pytest.approx(0.5, abs=0.03)


def test_the_random_bar_passes_about_one_percent_of_the_random_pool():
    pool = np.random.default_rng(0).normal(size=1000)
    bar = random_threshold(pool)
    assert bar == pytest.approx(np.percentile(pool, PERCENTILE))
    assert detectors(pool, bar).mean() == pytest.approx(0.01)
    with_gaps = np.r_[pool[:999], np.nan]  # a unit without a score is no evidence: 0
    assert random_threshold(with_gaps) == pytest.approx(np.percentile(np.r_[pool[:999], 0], 99))
    assert not detectors(np.array([np.nan]), -1.0)[0]


def test_a_random_copy_scored_as_the_model_is_near_the_random_rate():
    """A fresh random network in place of the trained one is scored as each random copy
    is: against the others' bar (leave one out), not against a pool that holds it."""
    inputs = keras.Input((32, 32, 1))
    x = keras.layers.Conv2D(32, 5, padding="same", activation="relu", name="conv")(inputs)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    untrained = reinitialized_copy(model, 99)
    report = measure_selectivity(LayerProbe(untrained, ["conv"]), face_concepts())
    layer = report.layer("conv")
    for group in ("edge", "part", "face"):
        rates = layer.copy_rates(group)
        for i, copy in enumerate(layer.random):  # leave-one-out, by hand
            others = np.concatenate([r.score(group) for j, r in enumerate(layer.random) if j != i])
            bar = np.percentile(np.nan_to_num(others), PERCENTILE)
            score = np.nan_to_num(copy.score(group), nan=-np.inf)
            assert rates[i] == pytest.approx(np.mean(score > bar))
        assert layer.fractions("random")[group] == pytest.approx(rates.mean())
        # The untrained model is one more random draw: no better than its copies.
        assert layer.fractions("trained")[group] <= max(rates.max(), 0.1)


def test_reinitialized_copies_repeat_by_seed_and_reset_every_weight():
    inputs = keras.Input((16, 16, 1))
    x = keras.layers.Conv2D(4, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))
    bn = model.get_layer("bn")
    bn.moving_mean.assign(np.full(4, 3.0, np.float32))
    model.get_layer("conv").bias.assign(np.full(4, 2.0, np.float32))
    trained = [np.array(w) for w in model.weights]
    first, again, other = (reinitialized_copy(model, s) for s in (1, 1, 2))
    assert [layer.name for layer in first.layers[1:]] == [layer.name for layer in model.layers[1:]]
    assert all(
        np.array_equal(a, b) for a, b in zip(first.get_weights(), again.get_weights(), strict=True)
    )
    assert not np.array_equal(first.get_layer("conv").kernel, other.get_layer("conv").kernel)
    assert np.array_equal(first.get_layer("bn").moving_mean, np.zeros(4))
    assert np.array_equal(first.get_layer("conv").bias, np.zeros(4))
    assert all(np.array_equal(a, np.array(b)) for a, b in zip(trained, model.weights, strict=True))


def test_the_hierarchy_verdict_applies_each_rule():
    layers = ["a", "b", "c"]
    random = {g: np.array([0.02, 0.02, 0.02]) for g in ("edge", "part", "face")}
    good = {
        "edge": np.array([0.5, 0.1, 0.0]),
        "part": np.array([0.1, 0.3, 0.1]),
        "face": np.array([0.0, 0.1, 0.4]),
    }
    verdict = hierarchy_verdict(layers, good, random)
    assert verdict.shown and (verdict.edge_peak, verdict.part_peak, verdict.face_peak) == (
        "a",
        "b",
        "c",
    )
    assert verdict.sentences()[0].startswith("Hierarchy shown")
    out_of_order = {**good, "part": np.array([0.1, 0.0, 0.3]), "face": np.array([0, 0.4, 0.1])}
    assert not hierarchy_verdict(layers, out_of_order, random).shown
    small = {**good, "part": np.array([0.0, 0.08, 0.0])}
    failed = hierarchy_verdict(layers, small, random)
    assert not failed.shown and any("under 10%" in f for f in failed.failures)
    at_chance = {**random, "edge": np.array([0.3, 0.0, 0.0])}
    high_random = {**random, "edge": np.array([0.3, 0.0, 0.0])}
    assert not hierarchy_verdict(layers, {**good, **at_chance}, high_random).shown
    ties = {**good, "face": np.array([0.0, 0.4, 0.4])}  # the earliest layer wins a tie
    tied = hierarchy_verdict(layers, ties, random)
    assert tied.face_peak == "b" and not tied.shown
    none = {**good, "part": np.zeros(3)}
    assert hierarchy_verdict(layers, none, random).part_peak is None


def test_eyes_are_where_the_planted_faces_have_them():
    concepts = face_concepts()
    mask = concepts.masks["eye"][0]
    for row, col in EYES:
        assert mask[row : row + 7, col : col + 7].all()


def test_show_me_lists_the_planted_eye_unit_and_admits_a_kind_without_detectors():
    probe = LayerProbe(eye_model(), ["pooled"])
    report = measure_selectivity(probe, face_concepts())
    found = strongest_units(report)
    (eye,) = found["eye"]  # one detector: the matched filter, not the random channel
    assert (eye.layer, eye.channel, eye.detector) == ("pooled", 0, True)
    assert eye.text.startswith("eye: pooled ch 0, 9/9 top face images peak on the eyes")
    assert eye.score == pytest.approx(1.0) and eye.bar < 1.0
    layer = report.layer("pooled")
    # Edges: the planted eye filter is a blob pair, not an oriented grating detector; the
    # list names only units above the bar, or says there is none.
    passed = detectors(layer.trained.osi, layer.thresholds["edge"])
    edge = found["edge"]
    if not np.isfinite(layer.trained.osi).any():
        assert edge == ()  # no unit answered enough gratings: nothing to show
    elif passed.any():
        assert edge and all(e.detector for e in edge)
    else:
        (closest,) = edge
        assert not closest.detector
        assert closest.text.startswith("edge: no edge detector above the random-init copies")
    (face,) = found["face"][:1]
    assert (face.channel, face.detector) == (0, True)  # it fires on faces only
    document = report.document()
    assert set(document) == {"selectivity", "random_init", "units_selectivity", "hierarchy"}
    unit = document["units_selectivity"]["pooled"][0]
    assert set(unit) == {"channel", "osi", "pointing", "face_auc", "detector_of"}
    assert set(unit["pointing"]) == {"eye"} and "part" in unit["detector_of"]
    assert set(document["selectivity"]["pooled"]) == {"edge", "part", "face"}
    assert set(document["selectivity"]["pooled"]["part"]) == {"mean", "detectors", "best_part"}
    assert set(document["hierarchy"]) == {"edge_peak", "part_peak", "face_peak", "shown"}


def test_preferred_orientation_is_the_planted_one():
    angles = np.arange(8) * np.pi / 8
    responses = np.zeros((2, 8, 3, 4))
    responses[0, 2, 1] = 4.0  # 45 degrees only
    responses[1, :, 0] = (1 + np.cos(2 * (angles - angles[6])))[:, None]  # 135 degrees
    _, best = orientation_selectivity(responses, angles)
    assert preferred_orientation(responses, angles, best) == pytest.approx([45.0, 135.0])


def test_a_unit_that_fires_on_faces_scores_near_one_and_random_units_near_a_half():
    probe = LayerProbe(eye_model(), ["pooled"])
    layer = measure_selectivity(probe, face_concepts(faces=100, negatives=100)).layer("pooled")
    assert layer.trained.face_auc[0] == pytest.approx(1.0)
    assert abs(layer.trained.face_auc[1] - 0.5) < 0.1  # the planted random kernel
    for copy in layer.random:
        assert np.all(np.abs(copy.face_auc - 0.5) < 0.1)
    assert "face" in layer.detector_of[0] and "face" not in layer.detector_of[1]
