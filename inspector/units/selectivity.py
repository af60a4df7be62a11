"""Three per-unit selectivity measures, the random-init control, and the hierarchy verdict.

Each measure has one fixed rule, set before any trained model was scored:

* **Edge: orientation selectivity on gratings** (Ringach, Shapley & Hawken,
  J. Neurosci. 2002). The unit at the centre of the map is probed with the
  gratings of ``inspector.units.gratings``; its response r(t) to orientation t
  is the mean over phases of max(a, 0) (rectified first, so a linear unit's
  opposite phases do not cancel), at the unit's preferred frequency: the one
  of its peak response, as tuning curves are taken at the optimal spatial
  frequency (a planted Gabor of period 8 px was read at 16 px when the
  frequency with the largest total response was taken, OSI 0.69 against its
  0.9 at its own frequency). OSI = |sum_t r(t) exp(2it)| / sum_t r(t), i.e. 1 - circular variance:
  1 for a unit that answers one orientation only, 0 for an isotropic one.
  A unit active at the centre on fewer than ``MIN_ACTIVE_SHARE`` of the
  gratings has no OSI: in random-init copies of the face CNN the units with
  OSI 1.0 were all active on 1 to 3 of the 96 gratings, which put the control's
  bar at the ceiling (1.0) from the second layer on, where no unit can pass it.
  This rule was set on the random copies' units, and it is the pointing game's.
* **Part: the pointing game** (Zhang et al., ECCV 2016, as a per-unit score).
  For each part, the fraction of face images, among those where the unit is
  active (its maximum > 0), whose maximum sits in the part's mask; where the
  maximum sits is the receptive-field centre of its position (the earliest on
  ties). A unit active on fewer than ``MIN_ACTIVE_SHARE`` of the face images has
  no pointing score: a fraction over a handful of images is noise, and a random
  unit that fires on two faces would otherwise set the control's bar at 1.0.
  Chance is the hit rate of a uniformly drawn position: the share of the
  layer's grid of field centres that falls in the part, over the face images.
  The unit's part score is its best part's hit rate.
* **Face: image-level separation** (Lee, Grosse, Ranganath & Ng, ICML 2009;
  CACM 2011, Fig. 5). The ROC-AUC of the unit's maximum activation for face
  photos against natural non-face photos (ties count one half), and the area
  under the precision-recall curve (average precision) to compare with their
  figures.

**The control decides what counts** (face-selective units arise in untrained
networks: Baek et al., Nat. Commun. 2021). Copies of the same architecture,
re-initialised from each layer's own initializer with ``RANDOM_SEEDS``, are
scored identically; a unit is an edge, part or face detector when its score
exceeds the ``PERCENTILE``-th percentile of the random copies' units in the same
layer (pooled over the seeds). A unit may count for several groups. The random
copies' own detector rate is each copy scored as the model is, against the bar of
the other copies (``LayerSelectivity.copy_rates``), averaged.

**The hierarchy is shown** when the layer with the most edge detectors comes
before the one with the most part detectors, which comes before the one with
the most face detectors (ties: the earliest layer), each peak holds at least
``PEAK_SHARE`` of its layer's units, and each peak is above the random copies'
detector rate in that layer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GROUPS = ("edge", "part", "face")
RANDOM_SEEDS = (0, 1, 2)
PERCENTILE = 99.0
PEAK_SHARE = 0.10
MIN_ACTIVE_SHARE = 0.05


def orientation_selectivity(
    responses: np.ndarray, angles: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """OSI of every unit from its centre responses to the gratings.

    Args:
        responses: float ``(C, orientations, frequencies, phases)``, the unit's raw
            activation at the map's centre.
        angles: ``(orientations,)`` radians.

    Returns:
        ``(osi, best)``: float64 ``(C,)`` in [0, 1] (NaN where the unit is active on
        fewer than ``MIN_ACTIVE_SHARE`` of the gratings, so never when it never
        answers), and int64 ``(C,)`` the index of the frequency it was read at.
    """
    raw = np.asarray(responses, np.float64)
    tuning = np.maximum(raw, 0.0).mean(axis=3)  # (C, O, F)
    best = tuning.max(axis=1).argmax(axis=1)  # the frequency of the peak response
    r = tuning[np.arange(len(tuning)), :, best]  # (C, O)
    total = r.sum(axis=1)
    vector = np.abs((r * np.exp(2j * np.asarray(angles))[None, :]).sum(axis=1))
    active = (raw > 0).reshape(len(raw), -1).mean(axis=1)
    enough = (active >= MIN_ACTIVE_SHARE) & (total > 0)
    osi = np.minimum(vector / np.where(total > 0, total, 1.0), 1.0)  # 1 + 2e-16 is 1
    return np.where(enough, osi, np.nan), best


def preferred_orientation(responses: np.ndarray, angles: np.ndarray, best: np.ndarray):
    """float64 ``(C,)`` degrees in [0, 180): the orientation of each unit's tuning vector
    (half the angle of sum_t r(t) exp(2it)) at its frequency ``best`` (from
    ``orientation_selectivity``). The direction of the wave vector: 0 means a grating
    whose bars are vertical (it varies along the image's columns)."""
    tuning = np.maximum(np.asarray(responses, np.float64), 0.0).mean(axis=3)
    r = tuning[np.arange(len(tuning)), :, best]
    vector = (r * np.exp(2j * np.asarray(angles))[None, :]).sum(axis=1)
    return np.degrees(np.angle(vector) / 2) % 180.0


def field_centres(field, map_hw: tuple[int, int], image_hw: tuple[int, int]) -> np.ndarray:
    """int64 ``(h * w, 2)``: the input pixel ``(row, col)`` at each map position's field
    centre, positions row-major, clipped to the image."""
    rows, cols = np.divmod(np.arange(map_hw[0] * map_hw[1]), map_hw[1])
    centre_r = field.start[0] + rows * field.jump[0]
    centre_c = field.start[1] + cols * field.jump[1]
    return np.stack(
        [
            np.clip(np.floor(centre_r + 0.5), 0, image_hw[0] - 1),
            np.clip(np.floor(centre_c + 0.5), 0, image_hw[1] - 1),
        ],
        axis=-1,
    ).astype(np.int64)


def pointing_game(
    maxima: np.ndarray, argmax: np.ndarray, centres: np.ndarray, masks: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Hit rate of every unit on one part.

    Args:
        maxima: float ``(N, C)`` each face image's maximum activation per unit.
        argmax: int ``(N, C)`` the flat map position of that maximum.
        centres: int ``(h * w, 2)`` from ``field_centres``.
        masks: bool ``(N, H, W)`` the part on each face image.

    Returns:
        ``(hits, active)``: float64 ``(C,)`` the fraction of active images whose
        maximum is in the part (NaN for a unit active on fewer than
        ``MIN_ACTIVE_SHARE`` of the images), and int64 ``(C,)`` how many were active.
    """
    active = np.asarray(maxima) > 0
    where = centres[np.asarray(argmax)]  # (N, C, 2)
    inside = masks[np.arange(len(masks))[:, None], where[..., 0], where[..., 1]]
    count = active.sum(axis=0)
    hits = (inside & active).sum(axis=0)
    enough = count >= max(1, MIN_ACTIVE_SHARE * len(masks))
    return np.where(enough, hits / np.maximum(count, 1), np.nan), count


def chance_level(centres: np.ndarray, masks: np.ndarray) -> float:
    """The pointing game's chance: the share of the grid's field centres in the part."""
    return float(masks[:, centres[:, 0], centres[:, 1]].mean())


def top_hits(
    maxima: np.ndarray, argmax: np.ndarray, centres: np.ndarray, masks: np.ndarray, k: int
) -> np.ndarray:
    """int64 ``(C,)``: of each unit's top-``k`` face images (highest maximum, the
    lower index on ties; active ones only), how many have that maximum in the part."""
    maxima = np.asarray(maxima)
    order = np.argsort(-maxima, axis=0, kind="stable")[:k]  # (k, C)
    units = np.arange(maxima.shape[1])[None, :]
    where = centres[np.asarray(argmax)[order, units]]  # (k, C, 2)
    inside = masks[order, where[..., 0], where[..., 1]]
    return (inside & (maxima[order, units] > 0)).sum(axis=0)


def roc_auc(positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """float64 ``(C,)``: P(score of a positive > score of a negative), ties counting one
    half (the Mann-Whitney statistic), from ``(Np, C)`` and ``(Nn, C)`` scores."""
    scores = np.concatenate([positives, negatives]).astype(np.float64)
    ranks = _average_ranks(scores)
    n_pos, n_neg = len(positives), len(negatives)
    rank_sum = ranks[:n_pos].sum(axis=0)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _average_ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks along axis 0, tied values sharing their average rank."""
    order = np.argsort(scores, axis=0, kind="stable")
    ranks = np.empty_like(scores)
    for c in range(scores.shape[1]):
        column = scores[order[:, c], c]
        starts = np.flatnonzero(np.r_[True, column[1:] != column[:-1]])
        ends = np.r_[starts[1:], len(column)]
        average = (starts + ends + 1) / 2.0  # mean of ranks start+1 .. end
        ranks[order[:, c], c] = np.repeat(average, ends - starts)
    return ranks


def average_precision(positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """float64 ``(C,)``: the area under the precision-recall curve as average precision,
    sum over thresholds of (recall step) x precision, tied scores taken as one step."""
    scores = np.concatenate([positives, negatives]).astype(np.float64)
    truth = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
    out = np.empty(scores.shape[1])
    for c in range(scores.shape[1]):
        order = np.argsort(-scores[:, c], kind="stable")
        column, hits = scores[order, c], truth[order]
        last = np.r_[column[1:] != column[:-1], True]  # the end of each tie group
        true_pos = np.cumsum(hits)[last]
        seen = np.flatnonzero(last) + 1.0
        recall = true_pos / len(positives)
        precision = true_pos / seen
        out[c] = np.sum(np.diff(np.r_[0.0, recall]) * precision)
    return out


def random_threshold(pool: np.ndarray) -> float:
    """The ``PERCENTILE``-th percentile of the random copies' scores in one layer
    (NaN scores count as 0: no evidence)."""
    return float(np.percentile(np.nan_to_num(np.asarray(pool, np.float64)), PERCENTILE))


def detectors(scores: np.ndarray, threshold: float) -> np.ndarray:
    """bool ``(C,)``: strictly above the random copies' bar (NaN never is)."""
    return np.nan_to_num(np.asarray(scores, np.float64), nan=-np.inf) > threshold


@dataclass(frozen=True)
class Hierarchy:
    """The fixed verdict on edges -> parts -> faces.

    Attributes:
        edge_peak, part_peak, face_peak: the layer with the most detectors of each
            group (the earliest on ties; None where the group has none).
        shown: all three rules hold. ``failures``: each rule that does not, in words.
    """

    edge_peak: str | None
    part_peak: str | None
    face_peak: str | None
    shown: bool
    failures: tuple[str, ...]

    def sentences(self) -> list[str]:
        """The verdict in words, one line each (the charts and the app print these)."""
        peaks = (
            f"edge detectors peak in {self.edge_peak or '(none)'}, part detectors in "
            f"{self.part_peak or '(none)'}, face detectors in {self.face_peak or '(none)'}"
        )
        if self.shown:
            return [f"Hierarchy shown: {peaks}, each above the random-init copies."]
        return [f"Hierarchy not shown: {peaks}."] + [f"  - {f}" for f in self.failures]


def hierarchy_verdict(layers: list[str], trained: dict, random: dict) -> Hierarchy:
    """Apply the three rules to per-group detector fractions.

    Args:
        layers: layer names, first to last.
        trained, random: group -> float ``(L,)`` detector fraction per layer, of the
            model and of its random copies.
    """
    peaks: dict[str, int | None] = {}
    failures: list[str] = []
    for group in GROUPS:
        values = np.asarray(trained[group], np.float64)
        peaks[group] = int(np.argmax(values)) if values.size and values.max() > 0 else None
        if peaks[group] is None:
            failures.append(f"no layer has a {group} detector")
            continue
        index = peaks[group]
        if values[index] < PEAK_SHARE:
            failures.append(
                f"the {group} peak ({layers[index]}) holds {values[index]:.0%} of its units, "
                f"under {PEAK_SHARE:.0%}"
            )
        if values[index] <= random[group][index]:
            failures.append(
                f"the {group} peak ({layers[index]}, {values[index]:.0%}) is not above the "
                f"random copies' {random[group][index]:.0%}"
            )
    order = [peaks[g] for g in GROUPS]
    if None not in order and not order[0] < order[1] < order[2]:
        failures.append(
            "the peaks are not in order: edge in {}, part in {}, face in {}".format(
                *(layers[i] for i in order)
            )
        )
    named = {g: (layers[i] if i is not None else None) for g, i in peaks.items()}
    return Hierarchy(named["edge"], named["part"], named["face"], not failures, tuple(failures))
