"""Network Dissection on hand-built units: an eye detector, a random unit, the controls."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from inspector.units.concepts import ConceptSet, combine, synthetic_edges
from inspector.units.dissection import IOU_THRESHOLD, Dissector
from inspector.units.probe import LayerProbe
from tests.inspector.units.planted import BIAS, PATTERN, SIZE, noise_images, paste

EYES = ((8, 4), (8, 20))  # pattern top-left corners: the two "eyes" of every face image


def eye_model(pool: int = 2) -> keras.Model:
    """detector (ch 0: matched filter of the eye pattern, ch 1: random) -> max pool.

    With ``pool=2`` the maps are 16x16, the size of the face model's part layers.
    """
    inputs = keras.Input((SIZE, SIZE, 1))
    conv = keras.layers.Conv2D(2, 7, padding="same", activation="relu", name="detector")
    pooled = keras.layers.MaxPooling2D(pool, name="pooled")(conv(inputs))
    outputs = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(pooled))
    kernel = np.zeros((7, 7, 1, 2), np.float32)
    kernel[..., 0, 0] = PATTERN - 0.5
    kernel[..., 0, 1] = np.random.default_rng(5).normal(0, 0.3, (7, 7))
    conv.set_weights([kernel, np.array([-BIAS, 0.0], np.float32)])
    return keras.Model(inputs, outputs)


def face_concepts(faces: int = 30, negatives: int = 30) -> ConceptSet:
    images = noise_images(faces + negatives, seed=4)
    images = paste(images, {i: EYES[0] for i in range(faces)})
    images = paste(images, {i: EYES[1] for i in range(faces)})
    eye = np.zeros((faces + negatives, SIZE, SIZE), bool)
    face = np.zeros_like(eye)
    for row, col in EYES:
        eye[:faces, row : row + 7, col : col + 7] = True
    face[:faces, 4:28, :] = True
    everywhere = np.ones(faces + negatives, bool)
    is_negative = np.arange(faces + negatives) >= faces
    return ConceptSet(
        images,
        {"eye": eye, "face": face},
        {"eye": everywhere, "face": everywhere},
        {"eye": "part", "face": "face"},
        is_negative,
    )


@pytest.fixture(scope="module")
def dissection():
    probe = LayerProbe(eye_model(), ["pooled"])
    return Dissector(probe).dissect(face_concepts())[0]


def test_eye_unit_is_labelled_eye(dissection):
    assert dissection.labels[0] == "eye" and dissection.groups[0] == "part"
    assert dissection.scores[0] > 0.2


def test_random_unit_gets_none(dissection):
    assert dissection.labels[1] == "none"
    assert dissection.iou[1].max() < IOU_THRESHOLD


def test_controls_come_out_near_zero(dissection):
    assert dissection.controls["shuffled_masks"] == 0.0
    assert dissection.controls["masks_over_non_faces"] == 0.0
    assert dissection.fractions == {"edge": 0.0, "part": 0.5, "face": 0.0, "none": 0.5}


def test_synthetic_edges_have_their_lines_as_masks():
    edges = synthetic_edges(32, 1, per_kind=4)
    assert set(edges.names) == {"edge_0", "edge_45", "edge_90", "edge_135"}
    horizontal = edges.masks["edge_0"]
    step = np.flatnonzero(horizontal.any(axis=(1, 2)))[0]
    # A horizontal step edge changes brightness across rows only, on its mask's rows.
    image = edges.images[step, ..., 0]
    assert np.all(image == image[:, :1])
    rows = np.flatnonzero(np.abs(np.diff(image[:, 0])) > 0)
    assert np.all(horizontal[step][rows, 0] | horizontal[step][rows + 1, 0])
    both = combine(edges, face_concepts(4, 4))
    assert not both.annotated["eye"][: len(edges.images)].any()
    assert both.annotated["edge_0"][: len(edges.images)].all()


def test_edge_unit_on_a_vertical_edge_detector_gets_its_orientation():
    inputs = keras.Input((SIZE, SIZE, 1))
    conv = keras.layers.Conv2D(1, 3, padding="same", name="sobel")
    outputs = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling2D()(conv(inputs)))
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], np.float32)  # x-derivative
    conv.set_weights([sobel[..., None, None], np.zeros(1, np.float32)])
    model = keras.Model(inputs, outputs)
    result = Dissector(LayerProbe(model, ["sobel"])).dissect(synthetic_edges(SIZE, 1))[0]
    assert result.labels[0] == "edge_90"  # vertical edge line = horizontal intensity change


def test_cancel_is_polled_before_every_batch_and_stops_the_dissection(dissection):
    from inspector.engine.errors import CancelledError

    probe = LayerProbe(eye_model(), ["pooled"])
    polls = []

    def never() -> bool:
        polls.append(1)
        return False

    again = Dissector(probe, batch_size=32).dissect(face_concepts(), cancelled=never)[0]
    # 60 images in batches of 32: 2 batches for the thresholds, the real masks and the
    # shuffled control each, and 1 for the 30 negatives of the non-face control.
    assert len(polls) == 2 + 2 + 2 + 1
    np.testing.assert_array_equal(again.iou, dissection.iou)
    assert again.labels == dissection.labels
    asked = []

    def on_third_poll() -> bool:
        asked.append(1)
        return len(asked) == 3

    with pytest.raises(CancelledError, match="Received: a cancel request"):
        Dissector(probe, batch_size=32).dissect(face_concepts(), cancelled=on_third_poll)
    assert len(asked) == 3  # stopped at once: no batch ran after the request


def test_threshold_is_the_top_quantile_of_the_raw_map_locations():
    """Bau et al. take T_k over the activation map's own locations, before upsampling:
    recompute it independently from the model's raw 8x8 pooled maps with NumPy."""
    from inspector.units.dissection import TOP_QUANTILE

    model = eye_model()
    concepts = face_concepts()
    probe = LayerProbe(model, ["pooled"])
    levels = Dissector(probe, batch_size=7).thresholds(concepts.images)[0]
    pooled = keras.Model(model.inputs, model.get_layer("pooled").output)
    raw = np.asarray(pooled(concepts.images))  # (N, 8, 8, 2)
    per_unit = raw.transpose(3, 0, 1, 2).reshape(2, -1)
    m = int(np.ceil(TOP_QUANTILE * per_unit.shape[1]))
    expected = -np.sort(-per_unit, axis=1)[:, m - 1]
    np.testing.assert_allclose(levels, expected, rtol=1e-6)
    # Over the upsampled pixels the level of the random unit would differ.
    upsampled = np.asarray(keras.ops.image.resize(raw, (SIZE, SIZE), interpolation="bilinear"))
    flat = upsampled[..., 1].ravel()
    assert abs(np.sort(flat)[-int(np.ceil(TOP_QUANTILE * flat.size))] - levels[1]) > 1e-3


