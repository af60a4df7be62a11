"""Model loading: safe by default, clear about broken and hostile files."""

from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import pytest

from inspector import ModelLoadError, UnsafeModelError
from inspector.engine.model_loading import load_model, read_labels, save_model


def lambda_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Lambda(lambda x: x * 2, name="doubler"),
            keras.layers.Dense(1),
        ],
        name="with_lambda",
    )


def plain_model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(2, 3),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ],
        name="plain",
    )


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lambda_model_is_refused_and_names_the_layer(tmp_path, suffix):
    path = tmp_path / f"m{suffix}"
    lambda_model().save(path)
    with pytest.raises(UnsafeModelError, match=r"Lambda layer\(s\) doubler.*--unsafe"):
        load_model(path)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_lambda_model_loads_when_the_user_says_unsafe(tmp_path, suffix):
    path = tmp_path / f"m{suffix}"
    original = lambda_model()
    original.save(path)
    loaded = load_model(path, unsafe=True)
    x = np.ones((1, 4), np.float32)
    np.testing.assert_allclose(loaded(x), original(x), rtol=1e-6)


def test_lambda_inside_a_nested_model_is_refused(tmp_path):
    inner = keras.Sequential(
        [keras.Input((4,)), keras.layers.Lambda(lambda x: x + 1, name="hidden")]
    )
    outer = keras.Sequential([keras.Input((4,)), inner, keras.layers.Dense(1)])
    outer.save(tmp_path / "nested.keras")
    with pytest.raises(UnsafeModelError, match="hidden"):
        load_model(tmp_path / "nested.keras")


def test_hostile_config_pointing_at_os_system_is_not_loaded(tmp_path):
    """A config that names an arbitrary Python function must not be resolved."""
    path = tmp_path / "hostile.keras"
    plain_model().save(path)
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(entries["config.json"])
    dense = config["config"]["layers"][-1]
    dense["config"]["activation"] = {
        "module": "os",
        "class_name": "function",
        "config": "system",
        "registered_name": "function",
    }
    entries["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(ModelLoadError, match="Keras could not load"):
        load_model(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.keras", b"", "which is empty"),
        ("random.keras", bytes(range(256)) * 4, "not one"),
        ("picture.keras", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not one"),
        ("random.h5", b"not hdf5 at all" * 10, "HDF5 cannot open"),
        ("model.onnx", b"whatever", "ending in .keras or .h5"),
    ],
)
def test_broken_files_get_clear_errors(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match=message) as caught:
        load_model(path)
    assert name in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(tmp_path / "nowhere.keras")


def test_truncated_keras_zip(tmp_path):
    path = tmp_path / "m.keras"
    plain_model().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match=r"m\.keras"):
        load_model(path)


def test_zip_without_config_is_not_a_model(tmp_path):
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelLoadError, match=r"config\.json"):
        load_model(path)


def test_weights_only_h5_is_explained(tmp_path):
    path = tmp_path / "w.weights.h5"
    plain_model().save_weights(path)
    renamed = tmp_path / "w.h5"
    path.rename(renamed)
    with pytest.raises(ModelLoadError, match="weights or other data only"):
        load_model(renamed)


def test_labels_travel_inside_the_keras_file(tmp_path):
    path = tmp_path / "labelled.keras"
    save_model(plain_model(), path, labels=("cat", "dog"))
    assert read_labels(path) == ("cat", "dog")
    assert load_model(path).class_names == ("cat", "dog")
    assert not list(tmp_path.glob("*.partial*")), "the temporary file is renamed into place"


def test_labels_from_a_sidecar_file(tmp_path):
    path = tmp_path / "m.h5"
    plain_model().save(path)
    (tmp_path / "m.labels.json").write_text('["a", "b"]')
    assert load_model(path).class_names == ("a", "b")
