"""Network Dissection: label each unit with the concept whose masks its top activations match.

Bau, Zhou, Khosla, Oliva & Torralba, "Network Dissection: Quantifying
Interpretability of Deep Visual Representations", CVPR 2017, section 3.2:

* each unit's activation map A_k(x) is upsampled (bilinear) to the input size;
* T_k is the top-quantile level over all pixels of all images: P(a_k > T_k) = q;
* M_k(x) = S_k(x) > T_k (strictly, so a mostly-silent unit with T_k = 0 is not
  "hot" everywhere); for concept c with masks L_c(x), summed over the data set,
  IoU_{k,c} = sum |M_k(x) AND L_c(x)| / sum |M_k(x) OR L_c(x)|;
* the unit is labelled with its best concept when that IoU exceeds a threshold.

**Our fixed choices, set before any measurement.** Bau et al. use q = 0.005 on
Broden with feature maps of up to 112 px; here inputs are 32-64 px and the last
maps 4x4, where ONE unit's upsampled footprint is ~6 % of the image and our
smallest concept (an eye, ~14x9 px on a 64 px face) ~3 %. At 0.005 the
thresholded region would be a fraction of one unit's footprint and even a
perfect eye or face detector could not reach a usable IoU, so we take
``TOP_QUANTILE = 0.02``. The label threshold is Bau's own ``IOU_THRESHOLD = 0.04``.
Edges are scored by IoU too (not the orientation-selectivity alternative).

**Controls** (each should label almost no unit): the concept masks shuffled
across images and rolled by a random offset; and the face and part masks laid
over non-face images (activations of the negatives, same thresholds).

Both passes are a map over shards of images plus an exact merge: the top
``m = ceil(q * pixels)`` values per unit (pass 1, whose smallest is T_k) and
integer pixel counts (pass 2). A ``cancelled()`` check runs before every batch
of every pass, so Cancel stops a dissection within one compiled call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from inspector.engine.errors import CancelledError
from inspector.engine.inspection import read_only
from inspector.units.concepts import ConceptSet
from inspector.units.probe import LayerProbe

TOP_QUANTILE = 0.02
IOU_THRESHOLD = 0.04
NONE = "none"
Cancelled = Callable[[], bool]  # True when the caller wants the dissection to stop


def _check_cancelled(cancelled: Cancelled | None) -> None:
    if cancelled is not None and cancelled():
        raise CancelledError(
            "Expected the dissection to run to the end. Received: a cancel request."
        )


@dataclass(frozen=True)
class LayerDissection:
    """Labels of one layer's units.

    Attributes:
        layer: name. ``concepts``: the concept names, in column order.
        iou: float64 ``(C, K)`` IoU of each unit with each concept.
        labels: ``C`` best concept or ``"none"``; ``groups``: its group or ``"none"``.
        scores: float64 ``(C,)`` the best IoU.
        fractions: group -> fraction of units with that label (``none`` included).
        controls: control name -> fraction of units that pass the threshold under it.
    """

    layer: str
    concepts: tuple[str, ...]
    iou: np.ndarray
    labels: tuple[str, ...]
    groups: tuple[str, ...]
    scores: np.ndarray
    fractions: dict
    controls: dict


class Dissector:
    """Runs the two passes of Network Dissection for every layer of ``probe``.

    Args:
        probe: the model and its chosen layers.
        batch_size: images per compiled call.
    """

    def __init__(self, probe: LayerProbe, batch_size: int = 32) -> None:
        self.probe, self.batch_size = probe, batch_size
        self.size = probe.input_shape[:2]
        low, high = probe.value_range
        self.low, self.span = low, high - low
        self._upsampled = tf.function(self._upsample_all, autograph=False)
        self._counts = tf.function(self._count_all, autograph=False)

    def _upsample_all(self, x):
        return [tf.image.resize(a, self.size, method="bilinear") for a in self.probe.outputs(x)]

    def _count_all(self, x, thresholds, masks, annotated):
        """Per layer: intersections (C, K) and thresholded areas on annotated images (C, K)."""
        out = []
        for up, level in zip(self._upsample_all(x), thresholds, strict=True):
            # Strictly above: a mostly-silent ReLU unit has T = 0, and ">=" would
            # make every one of its zero pixels "hot".
            hot = tf.cast(up > level, tf.float32)  # (B, H, W, C)
            inter = tf.einsum("bhwc,bhwk->ck", hot, masks)
            area = tf.einsum("bc,bk->ck", tf.reduce_sum(hot, [1, 2]), annotated)
            out.append((inter, area))
        return out

    def _scaled(self, images: np.ndarray) -> tf.Tensor:
        return tf.constant(self.low + images * self.span, tf.float32)

    def thresholds(
        self, images: np.ndarray, cancelled: Cancelled | None = None
    ) -> list[np.ndarray]:
        """T_k per layer: float32 ``(C,)``, the top-``TOP_QUANTILE`` level over ``images``.

        Raises:
            CancelledError: ``cancelled()`` was True before a batch.
        """
        pixels = len(images) * self.size[0] * self.size[1]
        m = max(1, math.ceil(TOP_QUANTILE * pixels))
        kept: list[np.ndarray | None] = [None] * len(self.probe.layers)
        for low in range(0, len(images), self.batch_size):
            _check_cancelled(cancelled)
            ups = self._upsampled(self._scaled(images[low : low + self.batch_size]))
            for i, up in enumerate(ups):
                values = tf.reshape(tf.transpose(up, [3, 0, 1, 2]), [up.shape[3], -1])
                top = tf.math.top_k(values, k=min(m, values.shape[1]), sorted=False).values
                kept[i] = _top_m(np.asarray(top), kept[i], m)
        return [np.min(values, axis=1) for values in kept]

    def counts(
        self, images, masks, annotated, thresholds, cancelled: Cancelled | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Summed integer (intersection, unit area on annotated images), each ``(C, K)``.

        Raises:
            CancelledError: ``cancelled()`` was True before a batch.
        """
        totals = None
        for low in range(0, len(images), self.batch_size):
            _check_cancelled(cancelled)
            part = slice(low, low + self.batch_size)
            result = self._counts(
                self._scaled(images[part]),
                [tf.constant(t) for t in thresholds],
                tf.constant(masks[part], tf.float32),
                tf.constant(annotated[part], tf.float32),
            )
            batch = [(np.asarray(i, np.int64), np.asarray(a, np.int64)) for i, a in result]
            totals = (
                batch
                if totals is None
                else [(ti + bi, ta + ba) for (ti, ta), (bi, ba) in zip(totals, batch, strict=True)]
            )
        return totals

    def dissect(
        self, concepts: ConceptSet, seed: int = 0, cancelled: Cancelled | None = None
    ) -> list[LayerDissection]:
        """Label every unit of every chosen layer; controls included.

        Args:
            concepts: the images and their concept masks.
            seed: seeds the shuffled-masks control.
            cancelled: polled before every batch of every pass (None: never stop).

        Raises:
            CancelledError: ``cancelled()`` turned True; nothing is returned.
        """
        names = concepts.names
        masks = np.stack([concepts.masks[n] for n in names], -1)  # (N, H, W, K)
        annotated = np.stack([concepts.annotated[n] for n in names], -1)  # (N, K)
        levels = self.thresholds(concepts.images, cancelled)
        real = self.counts(concepts.images, masks, annotated, levels, cancelled)
        shuffled = _shuffled(masks, annotated, seed)
        control_shuffled = self.counts(concepts.images, shuffled, annotated, levels, cancelled)
        over_negatives = _over_negatives(concepts, masks, annotated)
        control_negative = (
            self.counts(*over_negatives, levels, cancelled) if over_negatives is not None else None
        )
        mask_area = masks.sum(axis=(0, 1, 2)).astype(np.int64)
        results = []
        for i, layer in enumerate(self.probe.layers):
            iou = _iou(*real[i], mask_area)
            controls = {"shuffled_masks": _passing(_iou(*control_shuffled[i], mask_area))}
            if control_negative is not None:
                negative_area = over_negatives[1].sum(axis=(0, 1, 2)).astype(np.int64)
                controls["masks_over_non_faces"] = _passing(
                    _iou(*control_negative[i], negative_area), concepts, names
                )
            results.append(_label(layer.name, names, iou, concepts.groups, controls))
        return results


