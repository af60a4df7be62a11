"""The strongest detectors of each kind: the app's "Show me" list and ``dissect``'s last lines.

A student should reach an eye unit in two clicks, so the selectivity report is
turned into a short list per kind: ``edge``, each part of the probe set (``eye``,
``nose``, ``mouth``) and ``face``. Only detectors are listed, i.e. units above the
random-init copies' bar of their layer (``inspector.units.selectivity``); a kind
with none gets its closest unit, marked ``detector=False`` and said as such, so
the list never presents a unit the control does not back.

Ranks: ``edge`` by orientation selectivity (OSI); a part by how many of the
unit's top 9 face images peak on it, then by its hit rate over every active face
image; ``face`` by ROC-AUC. Ties go to the earlier layer, then the lower channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.units.selectivity_report import TOP_K, LayerSelectivity, SelectivityReport

PER_KIND = 3
_PLURAL = {"eye": "eyes"}


@dataclass(frozen=True)
class Exemplar:
    """One unit worth showing.

    Attributes:
        kind: ``edge``, a part name, or ``face``.
        layer, channel: the unit.
        score: its OSI, hit rate on the part, or face AUC; ``bar``: the random copies'
            99th percentile in its layer for that measure.
        detector: True when ``score`` is above ``bar``.
        text: one line that says all of it in words.
    """

    kind: str
    layer: str
    channel: int
    score: float
    bar: float
    detector: bool
    text: str


def _candidates(report: SelectivityReport, score_of) -> list[tuple[float, float, int, str, int]]:
    """(rank key, score, layer index, layer, channel) of every scored unit, best first."""
    rows = []
    for index, layer in enumerate(report.layers):
        keys, scores = score_of(layer)
        for channel in range(len(scores)):
            if np.isfinite(scores[channel]):
                rows.append((float(keys[channel]), float(scores[channel]), index, layer, channel))
    rows.sort(key=lambda r: (-r[0], -r[1], r[2], r[4]))
    return rows


def _pick(kind: str, report: SelectivityReport, score_of, bar_of, describe, count: int):
    rows = _candidates(report, score_of)
    passed = [r for r in rows if r[1] > bar_of(r[3])]
    chosen, detector = (passed[:count], True) if passed else (rows[:1], False)
    out = []
    for _, score, _, layer, channel in chosen:
        words = describe(layer, channel)
        if not detector:
            words = f"no {kind} detector above the random-init copies; closest: {words}"
        out.append(
            Exemplar(kind, layer.layer, channel, score, bar_of(layer), detector, f"{kind}: {words}")
        )
    return tuple(out)


def strongest_units(report: SelectivityReport, count: int = PER_KIND) -> dict[str, tuple]:
    """kind -> up to ``count`` ``Exemplar``s, strongest first (one non-detector where a
    kind has no detector, none where no unit has a score at all)."""
    found: dict[str, tuple] = {}

    def edge_words(layer: LayerSelectivity, c: int) -> str:
        t = layer.trained
        return (
            f"{layer.layer} ch {c}, orientation selectivity {t.osi[c]:.2f} (random-init bar "
            f"{layer.thresholds['edge']:.2f}); prefers gratings at {t.preferred[c]:.0f}°, "
            f"{int(t.best_cycles[c])} cycles per image"
        )

    found["edge"] = _pick(
        "edge",
        report,
        lambda layer: (layer.trained.osi, layer.trained.osi),
        lambda layer: layer.thresholds["edge"],
        edge_words,
        count,
    )
    parts = list(report.layers[0].chance) if report.layers else []
    for part in parts:

        def part_words(layer: LayerSelectivity, c: int, part=part) -> str:
            t = layer.trained
            return (
                f"{layer.layer} ch {c}, {int(t.top_hits[part][c])}/{TOP_K} top face images "
                f"peak on the {_PLURAL.get(part, part)} (hit rate {t.pointing[part][c]:.0%} over "
                f"every face it answers, chance {layer.chance[part]:.0%}, random-init bar "
                f"{layer.thresholds['part']:.0%})"
            )

        found[part] = _pick(
            part,
            report,
            lambda layer, part=part: (
                layer.trained.top_hits[part] + np.nan_to_num(layer.trained.pointing[part]) / 2,
                layer.trained.pointing[part],
            ),
            lambda layer: layer.thresholds["part"],
            part_words,
            count,
        )

    def face_words(layer: LayerSelectivity, c: int) -> str:
        t = layer.trained
        return (
            f"{layer.layer} ch {c}, face-vs-non-face AUC {t.face_auc[c]:.2f} (random-init bar "
            f"{layer.thresholds['face']:.2f}; average precision {t.face_auc_pr[c]:.2f})"
        )

    found["face"] = _pick(
        "face",
        report,
        lambda layer: (layer.trained.face_auc, layer.trained.face_auc),
        lambda layer: layer.thresholds["face"],
        face_words,
        count,
    )
    return found


def strongest_lines(report: SelectivityReport) -> list[str]:
    """The strongest unit of each kind, one line each (what ``dissect`` prints)."""
    return [unit.text for found in strongest_units(report, count=1).values() for unit in found]


@dataclass(frozen=True)
class ExemplarRow:
    """One Show-me unit's top images among the probe photos, ready to draw.

    Attributes:
        exemplar: the unit and what is said of it.
        crops, gradients: its top ``k`` receptive-field crops and its gradient on
            each (``inspector.units.unit_gradients.top_crops``), best first.
        scores: float32 ``(n,)`` each crop's activation; ``is_face``: bool ``(n,)``.
        marks: float64 ``(n, 2)`` the centre of the unit's field in each crop as
            ``(x, y)`` fractions of the crop; ``frames``: the field's box in each
            crop (``TopCrops.marks`` and ``TopCrops.frames``).
    """

    exemplar: Exemplar
    crops: tuple
    gradients: tuple
    scores: np.ndarray
    is_face: np.ndarray
    marks: np.ndarray
    frames: tuple = ()


def exemplar_rows(probe, report: SelectivityReport, concepts, k: int = TOP_K) -> list:
    """The top ``k`` images of the strongest unit of each kind, from the probe photos
    the measures read: the face photos alone for a face part (its "k/9 on the eyes"
    counts those), the face photos and the natural non-face photos for an edge or
    face unit (whether faces win is the point).

    Args:
        probe: the ``LayerProbe`` the report was measured with.
        concepts: the ``ConceptSet`` it was measured on.

    Returns:
        One ``ExemplarRow`` per kind that has an exemplar, in ``strongest_units`` order.
    """
    from inspector.units.run import mine_units
    from inspector.units.selectivity_report import probe_images
    from inspector.units.sources import ArraySource
    from inspector.units.unit_gradients import UnitGradients, top_crops

    best = [found[0] for found in strongest_units(report, count=1).values() if found]
    if not best:
        return []
    data = probe_images(concepts, probe.input_shape)
    # Raw 0..255 pixels: the sources apply the model's own preprocessing.
    faces = data.images[data.faces] * np.float32(255.0)
    both = np.concatenate([faces, data.images[data.non_faces] * np.float32(255.0)])
    chosen = probe.with_layers(sorted({e.layer for e in best}, key=probe.names.index))
    gradients = UnitGradients(chosen)
    rows = []
    for images, kinds in ((faces, "part"), (both, "other")):
        wanted = [e for e in best if (e.kind not in ("edge", "face")) == (kinds == "part")]
        if not wanted:
            continue
        source = ArraySource(images, "probe photos", chosen.preprocess)
        mined = mine_units(chosen, source, k=k, cache_dir=False)
        is_face = np.arange(len(images)) < len(faces)
        for e in wanted:
            units = mined.layer(e.layer)
            crops = top_crops(units, source, gradients, channels=[e.channel])
            count = len(crops.crops[e.channel])
            top = units.images[e.channel, :count]
            rows.append(
                ExemplarRow(
                    e,
                    crops.crops[e.channel],
                    crops.gradients[e.channel],
                    units.scores[e.channel, :count],
                    is_face[top],
                    crops.marks[e.channel],
                    crops.frames[e.channel],
                )
            )
    order = [e.kind for e in best]
    return sorted(rows, key=lambda row: order.index(row.exemplar.kind))
