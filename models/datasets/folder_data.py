"""Training data from the user's own folder: one subfolder per class.

Both common layouts work:

* faces / non-faces: ``data/face/*.jpg`` and ``data/not_face/*.png`` (two classes);
* an LFW-style per-person tree: ``lfw/George_W_Bush/*.jpg``, one class per
  person; ``min_per_class`` keeps only people with enough pictures.

Every file is decoded up front, with the same Pillow path as ``load_image``
(EXIF orientation, any mode, centre crop to a square, bilinear resize), so a
broken file is found and skipped (and counted) before training starts and can
never stop an epoch halfway.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inspector.engine.errors import DatasetError, ImageLoadError
from inspector.engine.image_loading import load_image
from inspector.engine.inspection import read_only
from models.datasets.face_data import FaceDataset, LabelledImages, check_trainable, split_dataset
from models.face_cnn import CHANNELS, INPUT_SIZE

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm"}
)
# Folder names that mean "the other class": put at index 0 so that, for two
# classes, the sigmoid unit answers "is it the named thing?".
_NEGATIVE_PREFIXES = ("not", "non", "no_", "no-", "neg", "background", "other")


def class_order(names: list[str]) -> tuple[str, ...]:
    """Sorted class names; for two classes a negative-sounding name comes first."""
    names = sorted(names)
    if len(names) == 2 and _is_negative(names[1]) and not _is_negative(names[0]):
        names.reverse()
    return tuple(names)


def _is_negative(name: str) -> bool:
    return name.lower().startswith(_NEGATIVE_PREFIXES)


def _class_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is a file"
        raise DatasetError(
            f"Expected a folder of class subfolders. Received: {str(root)!r}, which {what}."
        )
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DatasetError(
            "Expected one subfolder per class (e.g. face/ and not_face/, or one folder "
            f"per person). Received: {str(root)!r}, which has no subfolders."
        )
    return folders


def _image_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in IMAGE_SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _decode(path: Path, input_size: int, channels: int) -> np.ndarray:
    prepared = load_image(
        path, input_shape=(input_size, input_size, channels), value_range=(0.0, 255.0)
    )
    return np.clip(np.rint(prepared.pixels), 0, 255).astype(np.uint8)


def load_image_folder(
    root: str | Path,
    *,
    input_size: int = INPUT_SIZE,
    channels: int = CHANNELS,
    min_per_class: int = 1,
) -> FaceDataset:
    """Read a class-per-subfolder image tree and split it with the fixed split.

    Args:
        root: the folder; each subfolder (searched recursively) is one class.
        input_size: every image is centre-cropped to a square and resized to this.
        channels: 1 (grayscale) or 3 (RGB).
        min_per_class: classes with fewer readable images are left out (counted).

    Returns:
        A ``FaceDataset`` whose ``skipped`` lists every unreadable file and every
        class left out, with the reason.

    Raises:
        DatasetError: missing or empty folder, no subfolders, or fewer than two
            classes left with enough readable images.
    """
    if min_per_class < 1:
        raise DatasetError(f"Expected min_per_class >= 1. Received: {min_per_class}.")
    root = Path(root)
    images: dict[str, list[np.ndarray]] = {}
    skipped: list[str] = []
    for folder in _class_folders(root):
        decoded = []
        for path in _image_files(folder):
            try:
                decoded.append(_decode(path, input_size, channels))
            except ImageLoadError as error:
                skipped.append(f"{path.relative_to(root)}: {error}")
        images[folder.name] = decoded
    unreadable = len(skipped)
    small = [name for name, found in images.items() if len(found) < min_per_class]
    for name in small:
        skipped.append(
            f"{name}/: class left out, {len(images.pop(name))} readable image(s) "
            f"< min_per_class={min_per_class}"
        )
    _check_enough(root, images, small, min_per_class, unreadable)
    names = class_order(list(images))
    stacked = np.stack([image for name in names for image in images[name]])
    labels = np.concatenate([np.full(len(images[n]), i, np.int32) for i, n in enumerate(names)])
    everything = LabelledImages(read_only(stacked), read_only(labels), names)
    check_trainable(everything, str(root))
    return split_dataset(everything, f"image folder {root}", skipped)


def _check_enough(root: Path, images: dict, small: list[str], min_per_class: int, unreadable: int):
    usable = sorted(name for name, found in images.items() if found)
    if len(usable) >= 2:
        return
    raise DatasetError(
        f"Expected at least two class subfolders with at least {min_per_class} readable "
        f"image(s) each. Received: {str(root)!r} with {len(usable)} such class(es) {usable}; "
        f"{len(small)} class(es) left out for too few images, {unreadable} unreadable file(s)."
    )
