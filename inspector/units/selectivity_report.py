"""Score every unit of a model and of its random copies; the frozen report and its JSON.

``measure_selectivity`` runs the response pass (``unit_responses``) of the
trained model and of each random copy over one stack of probe images
(gratings, face photos, natural non-face photos), then applies the measures and
the control of ``inspector.units.selectivity``. The probe images are built from
a ``ConceptSet``: its face images with their part masks, and its natural
non-face photos. The passes are jobs over row ranges of that stack, run here or
through a ``ResponseMap`` (``cluster.dask_response_map``); results are
concatenated in row order, so the report is the same wherever the jobs ran.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from inspector.defaults import BATCH_SIZE
from inspector.engine.errors import DatasetError
from inspector.engine.progress import Cancelled, Progress, check_cancelled, report
from inspector.units.concepts import ConceptSet
from inspector.units.gratings import Gratings, gratings
from inspector.units.probe import LayerProbe
from inspector.units.selectivity import (
    GROUPS,
    PERCENTILE,
    RANDOM_SEEDS,
    Hierarchy,
    average_precision,
    chance_level,
    detectors,
    field_centres,
    hierarchy_verdict,
    orientation_selectivity,
    pointing_game,
    preferred_orientation,
    random_threshold,
    roc_auc,
    top_hits,
)
from inspector.units.unit_responses import LayerResponses, merge, variant_meter

TOP_K = 9  # the "k of 9 top face images on the part" of the Show-me list
SHARD_ROWS = 256
PASSES = "image passes (selectivity: the model and its random-init copies)"
ResponseJob = tuple["int | None", int, int]  # (variant seed or None, start, stop)
# Runs jobs; yields (job index, its per-layer responses) as each finishes.
ResponsePass = Callable[[list[ResponseJob]], Iterable[tuple[int, list[LayerResponses]]]]
ResponseMap = Callable[["ProbeImages", int], ResponsePass]


@dataclass(frozen=True)
class ProbeImages:
    """Every image the measures read, stacked: gratings, then faces, then non-faces.

    Attributes:
        images: float32 ``(N, H, W, C)`` in [0, 1].
        gratings: the grating probes (the first ``len(gratings.images)`` rows).
        faces: the face rows; ``non_faces``: the natural non-face rows.
        parts: part name -> bool ``(faces, H, W)`` its mask on each face image.
    """

    images: np.ndarray
    gratings: Gratings
    faces: slice
    non_faces: slice
    parts: dict

    @property
    def face_count(self) -> int:
        return self.faces.stop - self.faces.start


def probe_images(concepts: ConceptSet, shape: tuple[int, int, int]) -> ProbeImages:
    """The probe stack for a model input ``shape`` from ``concepts``.

    Faces are the images that are not negatives and are annotated for a part;
    the parts are the concepts of the ``part`` group; non-faces are the
    concept set's natural non-face photos (``ConceptSet.natural``).

    Raises:
        DatasetError: no face images with parts, or no natural non-faces.
    """
    probes = gratings(shape[0], shape[2])
    parts = [n for n in concepts.names if concepts.groups[n] == "part"]
    annotated = np.zeros(len(concepts.images), bool)
    for name in parts:
        annotated |= concepts.annotated[name]
    faces = np.flatnonzero(~concepts.negatives & annotated)
    others = np.flatnonzero(concepts.natural_non_faces())
    if len(faces) == 0 or len(others) == 0:
        raise DatasetError(
            "Expected concepts with face images annotated for parts and natural non-face "
            f"photos. Received: {len(faces)} face images and {len(others)} non-faces."
        )
    stack = np.concatenate([probes.images, concepts.images[faces], concepts.images[others]]).astype(
        np.float32
    )
    g, f = len(probes.images), len(faces)
    return ProbeImages(
        stack,
        probes,
        slice(g, g + f),
        slice(g + f, g + f + len(others)),
        {name: concepts.masks[name][faces] for name in parts},
    )


@dataclass(frozen=True)
class UnitScores:
    """The three measures for every unit of one layer of one model variant.

    Attributes:
        osi: float64 ``(C,)`` (NaN: active on too few gratings); ``best_cycles``: int
            ``(C,)`` cycles per side it was read at; ``preferred``: float64 ``(C,)``
            degrees of its preferred orientation there.
        pointing: part -> float64 ``(C,)`` hit rate (NaN: active on too few faces).
        part_score: float64 ``(C,)`` the best part's hit rate (0 where none).
        best_part: ``C`` part names (None where no part has a score).
        face_auc, face_auc_pr: float64 ``(C,)``.
        top_hits: part -> int ``(C,)`` of the unit's top ``TOP_K`` face images, how many
            peak in the part.
    """

    osi: np.ndarray
    best_cycles: np.ndarray
    preferred: np.ndarray
    pointing: dict
    part_score: np.ndarray
    best_part: tuple
    face_auc: np.ndarray
    face_auc_pr: np.ndarray
    top_hits: dict

    def score(self, group: str) -> np.ndarray:
        return {"edge": self.osi, "part": self.part_score, "face": self.face_auc}[group]


@dataclass(frozen=True)
class LayerSelectivity:
    """One layer: the trained units, the random copies' units, the bars and who passes.

    The random copies are scored as the model is: each copy against the bar of the
    OTHER copies (leave one out). Against their own pooled bar they would pass at
    about 1 % by construction whatever they are, which says nothing; an untrained
    MobileNetV2 scored as the model had 7 % part detectors in ``block_1_expand``
    against that pooled 1 %, while its copies scored the same way reach such rates
    too. So "the random copies' rate" is the mean of the copies' leave-one-out
    rates, and ``copy_rates`` gives each.

    Attributes:
        layer: its name. ``chance``: part -> the pointing game's chance level.
        trained: the model's ``UnitScores``; ``random``: one per random seed.
        thresholds: group -> the random copies' ``PERCENTILE``-th percentile.
        detector_of: per trained unit, the groups it is a detector of.
    """

    layer: str
    chance: dict
    trained: UnitScores
    random: tuple[UnitScores, ...]
    thresholds: dict

    @property
    def detector_of(self) -> tuple[tuple[str, ...], ...]:
        passed = {g: detectors(self.trained.score(g), self.thresholds[g]) for g in GROUPS}
        return tuple(tuple(g for g in GROUPS if passed[g][c]) for c in range(len(self.trained.osi)))

    def _passed(self, which: str, group: str, score=None) -> list[np.ndarray]:
        """Per variant, bool ``(C,)``: its units above the bar they are held to (the
        model: every copy's; a copy: the other copies'). ``score(variant)`` defaults
        to the group's score."""
        score = score or (lambda v: v.score(group))
        if which == "trained":
            return [detectors(score(self.trained), self.thresholds[group])]
        out = []
        for i, copy in enumerate(self.random):
            others = [r.score(group) for j, r in enumerate(self.random) if j != i]
            bar = random_threshold(np.concatenate(others)) if others else self.thresholds[group]
            out.append(detectors(score(copy), bar))
        return out

    def copy_rates(self, group: str) -> np.ndarray:
        """float64 ``(seeds,)``: each random copy's detector rate, scored as the model."""
        return np.array([float(p.mean()) for p in self._passed("random", group)])

    def fractions(self, which: str = "trained") -> dict:
        """group -> fraction of units that are detectors: the model's, or (``random``)
        the mean of the copies' leave-one-out rates."""
        if which == "trained":
            return {g: float(self._passed("trained", g)[0].mean()) for g in GROUPS}
        return {g: float(self.copy_rates(g).mean()) for g in GROUPS}

    def summary(self, which: str = "trained") -> dict:
        """The ``selectivity`` / ``random_init`` entry of ``dissection.json``."""
        variants = (self.trained,) if which == "trained" else self.random
        fractions = self.fractions(which)
        parts = list(self.chance)
        passed = np.concatenate(self._passed(which, "part"))
        best = [np.array([b if b is not None else "" for b in v.best_part]) for v in variants]
        best = np.concatenate(best)
        best_part = {part: float(np.mean(passed & (best == part))) for part in parts}
        pooled = {
            key: np.concatenate([getattr(v, key) for v in variants])
            for key in ("osi", "part_score", "face_auc", "face_auc_pr")
        }
        return {
            "edge": {"mean": _mean(pooled["osi"]), "detectors": fractions["edge"]},
            "part": {
                "mean": _mean(pooled["part_score"]),
                "detectors": fractions["part"],
                "best_part": best_part,
            },
            "face": {
                "mean_auc": _mean(pooled["face_auc"]),
                "mean_auc_pr": _mean(pooled["face_auc_pr"]),
                "detectors": fractions["face"],
            },
        }

    def units(self) -> list[dict]:
        """The ``units_selectivity`` entries of ``dissection.json``, one per channel."""
        t = self.trained
        return [
            {
                "channel": c,
                "osi": _number(t.osi[c]),
                "pointing": {part: _number(t.pointing[part][c]) for part in t.pointing},
                "face_auc": float(t.face_auc[c]),
                "detector_of": list(groups),
            }
            for c, groups in enumerate(self.detector_of)
        ]