def test_shuffled_control_measures_chance_overlap_of_a_sparse_unit_on_small_maps():
    """On 8x8 maps a sparse unit (T = 0: fewer than q of its locations are active)
    is hot over its whole upsampled footprint, 6 % of the pixels; against a mask
    covering 37.5 % of them, chance alone gives IoU ~ pq / (p + q - pq) = 0.057,
    above the 0.04 threshold. The shuffled-mask control must report that overlap."""
    from inspector.units import dissection_scoring as scoring

    concepts = face_concepts()
    dissector = Dissector(LayerProbe(eye_model(pool=4), ["pooled"]))
    levels = dissector.thresholds(concepts.images)
    assert levels[0][0] == 0.0  # the eye unit is sparse
    names = concepts.names
    masks = np.stack([concepts.masks[n] for n in names], -1)
    annotated = np.stack([concepts.annotated[n] for n in names], -1)
    shuffled = scoring.shuffled_masks(masks, annotated, seed=0)
    inter, area = dissector.counts(concepts.images, shuffled, annotated, levels)[0]
    face = names.index("face")
    pixels = masks[..., face].size
    p, q = area[0, face] / pixels, masks[..., face].sum() / pixels
    chance = p * q / (p + q - p * q)
    iou = scoring.iou(inter, area, masks.sum(axis=(0, 1, 2)))[0, face]
    assert chance > IOU_THRESHOLD and iou == pytest.approx(chance, rel=0.3)
    assert dissector.dissect(concepts)[0].controls["shuffled_masks"] > 0


def test_wide_layers_at_a_large_input_get_a_smaller_batch():
    from types import SimpleNamespace

    from inspector.units.dissection import LAYER_BUDGET_BYTES, batch_for

    def probe(size, widest):
        layers = [SimpleNamespace(shape=(7, 7, widest)), SimpleNamespace(shape=(7, 7, 8))]
        return SimpleNamespace(input_shape=(size, size, 3), layers=layers)

    assert batch_for(probe(64, 32), 32) == 32  # the face model: 1 MB per image
    per_image = 2 * 4 * 224 * 224 * 960  # a MobileNetV2 expansion at 224 px
    assert batch_for(probe(224, 960), 32) == max(1, LAYER_BUDGET_BYTES // per_image) < 32
    assert batch_for(probe(2048, 4096), 32) == 1  # never below one image


def test_a_cut_batch_gives_the_same_dissection(monkeypatch):
    from inspector.units import dissection as module

    probe = LayerProbe(eye_model(), ["pooled"])
    whole = Dissector(probe).dissect(face_concepts())[0]
    per_image = 2 * 4 * SIZE * SIZE * 2
    monkeypatch.setattr(module, "LAYER_BUDGET_BYTES", 3 * per_image)
    cut = Dissector(probe)
    assert cut.batch_size == 3
    small = cut.dissect(face_concepts())[0]
    np.testing.assert_array_equal(small.iou, whole.iou)
    assert small.labels == whole.labels
