"""Models as others ship them, with answers known by hand: their own preprocessing in
every command, a Permute before the head, three heads, a per-position softmax, a
regression head and a dead channel."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from inspector.cli.runner import run_cli
from inspector.engine.extraction import Inspector
from inspector.engine.model_loading import load_model
from inspector.engine.preprocessing import decide_preprocessing
from layer_inspector.console import build_parser

SIZE = 8


def pictures(folder: Path, count: int = 6, seed: int = 0) -> list[Path]:
    """Seeded RGB pictures at the model's size (no resizing, so pixels are known)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / f"p{i}.png"
        Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)).save(path)
        paths.append(path)
    return paths


def one_by_one(kernel: np.ndarray, bias: np.ndarray) -> keras.Model:
    """A 1x1 conv (relu) -> global pool -> dense: conv_i(x) = relu(x . kernel_i + bias_i)."""
    inputs = keras.Input((SIZE, SIZE, 3))
    conv = keras.layers.Conv2D(len(bias), 1, activation="relu", name="conv")
    x = keras.layers.GlobalAveragePooling2D()(conv(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="head")(x))
    conv.set_weights([kernel.reshape(1, 1, 3, -1).astype(np.float32), bias.astype(np.float32)])
    return model


def run(argv) -> int:
    return run_cli([str(a) for a in argv], build_parser())


@pytest.fixture(scope="module")
def tf_model(tmp_path_factory) -> Path:
    """A model whose own code feeds x / 127.5 - 1, as its sidecar says."""
    folder = tmp_path_factory.mktemp("tf_model")
    kernel = np.array([[1.0, -0.5], [0.5, 1.0], [-1.0, 0.25]])  # (3 channels in, 2 out)
    model = one_by_one(kernel, np.array([0.1, -0.2]))
    path = folder / "net.keras"
    model.save(path)
    (folder / "net.labels.json").write_text(json.dumps({"preprocess": "tf"}))
    return path


def expected_top(files: list[Path], kernel, bias, scale) -> np.ndarray:
    """Per channel, the images' maxima of relu(scale(x) . kernel + bias), best first."""
    raw = np.stack([np.asarray(Image.open(f), np.float64) for f in files])
    maps = np.maximum(scale(raw) @ kernel + bias, 0.0)  # (N, H, W, 2)
    return -np.sort(-maps.max(axis=(1, 2)), axis=0)  # (N, 2)


def test_units_mines_with_the_sidecars_preset_not_0_to_1(tf_model, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYER_INSPECTOR_CACHE", str(tmp_path / "cache"))
    files = pictures(tmp_path / "data")
    out = tmp_path / "out"
    argv = ["units", "--model", tf_model, "--data", tmp_path / "data", "--top-k", "3"]
    assert run([*argv, "--out", out]) == 0
    document = json.loads((out / "units.json").read_text())
    assert (document["preprocess"], document["preprocess_source"]) == ("tf", "sidecar")
    kernel = np.array([[1.0, -0.5], [0.5, 1.0], [-1.0, 0.25]])
    bias = np.array([0.1, -0.2])
    as_tf = expected_top(files, kernel, bias, lambda r: r / 127.5 - 1.0)
    as_unit = expected_top(files, kernel, bias, lambda r: r / 255.0)
    for c, channel in enumerate(document["layers"]["conv"]["channels"]):
        scores = [t["score"] for t in channel["top"]]
        np.testing.assert_allclose(scores, as_tf[: len(scores), c], rtol=1e-5, atol=1e-6)
        assert not np.allclose(scores, as_unit[: len(scores), c], atol=1e-3)
    # The user's choice wins, and says so.
    out = tmp_path / "chosen"
    assert run([*argv, "--preprocess", "0-1", "--out", out]) == 0
    chosen = json.loads((out / "units.json").read_text())
    assert (chosen["preprocess"], chosen["preprocess_source"]) == ("0-1", "user")
    first = [t["score"] for t in chosen["layers"]["conv"]["channels"][0]["top"]]
    np.testing.assert_allclose(first, as_unit[: len(first), 0], rtol=1e-5, atol=1e-6)


def test_every_json_records_the_preset_and_where_it_came_from(tf_model, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYER_INSPECTOR_CACHE", str(tmp_path / "cache"))
    (image,) = pictures(tmp_path / "one", count=1)
    plain = tmp_path / "plain.keras"
    one_by_one(np.eye(3)[:, :2], np.zeros(2)).save(plain)  # no sidecar, no family
    cases = [
        (tf_model, [], ("tf", "sidecar")),
        (plain, [], ("0-1", "default")),
        (plain, ["--preprocess", "caffe"], ("caffe", "user")),
        (plain, ["--value-range", "-2,2"], ("-2,2", "user")),
    ]
    for number, (model, extra, expected) in enumerate(cases):
        out = tmp_path / f"inspect{number}"
        argv = ["inspect", image, "--model", model, "--methods", "none", "--crop", "none"]
        assert run([*argv, *extra, "--out", out]) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert (summary["preprocess"], summary["preprocess_source"]) == expected
    out = tmp_path / "evaluate"
    argv = ["evaluate", "--model", plain, "--images", image, "--methods", "saliency"]
    assert run([*argv, "--randomization", "none", "--steps", "4", "--out", out]) == 0
    document = json.loads((out / "evaluation.json").read_text())
    assert (document["preprocess"], document["preprocess_source"]) == ("0-1", "default")
    assert document["score"] == "probability"


@pytest.mark.slow
def test_keras_applications_are_recognised_by_name_and_by_layer_names(tmp_path):
    base = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), alpha=0.35)
    found = decide_preprocessing(base)
    assert (found.preset, found.source) == ("tf", "model_name")
    renamed = keras.Model(base.inputs, base.outputs, name="my_detector")
    found = decide_preprocessing(renamed)
    assert (found.preset, found.source) == ("tf", "layer_names")
    from inspector.units.probe import LayerProbe

    assert LayerProbe(base, ["Conv1"]).preprocess.preset == "tf"  # mined with auto: tf


