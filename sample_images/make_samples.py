"""Write the sample images of layer-inspector from the copies scikit-image and matplotlib ship.

Run from the repository root with the development environment (scikit-image is a
runtime dependency; matplotlib is needed only here, for its Grace Hopper portrait):

    python sample_images/make_samples.py

Every image is public domain or CC0; SOURCES.md gives the source and licence of
each. The images are shrunk so that the longer side is at most ``MAX_SIDE``
pixels and the whole folder stays well under 1.5 MB.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

MAX_SIDE = 512
JPEG_QUALITY = 88
HERE = Path(__file__).resolve().parent


def grace_hopper() -> np.ndarray:
    """matplotlib's sample portrait of Grace Hopper (US Navy photograph)."""
    from matplotlib import cbook  # development-only dependency, used nowhere else

    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        return np.asarray(Image.open(handle).convert("RGB"))


def skimage_image(name: str) -> np.ndarray:
    """One of scikit-image's bundled images (no download needed for these)."""
    from skimage import data

    return getattr(data, name)()


# file name -> loader; faces first, then non-faces.
SAMPLES = {
    "astronaut.jpg": partial(skimage_image, "astronaut"),
    "grace_hopper.jpg": grace_hopper,
    "camera.png": partial(skimage_image, "camera"),
    "chelsea_cat.jpg": partial(skimage_image, "chelsea"),
    "coffee.jpg": partial(skimage_image, "coffee"),
    "rocket.jpg": partial(skimage_image, "rocket"),
}


def shrink(image: Image.Image, max_side: int = MAX_SIDE) -> Image.Image:
    """``image`` scaled down (never up) so that its longer side is ``max_side``."""
    scale = max_side / max(image.size)
    if scale >= 1:
        return image
    size = (round(image.size[0] * scale), round(image.size[1] * scale))
    return image.resize(size, Image.Resampling.LANCZOS)


def write_samples(folder: Path = HERE) -> list[Path]:
    """Write every sample into ``folder``; returns the paths written."""
    written = []
    for file_name, loader in SAMPLES.items():
        image = shrink(Image.fromarray(loader()))
        path = folder / file_name
        if path.suffix == ".jpg":
            image.save(path, quality=JPEG_QUALITY, optimize=True)
        else:
            image.save(path, optimize=True)
        written.append(path)
    return written


def main() -> int:
    paths = write_samples()
    total = sum(path.stat().st_size for path in paths)
    for path in paths:
        with Image.open(path) as image:
            print(f"{path.name:20s} {image.mode:4s} {image.size[0]}x{image.size[1]}")
    print(f"{len(paths)} images, {total / 1e6:.2f} MB in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