@dataclass(frozen=True)
class SelectivityReport:
    """Every layer's ``LayerSelectivity`` and the hierarchy verdict."""

    layers: tuple[LayerSelectivity, ...]
    hierarchy: Hierarchy
    seeds: tuple[int, ...]

    def layer(self, name: str) -> LayerSelectivity | None:
        return next((s for s in self.layers if s.layer == name), None)

    def fractions(self, which: str = "trained") -> list[dict]:
        """Per layer, first to last: group -> detector fraction (trained or random)."""
        return [s.fractions(which) for s in self.layers]

    def document(self) -> dict:
        """The four keys this report adds to ``dissection.json`` (an exact contract)."""
        h = self.hierarchy
        return {
            "selectivity": {s.layer: s.summary("trained") for s in self.layers},
            "random_init": {s.layer: s.summary("random") for s in self.layers},
            "units_selectivity": {s.layer: s.units() for s in self.layers},
            "hierarchy": {
                "edge_peak": h.edge_peak,
                "part_peak": h.part_peak,
                "face_peak": h.face_peak,
                "shown": h.shown,
            },
        }

    def settings(self) -> dict:
        """How the report was made, for ``dissection.json``'s ``settings``."""
        return {
            "random_seeds": list(self.seeds),
            "percentile": PERCENTILE,
            "thresholds": {s.layer: s.thresholds for s in self.layers},
            "copy_rates": {
                s.layer: {g: [float(v) for v in s.copy_rates(g)] for g in GROUPS}
                for s in self.layers
            },
            "chance": {s.layer: s.chance for s in self.layers},
            "failures": list(self.hierarchy.failures),
        }


