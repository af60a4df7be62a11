"""Colour lookup tables for feature maps, gradients and attribution heatmaps.

The tables are our own: each is a linear interpolation (in sRGB) between a few
anchor colours chosen by hand so that CIE L* rises steadily along the sequential
maps and falls symmetrically away from white in the diverging one. The names say
which well-known map each one resembles; none reproduces another library's data.
"""

from __future__ import annotations

import numpy as np

# Anchors are evenly spaced along the map, darkest (or most negative) first.
_ANCHORS: dict[str, tuple[tuple[int, int, int], ...]] = {
    # Violet -> blue -> teal -> green -> yellow; L* 16 -> 89.
    "viridis": (
        (60, 15, 90),
        (65, 60, 135),
        (45, 100, 140),
        (30, 140, 140),
        (45, 175, 120),
        (120, 205, 80),
        (240, 228, 50),
    ),
    # Black -> purple -> red -> orange -> pale yellow; L* 2 -> 96.
    "magma": (
        (5, 5, 20),
        (40, 15, 75),
        (95, 25, 120),
        (155, 45, 125),
        (210, 75, 105),
        (245, 130, 95),
        (252, 190, 130),
        (250, 245, 185),
    ),
    "gray": ((0, 0, 0), (255, 255, 255)),
    # Blue (negative) -> white (zero) -> red (positive), for signed maps.
    "diverging": (
        (40, 65, 155),
        (95, 140, 205),
        (185, 210, 235),
        (245, 245, 245),
        (240, 195, 175),
        (210, 110, 90),
        (150, 22, 40),
    ),
}

SEQUENTIAL = ("viridis", "magma", "gray")
DIVERGING = ("diverging",)
_ALIASES = {"grey": "gray", "bwr": "diverging", "blue_white_red": "diverging"}
_TABLES: dict[str, np.ndarray] = {}


def colormap_names() -> tuple[str, ...]:
    """The names ``apply_colormap`` accepts (aliases excluded)."""
    return (*SEQUENTIAL, *DIVERGING)


def canonical_name(name: str) -> str:
    """``name`` resolved through the aliases; raises ValueError if unknown."""
    resolved = _ALIASES.get(name, name)
    if resolved not in _ANCHORS:
        raise ValueError(
            f"Expected a colormap name, one of {list(colormap_names())}. Received: {name!r}."
        )
    return resolved


def is_diverging(name: str) -> bool:
    """True for maps meant for signed data centred on zero."""
    return canonical_name(name) in DIVERGING


def lookup_table(name: str) -> np.ndarray:
    """The ``(256, 3)`` uint8 table of colormap ``name`` (read-only, cached)."""
    name = canonical_name(name)
    if name not in _TABLES:
        anchors = np.asarray(_ANCHORS[name], dtype=np.float64)
        positions = np.linspace(0.0, 1.0, len(anchors))
        steps = np.linspace(0.0, 1.0, 256)
        table = np.stack([np.interp(steps, positions, anchors[:, k]) for k in range(3)], axis=-1)
        table = np.round(table).astype(np.uint8)
        table.setflags(write=False)
        _TABLES[name] = table
    return _TABLES[name]


def normalise(values: np.ndarray, vmin: float, vmax: float, *, flat: float = 0.0) -> np.ndarray:
    """Map ``values`` linearly so that vmin -> 0 and vmax -> 1, clipped to [0, 1].

    Args:
        values: any float array.
        vmin, vmax: the range; when ``vmax <= vmin`` every value becomes ``flat``.
        flat: the position used for a degenerate (zero-width) range.

    Returns:
        float32 array of the same shape in [0, 1]; NaN stays NaN.
    """
    values = np.asarray(values, dtype=np.float32)
    span = float(vmax) - float(vmin)
    if not span > 0:
        result = np.full(values.shape, flat, dtype=np.float32)
        result[np.isnan(values)] = np.nan
        return result
    return np.clip((values - np.float32(vmin)) / np.float32(span), 0.0, 1.0)


def colorize(unit: np.ndarray, name: str, background=(255, 255, 255)) -> np.ndarray:
    """Colour an array already normalised to [0, 1]; NaN gets ``background``.

    Returns:
        uint8 array of shape ``unit.shape + (3,)``.
    """
    table = lookup_table(name)
    unit = np.asarray(unit, dtype=np.float32)
    missing = np.isnan(unit)
    scaled = np.where(missing, 0.0, unit) * np.float32(255.0)
    index = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    rgb = np.take(table, index, axis=0)  # several times faster than table[index]
    if missing.any():
        rgb[missing] = background
    return rgb


def apply_colormap(values: np.ndarray, name: str, vmin: float, vmax: float) -> np.ndarray:
    """Colour a 2-D map.

    Args:
        values: float array ``(H, W)``.
        name: one of ``colormap_names()`` (or an alias such as ``"grey"``).
        vmin, vmax: the value range mapped onto the whole table; values outside
            are clipped. A zero-width range gives the table's first colour for a
            sequential map and its centre (white) for a diverging one.

    Returns:
        uint8 RGB array ``(H, W, 3)``.
    """
    flat = 0.5 if is_diverging(name) else 0.0
    return colorize(normalise(values, vmin, vmax, flat=flat), name)