def permute_model() -> keras.Model:
    """conv -> PReLU -> Permute((2, 1, 3)) -> Flatten -> Dense on a square map, as older
    detectors were exported; hand-set weights: the conv averages the pixels around each
    one (three gains), and class 1's weights are all positive, so its map is not empty."""
    inputs = keras.Input((6, 6, 1))
    conv = keras.layers.Conv2D(3, 3, padding="same", name="conv")
    x = keras.layers.PReLU(name="prelu")(conv(inputs))
    x = keras.layers.Permute((2, 1, 3), name="permute")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    head = keras.layers.Dense(2, activation="softmax", name="head")
    model = keras.Model(inputs, head(x))
    kernel = np.ones((3, 3, 1, 3), np.float32) * np.array([1, 2, 3], np.float32) / 9.0
    conv.set_weights([kernel, np.zeros(3, np.float32)])
    dense = np.stack([np.full(108, -0.1), np.linspace(0.05, 0.2, 108)], axis=1)
    head.set_weights([dense.astype(np.float32), np.zeros(2, np.float32)])
    return model


def test_the_cam_default_looks_through_a_permute(tmp_path):
    from inspector.attribution import compute_attribution

    model = permute_model()
    pixels = np.zeros((6, 6, 1), np.float32)
    pixels[1:3, 3:6] = 1.0  # asymmetric: a transposed map would be visibly wrong
    inspector = Inspector(model)
    inspection = inspector.inspect(pixels, target=1)
    cam = compute_attribution("gradcam", inspection, inspector)
    assert cam.layer == "prelu"
    # By hand (Selvaraju et al., Eqs. 1-2) at the PReLU, with a tape of our own.
    sub = keras.Model(model.inputs, [model.get_layer("prelu").output, model.output])
    import tensorflow as tf

    x = tf.constant(pixels[None])
    head, flatten, permute = (model.get_layer(n) for n in ("head", "flatten", "permute"))
    with tf.GradientTape() as tape:
        activation, _ = sub(x)
        tape.watch(activation)
        score = (tf.matmul(flatten(permute(activation)), head.kernel) + head.bias)[0, 1]
    grads = tape.gradient(score, activation)[0].numpy()
    acts = activation[0].numpy()
    weights = grads.mean(axis=(0, 1))
    expected = np.maximum((acts * weights).sum(axis=-1), 0.0)  # 6x6: the input's size
    got = cam.heatmap
    assert expected.max() > 0 and got.max() > 0  # a map, not zeros everywhere
    np.testing.assert_allclose(got / got.max(), expected / expected.max(), atol=1e-5)
    assert not np.allclose(got / got.max(), (expected / expected.max()).T, atol=1e-2)


