"""Face-free pictures made in a way no training image was: rendered scenes.

The false-positive check of the face model needs non-faces from outside its
training data, made by another process than its training crops. These are drawn
with Pillow from a seed: a sky (flat or graded), a horizon, a ground, then a random
mix of buildings with rows of windows, trees, a sun or moon, fences, cars (boxes on
two wheels), roads, clouds and scattered shapes, then noise and a little blur, and
cut to a square at a random scale. Rows of windows and car wheels are exactly the
"two dark blobs" a weak face detector fires on.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

CANVAS = 256


def rendered_scenes(count: int, size: int, seed: int = 7) -> np.ndarray:
    """``count`` rendered, face-free scenes.

    Returns:
        uint8 ``(count, size, size)`` grey pictures.
    """
    rng = np.random.default_rng(seed)
    return np.stack([_scene(rng, size) for _ in range(count)])


def _scene(rng: np.random.Generator, size: int) -> np.ndarray:
    sky, ground = rng.uniform(120, 240), rng.uniform(40, 170)
    horizon = int(rng.uniform(0.3, 0.75) * CANVAS)
    rows = np.arange(CANVAS)[:, None] * np.ones((1, CANVAS))
    base = np.where(
        rows < horizon, sky - rows * rng.uniform(0, 0.3), ground + rng.normal(0, 6, rows.shape)
    )
    picture = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    painters = (_building, _tree, _sun, _fence, _car, _road, _cloud, _shape)
    for _ in range(int(rng.integers(3, 9))):
        painters[int(rng.integers(len(painters)))](draw, rng, horizon)
    noise = rng.normal(0, rng.uniform(1, 10), (CANVAS, CANVAS))
    picture = Image.fromarray(np.clip(np.asarray(picture) + noise, 0, 255).astype(np.uint8))
    picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 1.5)))
    side = rng.uniform(0.3, 1.0) * CANVAS
    left, top = rng.uniform(0, CANVAS - side, 2)
    box = (left, top, left + side, top + side)
    return np.asarray(picture.resize((size, size), Image.Resampling.BILINEAR, box=box))


def _grey(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 256))


def _building(draw, rng, horizon):
    width, height = rng.uniform(30, 110), rng.uniform(40, 180)
    left = rng.uniform(-20, CANVAS - 10)
    draw.rectangle([left, horizon - height, left + width, horizon], fill=_grey(rng))
    window, gap, shade = rng.uniform(4, 12), rng.uniform(4, 12), _grey(rng)
    y = horizon - height + gap
    while y + window < horizon - gap:
        x = left + gap
        while x + window < left + width - gap:
            draw.rectangle([x, y, x + window, y + window * rng.uniform(0.8, 1.6)], fill=shade)
            x += window + gap
        y += window * 1.6 + gap


def _tree(draw, rng, horizon):
    x, radius = rng.uniform(0, CANVAS), rng.uniform(10, 40)
    trunk = rng.uniform(15, 50)
    draw.rectangle([x - 3, horizon - trunk, x + 3, horizon + 5], fill=_grey(rng))
    draw.ellipse(
        [x - radius, horizon - trunk - 2 * radius, x + radius, horizon - trunk], fill=_grey(rng)
    )


def _sun(draw, rng, horizon):
    x, y, radius = rng.uniform(0, CANVAS), rng.uniform(0, horizon), rng.uniform(6, 25)
    draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=int(rng.integers(200, 256)))


def _fence(draw, rng, horizon):
    y, height, step = horizon + rng.uniform(0, 40), rng.uniform(10, 30), rng.uniform(6, 16)
    shade = _grey(rng)
    draw.line([0, y - height * 0.7, CANVAS, y - height * 0.7], fill=shade, width=2)
    for x in np.arange(0, CANVAS, step):
        draw.line([x, y, x, y - height], fill=shade, width=2)


def _car(draw, rng, horizon):
    x, y = rng.uniform(0, CANVAS - 60), horizon + rng.uniform(-10, 60)
    length, height = rng.uniform(40, 90), rng.uniform(15, 30)
    draw.rectangle([x, y - height, x + length, y], fill=_grey(rng))
    draw.rectangle(
        [x + length * 0.2, y - height * 1.6, x + length * 0.75, y - height], fill=_grey(rng)
    )
    wheel, shade = height * 0.45, int(rng.integers(0, 60))
    for centre in (x + length * 0.2, x + length * 0.8):
        draw.ellipse([centre - wheel, y - wheel, centre + wheel, y + wheel], fill=shade)


def _road(draw, rng, horizon):
    middle = rng.uniform(0, CANVAS)
    draw.polygon(
        [
            (middle - 5, horizon),
            (middle + 5, horizon),
            (middle + 120, CANVAS),
            (middle - 120, CANVAS),
        ],
        fill=_grey(rng),
    )


def _cloud(draw, rng, horizon):
    x, y = rng.uniform(0, CANVAS), rng.uniform(0, max(1, horizon - 20))
    for _ in range(int(rng.integers(2, 5))):
        dx, r = rng.uniform(-25, 25), rng.uniform(8, 22)
        draw.ellipse(
            [x + dx - r * 1.5, y - r, x + dx + r * 1.5, y + r], fill=int(rng.integers(200, 256))
        )


def _shape(draw, rng, horizon):
    points = [tuple(rng.uniform(0, CANVAS, 2)) for _ in range(int(rng.integers(3, 7)))]
    draw.polygon(points, fill=_grey(rng))
