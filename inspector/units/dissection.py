"""Network Dissection: label each unit with the concept whose masks its top activations match.

Bau, Zhou, Khosla, Oliva & Torralba, "Network Dissection: Quantifying
Interpretability of Deep Visual Representations", CVPR 2017, section 3.2:

* T_k is the top-quantile level of the unit's activations over every spatial
  location of its own activation map in the data set: P(a_k > T_k) = q;
* each activation map A_k(x) is upsampled (bilinear) to the input size, S_k(x);
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

Both passes are a map over shards of images plus an exact merge
(``merge_shards``): the top ``m = ceil(q * N * h * w)`` raw activations per unit
(pass 1; m is the whole data set's, and the smallest of the merged top m is
T_k) and integer pixel counts (pass 2: real masks, shuffled control, non-face
control). Shards are whole batches, so the result does not depend on where or
in what order they run: here by default, or on Dask workers through a
``ShardMap`` (``cluster.dask_dissection_map``). Here a ``cancelled()`` check
runs before every batch of every pass, so Cancel stops a dissection within one
compiled call; with a ``ShardMap`` it runs as each shard's result arrives.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from inspector.engine.progress import Cancelled, Progress, check_cancelled, report
from inspector.units.concepts import ConceptSet
from inspector.units.dissection_scoring import (
    IOU_THRESHOLD,
    LayerDissection,
    iou,
    label_units,
    passing_fraction,
)
from inspector.units.dissection_shards import (
    DissectionData,
    Job,
    PassMap,
    ShardMap,
    ShardTask,
    dissection_data,
    floor_of,
    kept_with,
    levels_of,
    merge_shards,
)
from inspector.units.probe import LayerProbe
from inspector.units.run import shard_ranges

TOP_QUANTILE = 0.02
__all__ = ["IOU_THRESHOLD", "TOP_QUANTILE", "Dissector", "LayerDissection", "ShardMap"]
PASSES = "image passes (dissection)"  # what the progress reports count


# Pass 2 holds a layer's maps upsampled to the input and their thresholded copy,
# (B, H, W, C) float32 each: 6.2 GB apiece for a 960-channel MobileNetV2 layer at
# B = 32 and 224 px, and dissecting it in the app ran out of 24 GB (measured).
# The batch is cut so that one layer's pair fits this budget.
LAYER_BUDGET_BYTES = 512 * 2**20


def batch_for(probe: LayerProbe, wanted: int) -> int:
    """At most ``wanted`` images, and few enough that the widest layer's upsampled
    maps and their thresholded copy fit ``LAYER_BUDGET_BYTES`` (at least 1).
    Counts are integers and the kept top values exact, so results do not depend on it."""
    height, width = probe.input_shape[:2]
    widest = max(layer.shape[2] for layer in probe.layers)
    per_image = 2 * 4 * height * width * widest
    return max(1, min(int(wanted), LAYER_BUDGET_BYTES // per_image))


class Dissector:
    """Runs the two passes of Network Dissection for every layer of ``probe``.

    Args:
        probe: the model and its chosen layers.
        batch_size: images per compiled call, at most (``batch_for`` cuts it for
            wide layers at a large input size).
        shard_batches: batches per shard. Shards are whole batches, so every batch,
            and so every activation, is the same wherever and in whatever order
            the shards run.
    """

    def __init__(self, probe: LayerProbe, batch_size: int = 32, shard_batches: int = 8) -> None:
        self.probe, self.batch_size = probe, batch_for(probe, batch_size)
        self.shard_size = self.batch_size * shard_batches
        self.size = probe.input_shape[:2]
        self._above = tf.function(self._above_all, autograph=False)
        self._counts = tf.function(self._count_all, autograph=False)

    def _upsample_all(self, x):
        return [tf.image.resize(a, self.size, method="bilinear") for a in self.probe.outputs(x)]

    def _raw_all(self, x):
        """Per layer: the activations as ``(C, B * h * w)``, one row per unit."""
        return [
            tf.reshape(tf.transpose(a, [3, 0, 1, 2]), [tf.shape(a)[3], -1])
            for a in self.probe.outputs(x)
        ]

    def _above_all(self, x, floors):
        """Per layer: the batch's raw activations above each unit's ``floor``, flat
        ``(n,)``, and the unit of each, ``(n,)`` int64, in unit order.

        ``floor`` is the smallest of the m values a unit keeps so far (-inf until it
        has m): nothing at or below it can change its top m. After the first batch
        only a few times q of the values pass; a ``top_k`` of m values here instead
        cost 30x the forward pass on 64x64 maps.
        """
        out = []
        for values, floor in zip(self._raw_all(x), floors, strict=True):
            where = tf.where(values > floor[:, None])  # (n, 2): unit, location; row-major
            out.append((tf.gather_nd(values, where), where[:, 0]))
        return out

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
        """Concept images in [0, 1] as the model's input (its own preprocessing)."""
        return tf.constant(self.probe.preprocess.apply(np.asarray(images) * 255.0))

    def _wanted(self, count: int) -> tuple[int, ...]:
        """m per layer for ``count`` images: the raw map's locations, as Bau et al. take
        them (bilinear upsampling adds interpolated values and weighs every location by
        its upsampled footprint, which moves the quantile of small maps)."""
        return tuple(
            max(1, math.ceil(TOP_QUANTILE * count * layer.shape[0] * layer.shape[1]))
            for layer in self.probe.layers
        )

    def thresholds(
        self, images: np.ndarray, cancelled: Cancelled | None = None
    ) -> list[np.ndarray]:
        """T_k per layer: float32 ``(C,)``, the top-``TOP_QUANTILE`` level over ``images``.

        Raises:
            CancelledError: ``cancelled()`` was True before a batch.
        """
        return levels_of(self.top_values(images, self._wanted(len(images)), cancelled))

    def top_values(
        self, images: np.ndarray, wanted: tuple[int, ...], cancelled: Cancelled | None = None
    ) -> list[np.ndarray]:
        """Per layer: float32 ``(C, <= wanted[i])``, the top raw activations of each unit.

        Raises:
            CancelledError: ``cancelled()`` was True before a batch.
        """
        kept: list[np.ndarray | None] = [None] * len(self.probe.layers)
        for low in range(0, len(images), self.batch_size):
            check_cancelled(cancelled, "the dissection")
            floors = [
                floor_of(values, m, layer.shape[2])
                for values, m, layer in zip(kept, wanted, self.probe.layers, strict=True)
            ]
            above = self._above(self._scaled(images[low : low + self.batch_size]), floors)
            for i, ((values, units), m) in enumerate(zip(above, wanted, strict=True)):
                values, units = np.asarray(values), np.asarray(units)
                kept[i] = kept_with(kept[i], values, units, m, len(floors[i]))
        return kept

    def counts(
        self, images, masks, annotated, thresholds, cancelled: Cancelled | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Summed integer (intersection, unit area on annotated images), each ``(C, K)``.

        Raises:
            CancelledError: ``cancelled()`` was True before a batch.
        """
        totals = None
        for low in range(0, len(images), self.batch_size):
            check_cancelled(cancelled, "the dissection")
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

    def run_shard(
        self,
        data: DissectionData,
        task: ShardTask,
        start: int,
        stop: int,
        cancelled: Cancelled | None = None,
    ) -> list:
        """The mergeable result of ``task`` over rows ``[start, stop)`` (see ``merge_shards``):
        per layer, ``top_values`` (pass 1) or ``counts`` (pass 2)."""
        if task.kind == "top":
            return self.top_values(data.images[start:stop], task.wanted, cancelled)
        return self.counts(*data.part(task.kind, start, stop), task.levels, cancelled)

    def dissect(
        self,
        concepts: ConceptSet,
        seed: int = 0,
        cancelled: Cancelled | None = None,
        shard_map: ShardMap | None = None,
        progress: Progress | None = None,
    ) -> list[LayerDissection]:
        """Label every unit of every chosen layer; controls included.

        Args:
            concepts: the images and their concept masks.
            seed: seeds the shuffled-masks control.
            progress: ``(image passes done, in total, what)`` as each shard is done:
                the threshold pass, then the counts (real masks, shuffled, non-faces).
            cancelled: polled before every batch of every pass in this process, or
                as each shard's result arrives from a ``shard_map`` (None: never stop).
            shard_map: runs the shards elsewhere (``cluster.dask_dissection_map``);
                None runs them here, one after the other.

        Raises:
            CancelledError: ``cancelled()`` turned True; nothing is returned.
        """
        data = dissection_data(concepts, seed)
        kinds = ["real", "shuffled"] + (["negatives"] if len(data.negatives) else [])
        total, done = data.rows("top") + sum(data.rows(kind) for kind in kinds), [0]

        def passed(rows: int) -> None:
            done[0] += rows
            report(progress, done[0], total, PASSES)

        if shard_map is None:
            run = self._in_process(data, cancelled)
        else:
            run = _polled(shard_map(data, self.batch_size), cancelled)
        (top,) = self._passes(run, data, [ShardTask("top", self._wanted(len(data.images)))], passed)
        levels = tuple(levels_of(top))
        tasks = [ShardTask(kind, levels=levels) for kind in kinds]
        counts = dict(zip(kinds, self._passes(run, data, tasks, passed), strict=True))
        # Mask areas from per-image areas: a donor lends its masks to several negatives.
        per_image = data.masks.sum(axis=(1, 2), dtype=np.int64)  # (N, K)
        mask_area, negative_area = per_image.sum(axis=0), per_image[data.donors].sum(axis=0)
        names = concepts.names
        results = []
        for i, layer in enumerate(self.probe.layers):
            unit_iou = iou(*counts["real"][i], mask_area)
            controls = {"shuffled_masks": passing_fraction(iou(*counts["shuffled"][i], mask_area))}
            if "negatives" in counts:
                controls["masks_over_non_faces"] = passing_fraction(
                    iou(*counts["negatives"][i], negative_area), concepts, names
                )
            results.append(label_units(layer.name, names, unit_iou, concepts.groups, controls))
        return results

    def _in_process(self, data: DissectionData, cancelled: Cancelled | None) -> PassMap:
        def run(jobs: list[Job]) -> Iterator[tuple[int, list]]:
            for index, (task, start, stop) in enumerate(jobs):
                yield index, self.run_shard(data, task, start, stop, cancelled)

        return run

    def _passes(self, run: PassMap, data: DissectionData, tasks: list[ShardTask], passed) -> list:
        """Every shard of every task in one go (independent passes overlap on a
        cluster); per task, the merge of its shards' results. ``passed(rows)`` after each."""
        jobs, owner = [], []  # owner: the index of each job's task
        for t, task in enumerate(tasks):
            for start, stop in shard_ranges(data.rows(task.kind), self.shard_size):
                jobs.append((task, start, stop))
                owner.append(t)
        merged: list = [None] * len(tasks)
        for index, result in run(jobs):
            t = owner[index]
            merged[t] = result if merged[t] is None else merge_shards(tasks[t], merged[t], result)
            passed(jobs[index][2] - jobs[index][1])
        return merged


def _polled(run: PassMap, cancelled: Cancelled | None) -> PassMap:
    """``run`` with ``cancelled()`` checked as each shard's result arrives."""

    def polled(jobs: list[Job]) -> Iterator[tuple[int, list]]:
        for item in run(jobs):
            check_cancelled(cancelled, "the dissection")
            yield item

    return polled
