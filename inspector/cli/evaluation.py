"""The work behind ``layer-inspector evaluate``: every method on every image, then the means.

Per image: one inspection, the two controls' curves, and for each method its map,
its deletion and insertion curves and (optionally) its randomisation cascade on
one private copy of the model. ``Evaluation`` keeps every per-image result and
derives the JSON document and the figures' data from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inspector.attribution import AttributionError, compute_attribution
from inspector.engine.extraction import Inspector
from inspector.engine.progress import Progress, report
from inspector.render.trust_figures import CurveLine
from inspector.trust.controls import CONTROL_NAMES, TrustCurves, control_faithfulness
from inspector.trust.curves import Faithfulness, faithfulness
from inspector.trust.model_copy import RandomizableCopy
from inspector.trust.randomization import PASS_THRESHOLD, RandomizationResult, run_cascade
from inspector.trust.randomization import decisive_step as decisive_step_of
from inspector.trust.substrates import substrate_image
from inspector.trust.verdicts import faithfulness_verdicts

PASS_RULE = (
    f"passes when |Spearman rho| of |E| with the trained model's |E| is below {PASS_THRESHOLD} "
    "once the top half (ceil(n/2) of n steps) of the cascade is randomised; over several "
    "images, rho is first averaged per step over the images whose trained-model map is not "
    "constant (a constant map ranks nothing and cannot pass)"
)


@dataclass
class Evaluation:
    """Everything ``evaluate`` measured, per image, with the means derived on demand."""

    methods: list[str]
    steps: int
    baseline: str
    target: int | None
    sources: list[str] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)
    curves: dict[str, list[Faithfulness]] = field(default_factory=dict)
    cascades: dict[str, list[RandomizationResult]] = field(default_factory=dict)
    first_picture: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    # What the curves track: the target's "probability", or its "raw output" for a
    # linear output (a regression head), which is not in [0, 1].
    score: str = "probability"
    details: dict[str, list[dict]] = field(default_factory=dict)

    @property
    def images(self) -> int:
        return len(self.sources)

    def _aucs(self, name: str) -> dict:
        per_image = [
            {"image": source, "deletion_auc": f.deletion.auc, "insertion_auc": f.insertion.auc}
            for source, f in zip(self.sources, self.curves[name], strict=True)
        ]
        return {
            "deletion_auc": float(np.mean([p["deletion_auc"] for p in per_image])),
            "insertion_auc": float(np.mean([p["insertion_auc"] for p in per_image])),
            "per_image": per_image,
        }

    def _randomization(self, method: str) -> dict:
        results = self.cascades.get(method)
        if not results:
            return {"layers": [], "spearman": [], "passes": None, "skipped": True}
        # Images whose trained-model map is constant rank nothing: left out of the mean.
        checked = [r for r in results if r.checkable] or results
        mean_rho = np.mean([r.spearman for r in checked], axis=0)
        decisive = decisive_step_of(len(mean_rho))
        passes = any(r.checkable for r in results) and abs(mean_rho[decisive - 1]) < PASS_THRESHOLD
        return {
            "layers": list(results[0].layers),
            "spearman": [float(v) for v in mean_rho],
            "passes": bool(passes),
            "ssim": [float(v) for v in np.mean([r.ssim for r in checked], axis=0)],
            "decisive_step": decisive,
            "threshold": PASS_THRESHOLD,
            "checked_images": sum(r.checkable for r in results),
            "per_image": [
                {
                    "image": s,
                    "spearman": [float(v) for v in r.spearman],
                    "passes": r.passes,
                    "checkable": r.checkable,
                }
                for s, r in zip(self.sources, results, strict=True)
            ],
        }

    def _faithfulness(self, method: str) -> dict:
        """Deletion and insertion against the random map: a one-sided Wilcoxon test
        over every image's inner steps (``inspector.trust.verdicts``); ``better`` is
        None when the curves are too flat to judge."""
        per_image = [
            TrustCurves(mine, tuple(self.curves[c][index] for c in CONTROL_NAMES))
            for index, mine in enumerate(self.curves[method])
        ]
        return {
            verdict.kind: {
                "better_than": verdict.control,
                "better": verdict.better,
                "p_value": verdict.p_value,
                "pairs": verdict.pairs,
                "spread": verdict.spread,
            }
            for verdict in faithfulness_verdicts(per_image)
        }

    def _details(self, method: str) -> dict:
        """Per-image numbers a method reports (Integrated Gradients: completeness)."""
        found = self.details.get(method, [])
        return {"details": found} if any(found) else {}

    def summary(self) -> dict:
        """The ``evaluation.json`` document, without ``model``."""
        return {
            "images": self.images,
            "methods": {
                m: {
                    **self._aucs(m),
                    **self._details(m),
                    "faithfulness": self._faithfulness(m),
                    "randomization": self._randomization(m),
                }
                for m in self.methods
            },
            "controls": {name: self._aucs(name) for name in CONTROL_NAMES},
            "steps": self.steps,
            "baseline": self.baseline,
            "target": self.target,
            "score": self.score,
            "pass_rule": PASS_RULE,
            "per_image": [
                {"image": s, "target": t} for s, t in zip(self.sources, self.targets, strict=True)
            ],
        }

    def curve_lines(self) -> tuple[list[CurveLine], list[CurveLine]]:
        """Mean deletion and insertion lines of every method, then of both controls."""
        names = [*self.methods, *CONTROL_NAMES]
        lines: tuple[list[CurveLine], list[CurveLine]] = ([], [])
        for name in names:
            for out, kind in zip(lines, ("deletion", "insertion"), strict=True):
                curves = [getattr(f, kind) for f in self.curves[name]]
                mean = np.mean([c.probabilities for c in curves], axis=0)
                auc = float(np.mean([c.auc for c in curves]))
                out.append(
                    CurveLine(name, curves[0].fractions, mean, auc, control=name in CONTROL_NAMES)
                )
        return lines

    def randomization_rows(self) -> tuple[list[tuple[str, np.ndarray, str]], list[str]]:
        """Rows of the randomisation figure (first image) and its step labels."""
        rows, labels = [], []
        for method in self.methods:
            results = self.cascades.get(method)
            if not results:
                continue
            verdict = self._randomization(method)
            rho = verdict["spearman"][verdict["decisive_step"] - 1]
            word = "passes" if verdict["passes"] else "FAILS"
            rows.append((method, results[0].maps, f"{word} (rho {rho:+.2f})"))
            labels = list(results[0].layers)
        return rows, labels


def evaluate_images(
    inspector: Inspector,
    images: Sequence,
    methods: list[str],
    *,
    named: bool,
    target: int | None,
    steps: int,
    baseline: str,
    randomization: bool,
    output: int = 0,
    progress: Progress | None = None,
) -> Evaluation:
    """Run every method on every image (``PreparedImage``s); see the module docstring.

    Args:
        inspector: the model's ``Inspector`` (its labels and inputs).
        output: the model output whose target score is explained and tracked.

    With ``named`` False (``--methods all``), a method that cannot apply to this
    model (e.g. Grad-CAM without a spatial layer) is dropped with a note.
    """
    copy = RandomizableCopy(inspector.model, inspector=inspector) if randomization else None
    result = Evaluation(list(methods), steps, baseline, target)
    result.score = "probability" if inspector.probability_rule(output) != "none" else "raw output"
    for name in (*methods, *CONTROL_NAMES):
        result.curves[name] = []
    done = 0
    for prepared in images:
        inspection = inspector.inspect(prepared, target=target, output=output)
        result.sources.append(Path(prepared.source).name)
        result.targets.append(inspection.target)
        if result.first_picture is None:
            result.first_picture = prepared.display
        substrate = substrate_image(baseline, inspection, inspector)
        shared = {"steps": steps, "baseline": baseline, "substrate": substrate}
        for control in control_faithfulness(inspection, inspector, **shared):
            result.curves[control.name].append(control)
        for method in list(result.methods):
            try:
                attribution = compute_attribution(method, inspection, inspector)
            except AttributionError as error:
                if named:
                    raise
                result.notes.append(f"note: skipped {method}: {error}")
                result.methods.remove(method)
                result.cascades.pop(method, None)
                continue
            result.details.setdefault(method, []).append(dict(attribution.details))
            curves = faithfulness(method, attribution.heatmap, inspection, inspector, **shared)
            result.curves[method].append(curves)
            if copy is not None:
                cascade = run_cascade(copy, method, inspection)
                result.cascades.setdefault(method, []).append(cascade)
            done += 1
            total = len(images) * len(result.methods)
            report(progress, done, total, f"{result.sources[-1]}: {method}")
    return result