def _top_m(new: np.ndarray, kept: np.ndarray | None, m: int) -> np.ndarray:
    both = new if kept is None else np.concatenate([kept, new], axis=1)
    if both.shape[1] <= m:
        return both
    return -np.partition(-both, m - 1, axis=1)[:, :m]


def _iou(intersection: np.ndarray, unit_area: np.ndarray, mask_area: np.ndarray) -> np.ndarray:
    union = unit_area + mask_area[None, :] - intersection
    return np.where(union > 0, intersection / np.maximum(union, 1), 0.0)


def _passing(iou: np.ndarray, concepts: ConceptSet | None = None, names=None) -> float:
    """Fraction of units whose best control IoU passes the threshold (face/part columns
    only for the non-face control: edges are not face masks)."""
    if concepts is not None:
        keep = [i for i, n in enumerate(names) if concepts.groups[n] in ("part", "face")]
        iou = iou[:, keep] if keep else np.zeros((iou.shape[0], 1))
    return float(np.mean(iou.max(axis=1) > IOU_THRESHOLD)) if iou.size else 0.0


def _shuffled(masks: np.ndarray, annotated: np.ndarray, seed: int) -> np.ndarray:
    """Each concept's masks moved to other annotated images and rolled by a random offset."""
    rng = np.random.default_rng([seed, 7])
    out = np.zeros_like(masks)
    height, width = masks.shape[1:3]
    for k in range(masks.shape[-1]):
        rows = np.flatnonzero(annotated[:, k])
        for target, origin in zip(rows, rng.permutation(rows), strict=True):
            shift = (int(rng.integers(height)), int(rng.integers(width)))
            out[target, ..., k] = np.roll(masks[origin, ..., k], shift, axis=(0, 1))
    return out


