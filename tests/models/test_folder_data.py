"""The user's own folder: layouts, sizes, minimums, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inspector.engine.errors import DatasetError
from models.datasets.folder_data import class_order, load_image_folder


def save_image(path: Path, size=(40, 30), mode="RGB", value=128) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(abs(hash(path.name)) % 2**32)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    pixels[..., 0] = value
    Image.fromarray(pixels).convert(mode).save(path)


def faces_tree(root: Path, faces: int = 8, others: int = 8) -> Path:
    for i in range(faces):
        save_image(root / "face" / f"f{i}.png", size=(40 + i, 30), value=200)
    for i in range(others):
        save_image(root / "not_face" / f"n{i}.jpg", size=(25, 60), mode="L", value=20)
    return root


def test_a_faces_and_non_faces_folder(tmp_path):
    data = load_image_folder(faces_tree(tmp_path), input_size=32)
    assert data.class_names == ("not_face", "face")  # index 1 = the sigmoid's class
    assert len(data.train) + len(data.held_out) == 16 and not data.skipped
    assert data.train.images.shape[1:] == (32, 32, 1) and data.train.images.dtype == np.uint8
    assert np.bincount(data.held_out.labels).tolist() == [2, 2]
    faces = data.train.images[data.train.labels == 1]
    assert faces.mean() > data.train.images[data.train.labels == 0].mean()  # labels follow files


def test_an_lfw_style_tree_with_a_minimum_per_class(tmp_path):
    for person, count in {"Ann_A": 6, "Bob_B": 5, "Cy_C": 1, "Di_D": 2}.items():
        for i in range(count):
            save_image(tmp_path / person / f"{person}_{i:04d}.jpg", size=(250, 250))
    data = load_image_folder(tmp_path, input_size=32, min_per_class=5)
    assert data.class_names == ("Ann_A", "Bob_B")
    left_out = [line for line in data.skipped if "class left out" in line]
    assert len(left_out) == 2 and any("Cy_C/" in line for line in left_out)
    everything = load_image_folder(tmp_path, input_size=32)
    assert everything.class_names == ("Ann_A", "Bob_B", "Cy_C", "Di_D")
    assert (everything.train.labels == 2).sum() == 1  # a one-image class stays in training


def test_unreadable_files_are_skipped_and_counted(tmp_path):
    faces_tree(tmp_path)
    (tmp_path / "face" / "broken.jpg").write_bytes(b"not a jpeg at all")
    good = tmp_path / "face" / "f0.png"
    (tmp_path / "face" / "truncated.png").write_bytes(good.read_bytes()[:60])
    (tmp_path / "face" / "notes.txt").write_text("ignored: not an image file")
    save_image(tmp_path / "face" / ".hidden" / "x.png")  # hidden folders are ignored
    data = load_image_folder(tmp_path, input_size=32)
    assert len(data.skipped) == 2
    assert any(s.startswith("face/broken.jpg: ") for s in data.skipped)
    assert len(data.train) + len(data.held_out) == 16


def test_rgb_input_and_any_size(tmp_path):
    save_image(tmp_path / "a" / "big.png", size=(300, 120), mode="RGBA")
    save_image(tmp_path / "a" / "small.gif", size=(9, 9), mode="P")
    save_image(tmp_path / "b" / "one.bmp", size=(64, 64))
    save_image(tmp_path / "b" / "two.tif", size=(17, 40), mode="L")
    data = load_image_folder(tmp_path, input_size=24, channels=3)
    assert data.train.images.shape[1:] == (24, 24, 3)


@pytest.mark.parametrize(
    "layout, message",
    [
        ({}, "has no subfolders"),
        ({"face": 3}, r"with 1 such class\(es\) \['face'\]"),
        ({"face": 0, "not_face": 0}, "with 0 such class"),
    ],
)
def test_folders_that_cannot_train_are_refused(tmp_path, layout, message):
    for name, count in layout.items():
        (tmp_path / name).mkdir()
        for i in range(count):
            save_image(tmp_path / name / f"{i}.png")
    with pytest.raises(DatasetError, match=message):
        load_image_folder(tmp_path)


def test_missing_folder_and_bad_minimum(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_image_folder(tmp_path / "nope")
    with pytest.raises(DatasetError, match="min_per_class >= 1"):
        load_image_folder(tmp_path, min_per_class=0)
    faces_tree(tmp_path, faces=3, others=3)
    with pytest.raises(DatasetError, match=r"2 class\(es\) left out for too few images"):
        load_image_folder(tmp_path, min_per_class=4)


def test_class_order_puts_the_negative_class_first():
    assert class_order(["faces", "non-faces"]) == ("non-faces", "faces")
    assert class_order(["cat", "not_cat"]) == ("not_cat", "cat")
    assert class_order(["dog", "cat"]) == ("cat", "dog")
    assert class_order(["b", "not_a", "a"]) == ("a", "b", "not_a")
