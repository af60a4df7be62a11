"""Non-face images, thousands of them, cut at run time from offline sources.

Four kinds, each a deterministic function of a seed:

* ``natural``: square crops of the photos and scans that scikit-image ships (the
  cat, the coffee cup, the rocket, coins, bricks, grass, gravel, text, a horse,
  the Hubble deep field, ...), at sides from 24 px to the whole picture, at any
  position, 40 % of them reaching past the picture's edge (mirrored and
  blurred there, as face crops are). The photos with people in them
  (``astronaut``, ``camera``) are left out entirely.
* ``lfw``: the 100 non-face patches of ``skimage.data.lfw_subset()``.
* ``hard``: crops of ORL face photos that miss the face: hair, forehead, chin,
  collar, an ear, the background, or a part of the face at most (never both
  eyes, never an eye with the mouth).
* ``blobs``: synthetic "two dark blobs above a line" textures, the cartoon that a
  lazy face detector would accept.

Which photos and which ORL people may be used is the caller's choice; that is how
``models.datasets.face_data`` keeps its held-out set apart by source and by person.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from models.datasets.face_sources import cut

# name -> scikit-image loader. None of these photos shows a person.
NATURAL_SOURCES = (
    "brick",
    "chelsea",
    "clock",
    "coffee",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "microaneurysms",
    "moon",
    "page",
    "retina",
    "rocket",
    "shepp_logan_phantom",
    "stereo_motorcycle",
    "text",
    "cell",
)
LEFT_OUT_SOURCES = ("astronaut", "camera")  # they show people
# Sources that are drawn or computed, not photographed (scikit-image's own
# descriptions): a colour wheel, a logo, a clip-art silhouette of a horse and a CT
# phantom. They stay among the training negatives, but the natural-image sets
# (``models.datasets.unit_data``) leave them out: their pure black-on-white areas drive a
# ReLU unit harder than any photo does.
GENERATED_SOURCES = ("colorwheel", "horse", "logo", "shepp_logan_phantom")
MIN_CROP = 24  # px of the source photo: below that a crop is mostly one colour
PAST_EDGE_SHARE = 0.4
DOTS_SHARE = 0.35  # of the blob textures: discs in rows or scattered


@lru_cache(maxsize=len(NATURAL_SOURCES))
def natural_photo(name: str) -> np.ndarray:
    """One scikit-image photo as uint8 grey ``(H, W)``, at most 512 px on its longer side."""
    import skimage.data

    if name not in NATURAL_SOURCES:
        raise ValueError(f"Expected one of {NATURAL_SOURCES}. Received: {name!r}.")
    picture = getattr(skimage.data, name)()
    if isinstance(picture, tuple):  # stereo_motorcycle: (left, right, disparity)
        picture = picture[0]
    picture = np.asarray(picture)
    if picture.dtype == bool or picture.dtype.kind == "f":
        picture = np.clip(picture.astype(np.float64) * 255.0, 0, 255).astype(np.uint8)
    image = Image.fromarray(picture)
    if image.mode == "RGBA":  # the logo: paint its transparency white
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image)
    image = image.convert("L")
    image.thumbnail((512, 512), Image.Resampling.LANCZOS)
    out = np.asarray(image)
    out.flags.writeable = False
    return out


def natural_crops(names, count_per_source: int, size: int, seed: int) -> np.ndarray:
    """Random square crops of the named photos.

    Args:
        names: photo names from ``NATURAL_SOURCES``.
        count_per_source: crops of each photo.
        size: output side in pixels.
        seed: the crops are a function of it (and of each name).

    Returns:
        uint8 ``(len(names) * count_per_source, size, size)``.
    """
    crops = []
    for name in names:
        photo = natural_photo(name)
        rng = np.random.default_rng([seed, NATURAL_SOURCES.index(name)])
        height, width = photo.shape
        largest = min(height, width)
        for _ in range(count_per_source):
            side = float(np.exp(rng.uniform(np.log(MIN_CROP), np.log(largest))))
            slack = 0.3 * side if rng.random() < PAST_EDGE_SHARE else 0.0
            left = rng.uniform(-slack, width - side + slack)
            top = rng.uniform(-slack, height - side + slack)
            image = cut(photo, (left, top, left + side, top + side), size)
            crops.append(image[:, ::-1] if rng.random() < 0.5 else image)
    return np.stack(crops)


def face_free_crops(
    photos: np.ndarray, landmarks: np.ndarray, per_photo: int, size: int, seed: int
) -> np.ndarray:
    """Crops of face photos that miss the face: never both eyes, never an eye and the mouth.

    Args:
        photos: uint8 ``(N, H, W)`` face photos.
        landmarks: ``(N, 5, 2)`` their landmarks (``models.datasets.face_parts`` order).
        per_photo: crops of each photo.
        size: output side.
        seed: the crops are a function of it.

    Returns:
        uint8 ``(N * per_photo, size, size)``.
    """
    rng = np.random.default_rng(seed)
    crops = []
    for photo, marks in zip(photos, landmarks, strict=True):
        height, width = photo.shape
        eyes, mouth = marks[:2], (marks[3] + marks[4]) / 2
        scale = float(np.linalg.norm(mouth - eyes.mean(0)))
        made = 0
        while made < per_photo:
            side = rng.uniform(0.8, 2.8) * scale
            left = rng.uniform(-0.25 * side, width - 0.75 * side)
            top = rng.uniform(-0.25 * side, height - 0.75 * side)
            box = np.array([left, top, left + side, top + side])
            inside = [_contains(box, point) for point in (eyes[0], eyes[1], mouth)]
            if sum(inside) >= 2:
                continue
            image = cut(photo, box, size)
            crops.append(image[:, ::-1] if rng.random() < 0.5 else image)
            made += 1
    return np.stack(crops)


def _contains(box: np.ndarray, point: np.ndarray) -> bool:
    return bool(box[0] <= point[0] < box[2] and box[1] <= point[1] < box[3])


def blob_textures(count: int, size: int, seed: int) -> np.ndarray:
    """Two dark blobs above a dark line, on textured grounds: face-like, not faces.

    A third of them are scattered or gridded discs instead (dark or bright), since
    round blobs in rows are what the first models called faces (a crop of coins).

    Returns:
        uint8 ``(count, size, size)``.
    """
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        ground = rng.uniform(90, 230)
        noise = rng.normal(0, rng.uniform(2, 25), (size, size))
        slope = np.linspace(-1, 1, size)[:, None] * rng.uniform(-40, 40)
        canvas = Image.fromarray(np.clip(ground + noise + slope, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(canvas)
        if rng.random() < DOTS_SHARE:
            _dots(draw, rng, size, ground)
            images.append(
                np.asarray(canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 2.0))))
            )
            continue
        dark = int(ground - rng.uniform(50, 90))
        gap, eye_y = rng.uniform(0.2, 0.45) * size, rng.uniform(0.25, 0.5) * size
        middle = size / 2 + rng.normal(0, 4)
        radius = rng.uniform(0.04, 0.09) * size
        for x in (middle - gap / 2, middle + gap / 2):
            r_y = radius * rng.uniform(0.5, 1.2)
            draw.ellipse([x - radius, eye_y - r_y, x + radius, eye_y + r_y], fill=dark)
        line_y = eye_y + rng.uniform(0.25, 0.45) * size
        half = rng.uniform(0.1, 0.25) * size
        draw.line(
            [middle - half, line_y, middle + half, line_y], fill=dark, width=int(rng.integers(1, 5))
        )
        if rng.random() < 0.5:  # sometimes a "nose" blob too
            nose_y = (eye_y + line_y) / 2
            draw.ellipse(
                [
                    middle - radius / 2,
                    nose_y - radius / 2,
                    middle + radius / 2,
                    nose_y + radius / 2,
                ],
                fill=dark,
            )
        canvas = canvas.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 2.0)))
        images.append(np.asarray(canvas))
    return np.stack(images)


def _dots(draw, rng: np.random.Generator, size: int, ground: float) -> None:
    shade = int(np.clip(ground + rng.choice([-1, 1]) * rng.uniform(50, 120), 0, 255))
    radius = rng.uniform(0.04, 0.12) * size
    if rng.random() < 0.5:  # a grid, like coins on a tray
        step = radius * rng.uniform(2.2, 3.5)
        offset = rng.uniform(0, step, 2)
        centres = [
            (x, y)
            for x in np.arange(offset[0], size, step)
            for y in np.arange(offset[1], size, step)
        ]
    else:
        centres = [tuple(rng.uniform(0, size, 2)) for _ in range(int(rng.integers(3, 15)))]
    for x, y in centres:
        r = radius * rng.uniform(0.8, 1.2)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=shade)