def three_heads() -> keras.Model:
    """A detector's three heads: 4 box offsets (linear), 10 landmarks (linear), face (sigmoid)."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="trunk")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    box = keras.layers.Dense(4, name="box_head")(x)
    marks = keras.layers.Dense(10, name="landmarks")(x)
    face = keras.layers.Dense(1, activation="sigmoid", name="face_prob")(x)
    return keras.Model(inputs, [box, marks, face], name="detector")


def test_every_output_is_reachable_and_named_and_its_logits_record_follows_it(tmp_path):
    model = three_heads()
    inspector = Inspector(model)
    described = inspector.describe_outputs()
    assert [(d.name, d.shape, d.rule) for d in described] == [
        ("box_head", (4,), "none"),
        ("landmarks", (10,), "none"),
        ("face_prob", (1,), "sigmoid"),
    ]
    assert described[0].kind == "values (linear: not classes)" and not described[0].scores_classes
    assert described[2].kind == "a probability (sigmoid)" and described[2].scores_classes
    pixels = np.random.default_rng(1).uniform(0, 1, (SIZE, SIZE, 3)).astype(np.float32)
    face = inspector.inspect(pixels, output="face_prob")
    assert face.layer_names[-1] == "face_prob.logits"  # not box_head.logits
    assert face.score_kind == "logit" and face.labels == ("class 0", "class 1")
    box = inspector.inspect(pixels, output=0, target=2)
    assert box.layer_names[-1] == "box_head.logits"
    assert box.score_kind == "value" and box.probability_rule == "none"
    assert box.labels == ("unit 0", "unit 1", "unit 2", "unit 3")
    np.testing.assert_allclose(box.score, box.probabilities[2], rtol=1e-5)
    # evaluate --output: the face probability is tracked, and recorded.
    path = tmp_path / "detector.keras"
    model.save(path)
    (image,) = pictures(tmp_path / "img", count=1)
    for output, score in (("face_prob", "probability"), ("0", "raw output")):
        out = tmp_path / f"eval_{output}"
        argv = ["evaluate", "--model", path, "--images", image, "--methods", "saliency"]
        extra = ["--output", output, "--randomization", "none", "--steps", "4", "--out", out]
        assert run([*argv, *extra]) == 0
        document = json.loads((out / "evaluation.json").read_text())
        assert document["score"] == score
        assert document["output"] == ("face_prob" if output == "face_prob" else "box_head")
    bad = tmp_path / "bad"
    argv = ["evaluate", "--model", path, "--images", image, "--output", "nose", "--out", bad]
    assert run(argv) == 2 and not bad.exists()


def per_position_softmax() -> keras.Model:
    """A fully convolutional detector: (4, 4, 2) with a softmax on the last axis."""
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu", name="trunk")(inputs)
    x = keras.layers.MaxPooling2D(name="pool")(x)
    outputs = keras.layers.Conv2D(2, 1, activation="softmax", name="prob")(x)
    keras.utils.set_random_seed(2)
    return keras.Model(inputs, outputs)


def test_a_per_position_softmax_is_scored_by_its_logits_and_says_so():
    model = per_position_softmax()
    pixels = np.random.default_rng(3).uniform(0, 1, (SIZE, SIZE, 3)).astype(np.float32)
    inspection = Inspector(model).inspect(pixels, target=1)
    pre = keras.Model(model.inputs, model.get_layer("pool").output)(pixels[None])
    conv = model.get_layer("prob")
    logits = np.asarray(pre) @ np.asarray(conv.kernel)[0, 0] + np.asarray(conv.bias)  # (1,3,3,2)
    expected_score = logits[0, ..., 1].mean()
    assert inspection.score_kind == "mean logit over positions"
    assert inspection.score == pytest.approx(float(expected_score), rel=1e-4)
    per_position = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(
        inspection.probabilities, per_position[0].mean(axis=(0, 1)), rtol=1e-4
    )
    assert inspection.probability_rule == "softmax"  # probabilities, shown as such
    record = inspection.layer("prob.logits")
    np.testing.assert_allclose(record.activation, logits[0].mean(axis=(0, 1)), rtol=1e-4)


def test_a_dead_channel_is_never_active_and_gets_no_crops(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYER_INSPECTOR_CACHE", str(tmp_path / "cache"))
    pictures(tmp_path / "data")
    path = tmp_path / "dead.keras"
    one_by_one(np.ones((3, 2)), np.array([0.0, -100.0])).save(path)  # channel 1: never
    out = tmp_path / "out"
    argv = ["units", "--model", path, "--data", tmp_path / "data", "--top-k", "4"]
    assert run([*argv, "--out", out]) == 0
    channels = json.loads((out / "units.json").read_text())["layers"]["conv"]["channels"]
    assert len(channels[0]["top"]) == 4 and channels[1]["top"] == []
    assert channels[1]["fraction_active"] == 0.0


def test_a_tool_saved_model_carries_its_preset(tmp_path):
    from inspector.engine.model_loading import save_model

    model = one_by_one(np.eye(3)[:, :2], np.zeros(2))
    save_model(model, tmp_path / "m.keras", ("a", "b"), "torch")
    loaded = load_model(tmp_path / "m.keras")
    found = decide_preprocessing(loaded)
    assert loaded.class_names == ("a", "b") and (found.preset, found.source) == ("torch", "sidecar")
    save_model(loaded, tmp_path / "again.keras", None)  # kept through a re-save
    assert decide_preprocessing(load_model(tmp_path / "again.keras")).preset == "torch"
