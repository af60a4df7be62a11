"""Concepts with pixel masks, for dissection: a plain container and the synthetic edges.

A ``ConceptSet`` is images plus, per concept, one boolean mask per image and the
images on which that concept is annotated (IoU is summed over those only, as
Bau et al. score each concept over the images labelled for its category). Each
concept belongs to a group: ``edge``, ``part`` or ``face``. The core knows no
faces: the face-part and face-region masks come from the caller (the console (``layer_inspector``)
passes the bundled ones); the oriented edges are generated here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.engine.errors import DatasetError

GROUPS = ("edge", "part", "face")
EDGE_ORIENTATIONS = (0, 45, 90, 135)  # degrees of the edge line, 0 = horizontal


@dataclass(frozen=True)
class ConceptSet:
    """Images and the pixel masks of named concepts on them.

    Attributes:
        images: float32 ``(N, H, W, C)`` in [0, 1] (scaled to the model's range on use).
        masks: concept -> bool ``(N, H, W)``.
        annotated: concept -> bool ``(N,)``, the images on which the concept is labelled.
        groups: concept -> one of ``GROUPS``.
        negatives: bool ``(N,)``: images with no face at all (for the control that
            lays the face masks over non-face images).
        natural: bool ``(N,)`` or None: the non-face images that are natural photos,
            the negatives of the face measure (``natural_non_faces``).
    """

    images: np.ndarray
    masks: dict[str, np.ndarray]
    annotated: dict[str, np.ndarray]
    groups: dict[str, str]
    negatives: np.ndarray
    natural: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.images)
        if self.images.ndim != 4 or n == 0:
            raise DatasetError(
                f"Expected concept images (N, H, W, C). Received: shape={self.images.shape}."
            )
        for name, mask in self.masks.items():
            if mask.shape != (n, *self.images.shape[1:3]) or self.groups.get(name) not in GROUPS:
                raise DatasetError(
                    f"Expected concept {name!r} with masks of shape {(n, *self.images.shape[1:3])} "
                    f"and a group among {GROUPS}. Received: {mask.shape}, "
                    f"{self.groups.get(name)!r}."
                )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.masks)

    def natural_non_faces(self) -> np.ndarray:
        """bool ``(N,)``: the natural non-face photos. ``natural`` where given, else
        every negative annotated for a part or face concept (so not the synthetic
        edges, which are annotated for edges only)."""
        if self.natural is not None:
            return np.asarray(self.natural, bool) & self.negatives
        faces = np.zeros(len(self.images), bool)
        for name in self.names:
            if self.groups[name] in ("part", "face"):
                faces |= self.annotated[name]
        return self.negatives & faces


def _edge_image(size: int, angle: float, offset: float, low: float, high: float):
    """A step edge along a line at ``angle`` through the point ``offset`` from the centre."""
    rows, cols = np.mgrid[0:size, 0:size] + 0.5 - size / 2
    theta = np.deg2rad(angle)
    distance = -rows * np.cos(theta) + cols * np.sin(theta) - offset  # signed, to the line
    image = np.where(distance > 0, high, low)
    return image, np.abs(distance) <= 1.0


def _grating(size: int, angle: float, period: float, phase: float, low: float, high: float):
    """Square-wave bars of ``period`` px; its edges are where the bars change."""
    rows, cols = np.mgrid[0:size, 0:size] + 0.5 - size / 2
    theta = np.deg2rad(angle)
    across = -rows * np.cos(theta) + cols * np.sin(theta) + phase
    wave = np.sin(2 * np.pi * across / period)
    image = np.where(wave > 0, high, low)
    to_edge = np.abs(((across + period / 4) % (period / 2)) - period / 4)  # to nearest zero
    return image, to_edge <= 1.0


def synthetic_edges(size: int, channels: int, seed: int = 0, per_kind: int = 12) -> ConceptSet:
    """Oriented step edges and square gratings, with the edge lines as masks.

    For each orientation in ``EDGE_ORIENTATIONS``: ``per_kind`` step edges at
    random offsets and contrasts, and ``per_kind`` gratings at two spatial
    frequencies (periods of 1/4 and 1/2 of the side) at random phases. The mask
    of concept ``edge_<deg>`` is every pixel within 1 px of an edge of that
    orientation; it is annotated on every synthetic image.

    Returns:
        A ``ConceptSet`` of ``len(EDGE_ORIENTATIONS) * 2 * per_kind`` images in [0, 1].
    """
    rng = np.random.default_rng([seed, size])
    images, masks, orientation = [], [], []
    for index, angle in enumerate(EDGE_ORIENTATIONS):
        for j in range(2 * per_kind):
            low, high = np.sort(rng.uniform(0.0, 1.0, 2))
            high = max(high, low + 0.3) if low < 0.7 else high
            if rng.random() < 0.5:
                low, high = high, low  # both polarities
            if j < per_kind:
                image, mask = _edge_image(size, angle, rng.uniform(-size / 4, size / 4), low, high)
            else:
                period = size / 4 if j % 2 else size / 2
                image, mask = _grating(size, angle, period, rng.uniform(0, period), low, high)
            images.append(np.clip(image, 0, 1))
            masks.append(mask)
            orientation.append(index)
    images = np.repeat(np.asarray(images, np.float32)[..., None], channels, axis=-1)
    masks, orientation = np.asarray(masks), np.asarray(orientation)
    names = [f"edge_{angle}" for angle in EDGE_ORIENTATIONS]
    return ConceptSet(
        images,
        {name: masks & (orientation == i)[:, None, None] for i, name in enumerate(names)},
        {name: np.ones(len(images), bool) for name in names},
        {name: "edge" for name in names},
        np.ones(len(images), bool),
    )


def combine(*sets: ConceptSet) -> ConceptSet:
    """Concatenate concept sets; a concept missing from a set is unannotated there."""
    names = list(dict.fromkeys(name for s in sets for name in s.names))
    shape = sets[0].images.shape[1:3]
    masks, annotated, groups = {}, {}, {}
    for name in names:
        masks[name] = np.concatenate(
            [s.masks.get(name, np.zeros((len(s.images), *shape), bool)) for s in sets]
        )
        annotated[name] = np.concatenate(
            [s.annotated.get(name, np.zeros(len(s.images), bool)) for s in sets]
        )
        groups[name] = next(s.groups[name] for s in sets if name in s.groups)
    natural = None
    if any(s.natural is not None for s in sets):
        natural = np.concatenate([s.natural_non_faces() for s in sets])
    return ConceptSet(
        np.concatenate([s.images for s in sets]),
        masks,
        annotated,
        groups,
        np.concatenate([s.negatives for s in sets]),
        natural,
    )
