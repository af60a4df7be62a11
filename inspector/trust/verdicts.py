"""Two verdicts for one map, never one tick for both.

* **Faithfulness**: is the method's deletion (insertion) curve below (above) the
  random map's, step by step? Decided by a one-sided Wilcoxon signed-rank test
  (F. Wilcoxon, "Individual comparisons by ranking methods", Biometrics
  Bulletin 1(6), 1945) on the paired probabilities at every inner step, pooled
  over the images given (the curves of Petsiuk, Das & Saenko, "RISE", BMVC 2018).
  The first and last steps are the same image for every map and carry no pair.
* **Can the curves judge at all?** When the target's probability hardly moves
  on any curve (an untrained or saturated model), no ordering of pixels can be
  told from another: the verdict is then "cannot judge", not a pass or a fail.

The randomisation check (Adebayo et al., NeurIPS 2018) stays a third, separate
statement: it diagnoses whether a map depends on the weights; it does not rank
methods (Binder et al., "Shortcomings of Top-Down Randomization-Based Sanity
Checks for Evaluations of Deep Neural Network Explanations", CVPR 2023).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inspector.trust.controls import TrustCurves

ALPHA = 0.05  # the one-sided test's level
# Below this spread of the target's probability over every curve, the curves
# cannot tell one pixel order from another.
FLAT_SPREAD = 0.02


@dataclass(frozen=True)
class FaithfulnessVerdict:
    """One kind of curve, the method against a control, over one or more images.

    Attributes:
        kind: ``"deletion"`` (lower is better) or ``"insertion"`` (higher is better).
        control: the control's name (``"random"``).
        method_auc, control_auc: the mean areas under the curves.
        better: True when the method beats the control at level ``ALPHA``, False
            when it does not, None when the curves cannot judge (flat).
        p_value: the one-sided Wilcoxon p-value (1.0 when every pair is tied).
        pairs: how many paired steps the test saw.
        spread: the largest change of the target's probability on any curve.
    """

    kind: str
    control: str
    method_auc: float
    control_auc: float
    better: bool | None
    p_value: float
    pairs: int
    spread: float

    @property
    def words(self) -> str:
        if self.better is None:
            return "cannot judge (the target's probability hardly moves)"
        return "better than the random map" if self.better else "not better than the random map"


def curve_spread(curves: Sequence[TrustCurves]) -> float:
    """The largest max - min of the target's probability over every curve given."""
    spread = 0.0
    for one in curves:
        for result in (one.method, *one.controls):
            for curve in (result.deletion, result.insertion):
                spread = max(spread, float(np.ptp(curve.probabilities)))
    return spread


def faithfulness_verdicts(
    curves: Sequence[TrustCurves], control: str = "random", alpha: float = ALPHA
) -> tuple[FaithfulnessVerdict, FaithfulnessVerdict]:
    """Deletion and insertion verdicts of a method against ``control``.

    Args:
        curves: the method's curves with controls, one ``TrustCurves`` per image.
        control: which control to beat.
        alpha: the test's level.

    Raises:
        ValueError: no curves.
    """
    from scipy.stats import wilcoxon

    if not curves:
        raise ValueError("Expected the curves of at least one image. Received: none.")
    spread = curve_spread(curves)
    verdicts = []
    for kind, sign in (("deletion", -1.0), ("insertion", 1.0)):
        differences, own, chance = [], [], []
        for one in curves:
            mine, theirs = getattr(one.method, kind), getattr(one.control(control), kind)
            differences.append(sign * (mine.probabilities - theirs.probabilities)[1:-1])
            own.append(mine.auc)
            chance.append(theirs.auc)
        paired = np.concatenate(differences)
        if not np.any(paired):
            p_value = 1.0
        else:
            p_value = float(wilcoxon(paired, alternative="greater", zero_method="wilcox").pvalue)
        better = None if spread < FLAT_SPREAD else p_value < alpha
        verdicts.append(
            FaithfulnessVerdict(
                kind,
                control,
                float(np.mean(own)),
                float(np.mean(chance)),
                better,
                p_value,
                int(paired.size),
                spread,
            )
        )
    return verdicts[0], verdicts[1]