def _over_negatives(concepts: ConceptSet, masks, annotated):
    """Non-face images carrying, in turn, the masks of the face images."""
    face_columns = [
        k for k, name in enumerate(concepts.names) if concepts.groups[name] in ("part", "face")
    ]
    if not face_columns:
        return None
    # The natural negatives (annotated for faces, with empty masks), not the synthetic edges.
    natural = concepts.negatives & annotated[:, face_columns].any(axis=1)
    negatives = np.flatnonzero(natural if natural.any() else concepts.negatives)
    faces = np.flatnonzero(~concepts.negatives)
    if len(faces) == 0 or len(negatives) == 0:
        return None
    donors = faces[np.arange(len(negatives)) % len(faces)]
    return concepts.images[negatives], masks[donors], annotated[donors]


def _label(layer, names, iou, groups, controls) -> LayerDissection:
    best = iou.argmax(axis=1)
    scores = iou[np.arange(len(iou)), best]
    labels = tuple(
        names[b] if s > IOU_THRESHOLD else NONE for b, s in zip(best, scores, strict=True)
    )
    unit_groups = tuple(groups[label] if label != NONE else NONE for label in labels)
    fractions = {g: unit_groups.count(g) / len(unit_groups) for g in ("edge", "part", "face", NONE)}
    return LayerDissection(
        layer,
        tuple(names),
        read_only(iou),
        labels,
        unit_groups,
        read_only(scores),
        fractions,
        controls,
    )