def _mean(values: np.ndarray) -> float:
    return float(np.nanmean(values)) if np.isfinite(values).any() else 0.0


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def score_layer(responses: LayerResponses, data: ProbeImages, centres: np.ndarray) -> UnitScores:
    """The three measures for one layer from its responses to ``data.images``."""
    grid = data.gratings.grid
    count = len(data.gratings.images)
    centre = responses.centre[:count].reshape(*grid, -1).transpose(3, 0, 1, 2)
    osi, best = orientation_selectivity(centre, data.gratings.angles)
    faces = responses.rows(data.faces)
    pointing = {
        part: pointing_game(faces.maxima, faces.argmax, centres, mask)[0]
        for part, mask in data.parts.items()
    }
    table = np.stack(list(pointing.values()), axis=1)  # (C, P)
    scored = np.isfinite(table).any(axis=1)
    best_index = np.argmax(np.nan_to_num(table, nan=-1.0), axis=1)
    names = list(pointing)
    non_faces = responses.maxima[data.non_faces]
    return UnitScores(
        osi=osi,
        best_cycles=np.asarray(data.gratings.cycles)[best],
        preferred=preferred_orientation(centre, data.gratings.angles, best),
        pointing=pointing,
        part_score=np.where(scored, np.nan_to_num(table, nan=0.0).max(axis=1), 0.0),
        best_part=tuple(names[b] if s else None for b, s in zip(best_index, scored, strict=True)),
        face_auc=roc_auc(faces.maxima, non_faces),
        face_auc_pr=average_precision(faces.maxima, non_faces),
        top_hits={
            part: top_hits(faces.maxima, faces.argmax, centres, mask, TOP_K)
            for part, mask in data.parts.items()
        },
    )


