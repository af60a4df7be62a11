"""Trust: deletion/insertion curves with random and centre controls (Petsiuk 2018),
the cascading model-randomisation check and its map similarities (Adebayo 2018).
It may import ``inspector.engine`` and ``inspector.attribution``, never ``render``,
``cli`` or Qt. Its long jobs take ``inspector.engine.progress``'s progress and cancel.
"""

from __future__ import annotations

from inspector.trust.controls import (
    CONTROL_NAMES,
    TrustCurves,
    control_faithfulness,
    curves_with_controls,
)
from inspector.trust.curves import Curve, Faithfulness, faithfulness, trapezoid_auc
from inspector.trust.model_copy import RandomizableCopy
from inspector.trust.randomization import (
    PASS_THRESHOLD,
    RandomizationResult,
    randomization_check,
    run_cascade,
)
from inspector.trust.similarity import spearman, ssim
from inspector.trust.substrates import SUBSTRATE_NAMES
from inspector.trust.verdicts import FaithfulnessVerdict, curve_spread, faithfulness_verdicts

__all__ = [
    "CONTROL_NAMES",
    "PASS_THRESHOLD",
    "SUBSTRATE_NAMES",
    "Curve",
    "Faithfulness",
    "FaithfulnessVerdict",
    "RandomizableCopy",
    "RandomizationResult",
    "TrustCurves",
    "control_faithfulness",
    "curve_spread",
    "curves_with_controls",
    "faithfulness",
    "faithfulness_verdicts",
    "randomization_check",
    "run_cascade",
    "spearman",
    "ssim",
    "trapezoid_auc",
]
