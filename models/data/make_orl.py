"""Bundle the ORL face database as one compressed file: ``python -m models.data.make_orl SRC``.

Reads ``SRC/s1 .. s40/1.pgm .. 10.pgm`` (92x112 8-bit grey; the project's copy is
``../shared/data/orl_faces``) and writes ``models/data/orl_faces.npz`` with three
arrays and no pickled objects (load it with ``allow_pickle=False``):

* ``images``: uint8 ``(400, 112, 92)``, the pixels unchanged;
* ``subject``: int16 ``(400,)``, the person, 1..40 (folder ``s<subject>``);
* ``photo``: int16 ``(400,)``, the photo of that person, 1..10.

The images are credited to the Olivetti Research Laboratory (see models/data/DATA.md).
Run time never reads ``SRC``: a fresh clone trains from the ``.npz`` alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ORL_FILE = Path(__file__).resolve().parent / "orl_faces.npz"
SUBJECTS, PHOTOS, SHAPE = 40, 10, (112, 92)


def read_orl(source: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ORL photo under ``source``, subject by subject, photo by photo.

    Returns:
        ``(images uint8 (400, 112, 92), subject int16 (400,), photo int16 (400,))``.
    """
    images, subjects, photos = [], [], []
    for subject in range(1, SUBJECTS + 1):
        for photo in range(1, PHOTOS + 1):
            path = source / f"s{subject}" / f"{photo}.pgm"
            with Image.open(path) as opened:
                pixels = np.asarray(opened.convert("L"))
            if pixels.shape != SHAPE:
                raise ValueError(
                    f"Expected a {SHAPE[1]}x{SHAPE[0]} grey image. Received: {path} of "
                    f"shape {pixels.shape}."
                )
            images.append(pixels)
            subjects.append(subject)
            photos.append(photo)
    return np.stack(images), np.asarray(subjects, np.int16), np.asarray(photos, np.int16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.data.make_orl")
    parser.add_argument("source", type=Path, help="folder holding s1 .. s40")
    parser.add_argument("--out", type=Path, default=ORL_FILE)
    args = parser.parse_args(argv)
    images, subject, photo = read_orl(args.source)
    np.savez_compressed(args.out, images=images, subject=subject, photo=photo)
    print(f"Wrote {args.out}: {len(images)} images, {args.out.stat().st_size:,} bytes.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