def _jobs(data: ProbeImages, seeds: tuple[int, ...]) -> list[ResponseJob]:
    rows = len(data.images)
    return [
        (seed, start, min(start + SHARD_ROWS, rows))
        for seed in (None, *seeds)
        for start in range(0, rows, SHARD_ROWS)
    ]


def measure_selectivity(
    probe: LayerProbe,
    concepts: ConceptSet,
    *,
    seeds: tuple[int, ...] = RANDOM_SEEDS,
    batch_size: int = BATCH_SIZE,
    response_map: ResponseMap | None = None,
    progress: Progress | None = None,
    cancelled: Cancelled | None = None,
) -> SelectivityReport:
    """Score every unit of ``probe``'s layers and of ``len(seeds)`` random copies.

    Args:
        probe: the trained model and its chosen layers.
        concepts: the face images with part masks and the natural non-faces.
        seeds: one re-initialised copy of the architecture per seed.
        batch_size: images per compiled call.
        response_map: runs the response jobs elsewhere (None: here, in turn).
        progress: ``(image passes done, total, what)`` after every job
            (``inspector.engine.progress``).
        cancelled: polled after every job; True stops with ``CancelledError``.

    Raises:
        DatasetError: concepts without faces or natural non-faces.
        CancelledError: ``cancelled()`` turned True.
    """
    data = probe_images(concepts, probe.input_shape)
    jobs = _jobs(data, tuple(seeds))
    if response_map is None:
        run = _in_process(probe, data, batch_size)
    else:
        run = response_map(data, batch_size)
    results: list = [None] * len(jobs)
    total, done = sum(stop - start for _, start, stop in jobs), 0
    for index, result in run(jobs):
        results[index] = result
        done += jobs[index][2] - jobs[index][1]
        report(progress, done, total, PASSES)
        check_cancelled(cancelled, "the selectivity measures")
    by_variant = {
        seed: merge([r for r, (s, _, _) in zip(results, jobs, strict=True) if s == seed])
        for seed in (None, *seeds)
    }
    height, width = probe.input_shape[:2]
    layers = []
    for i, probed in enumerate(probe.layers):
        centres = field_centres(probed.field, probed.shape[:2], (height, width))
        trained = score_layer(by_variant[None][i], data, centres)
        random = tuple(score_layer(by_variant[s][i], data, centres) for s in seeds)
        thresholds = {
            g: random_threshold(np.concatenate([r.score(g) for r in random])) for g in GROUPS
        }
        chance = {part: chance_level(centres, mask) for part, mask in data.parts.items()}
        layers.append(LayerSelectivity(probed.name, chance, trained, random, thresholds))
    names = [s.layer for s in layers]
    verdict = hierarchy_verdict(
        names,
        {g: np.array([s.fractions("trained")[g] for s in layers]) for g in GROUPS},
        {g: np.array([s.fractions("random")[g] for s in layers]) for g in GROUPS},
    )
    return SelectivityReport(tuple(layers), verdict, tuple(seeds))


def _in_process(probe: LayerProbe, data: ProbeImages, batch_size: int) -> ResponsePass:
    meters: dict = {}

    def run(jobs: list[ResponseJob]) -> Iterator[tuple[int, list[LayerResponses]]]:
        last = {seed: index for index, (seed, _, _) in enumerate(jobs)}
        for index, (seed, start, stop) in enumerate(jobs):
            if seed not in meters:
                meters[seed] = variant_meter(probe, seed, batch_size)
            result = meters[seed].run(data.images, start, stop)
            if last[seed] == index:  # one copy of the model alive at a time
                del meters[seed]
            yield index, result

    return run
