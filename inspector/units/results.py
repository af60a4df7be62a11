"""The frozen result of top-k mining: what crosses into the CLI, the render and the app."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.engine.inspection import read_only
from inspector.engine.preprocessing import Preprocessing
from inspector.units.probe import LayerProbe, ProbedLayer
from inspector.units.topk_state import HIST_EDGES, NO_IMAGE, MiningState, total_sum


def context_side(height: int, width: int) -> int:
    """The smallest crop side shown around a field: a quarter of the image's shorter
    side (16 px of a 64-px face, 56 px of a 224-px photo), enough to see what the
    few pixels of an early unit's field belong to."""
    return max(1, min(height, width) // 4)


@dataclass(frozen=True)
class LayerUnits:
    """Every channel of one layer over the whole data set.

    Attributes:
        layer: the probed layer (name, class, ``(h, w, C)``, receptive field).
        scores: float32 ``(C, k)`` each top image's maximum activation, best first.
        images: int64 ``(C, k)`` listing index of each top image; -1 for an empty slot
            (fewer than k images, or images on which the unit's maximum is exactly 0: a
            channel with no entry at all never fired on this data).
        positions: int32 ``(C, k, 2)`` ``(row, col)`` of that maximum in the layer's map.
        boxes: int32 ``(C, k, 4)`` receptive-field box ``(left, top, right, bottom)`` in
            input pixels, clipped to the image, right/bottom exclusive.
        mean: float64 ``(C,)`` mean activation over all positions of all images.
        fraction_active: float64 ``(C,)`` in [0, 1], positions with activation > 0.
        histogram: int64 ``(C, bins)`` positions per bin of ``histogram_edges``.
        histogram_edges: float32 ``(bins - 1,)`` inner bin edges (see ``topk_state``).
    """

    layer: ProbedLayer
    scores: np.ndarray
    images: np.ndarray
    positions: np.ndarray
    boxes: np.ndarray
    mean: np.ndarray
    fraction_active: np.ndarray
    histogram: np.ndarray
    histogram_edges: np.ndarray

    @property
    def channels(self) -> int:
        return self.scores.shape[0]

    def centres_in_boxes(self, channel: int) -> np.ndarray:
        """float64 ``(k, 2)``: where in each top image's box the unit's field is centred,
        as ``(x, y)`` fractions of the box (0.5, 0.5 unless the box was clipped at the
        image's edge): the point the pointing game scores, marked on the crops."""
        field = self.layer.field
        rows, cols = self.positions[channel, :, 0], self.positions[channel, :, 1]
        centre_y = field.start[0] + rows * field.jump[0] + 0.5
        centre_x = field.start[1] + cols * field.jump[1] + 0.5
        left, top, right, bottom = (self.boxes[channel, :, i].astype(np.float64) for i in range(4))
        x = (centre_x - left) / np.maximum(right - left, 1)
        y = (centre_y - top) / np.maximum(bottom - top, 1)
        return np.stack([x, y], axis=-1)

    def sees_padding(self, channel: int, image_hw: tuple[int, int]) -> np.ndarray:
        """bool ``(k,)``: whether each top image's small field reaches past the image's
        edge, into the zeros a "same" padding adds (its box was clipped). An early unit
        whose top images all do this answers to the edge the padding makes, not to the
        picture. Only fields up to ``context_side`` count (those the Units view shows
        in context): a larger field often reaches past an edge while it looks at the
        picture, and saying so would only alarm."""
        rows, cols = self.layer.field.size
        if self.layer.field.is_global or max(rows, cols) > context_side(*image_hw):
            return np.zeros(self.images.shape[1], bool)
        boxes = self.boxes[channel]
        return ((boxes[:, 2] - boxes[:, 0]) < cols) | ((boxes[:, 3] - boxes[:, 1]) < rows)

    def never_active(self, channel: int) -> bool:
        """True when ``channel`` has no top image: it never fired on this data."""
        return not bool((self.images[channel] >= 0).any())


@dataclass(frozen=True)
class UnitsResult:
    """Top-k mining over a data set, for every chosen layer.

    Attributes:
        layers: one ``LayerUnits`` per chosen layer, in model order.
        images: images read; ``skipped``: listed files that could not be read.
        names: listing index -> name (relative path or index) of every top image.
        input_shape: ``(H, W, C)`` of the model input.
        preprocess: the model's preprocessing the images went through (its inverse
            shows a crop as the picture it was).
    """

    layers: tuple[LayerUnits, ...]
    images: int
    skipped: int
    names: dict
    input_shape: tuple[int, int, int]
    preprocess: Preprocessing

    def layer(self, name: str) -> LayerUnits:
        for layer in self.layers:
            if layer.layer.name == name:
                return layer
        raise KeyError(name)


def finish(state: MiningState, probe: LayerProbe, name_of) -> UnitsResult:
    """Turn a complete merged state into the frozen ``UnitsResult``."""
    layers = []
    names: dict = {}
    for probed in probe.layers:
        raw = state.layers[probed.name]
        h, w, _ = probed.shape
        # A maximum of exactly 0 is a ReLU unit's silence: such images tie, and ranking
        # them by index would invent "top images" for a unit that never fired on them.
        present = (raw.images != NO_IMAGE) & (raw.scores != 0)
        images = np.where(present, raw.images, -1)
        rows, cols = np.divmod(np.maximum(raw.locations, 0), w)
        boxes = np.zeros((*images.shape, 4), np.int32)
        for c, j in zip(*np.nonzero(present), strict=True):
            boxes[c, j] = probed.box(int(rows[c, j]), int(cols[c, j]), probe.input_shape[:2])
            names.setdefault(int(images[c, j]), name_of(int(images[c, j])))
        positions_total = max(state.images_read * h * w, 1)
        layers.append(
            LayerUnits(
                layer=probed,
                scores=read_only(raw.scores),
                images=read_only(images),
                positions=read_only(np.stack([rows, cols], -1).astype(np.int32)),
                boxes=read_only(boxes),
                mean=read_only(total_sum(raw) / positions_total),
                fraction_active=read_only(raw.active / positions_total),
                histogram=read_only(raw.histogram),
                histogram_edges=read_only(HIST_EDGES),
            )
        )
    return UnitsResult(
        tuple(layers),
        state.images_read,
        state.images_listed - state.images_read,
        names,
        probe.input_shape,
        probe.preprocess,
    )
