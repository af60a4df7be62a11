"""Faithfulness verdicts: a paired test against the random map, and "cannot judge"."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.trust import Curve, Faithfulness, TrustCurves, faithfulness_verdicts

STEPS = 20


def curves_of(deletion, insertion, control_deletion, control_insertion) -> TrustCurves:
    fractions = np.linspace(0, 1, STEPS + 1)

    def result(name, d, i):
        def curve(kind, p):
            p = np.asarray(p, float)
            auc = float(np.sum(np.diff(fractions) * (p[1:] + p[:-1]) / 2))
            return Curve(kind, "blur", fractions, p, auc)

        return Faithfulness(name, 0, curve("deletion", d), curve("insertion", i))

    return TrustCurves(
        result("saliency", deletion, insertion),
        (
            result("random", control_deletion, control_insertion),
            result("centre", control_deletion, control_insertion),
        ),
    )


def test_a_map_that_removes_the_evidence_first_beats_the_random_map():
    x = np.linspace(0, 1, STEPS + 1)
    fast_drop, slow_drop = 0.9 * np.exp(-8 * x), 0.9 * (1 - x) + 0.0
    fast_rise, slow_rise = 0.9 * (1 - np.exp(-8 * x)), 0.9 * x
    slow_drop[-1], fast_drop[-1] = 0.0, 0.0  # both end on the substrate
    deletion, insertion = faithfulness_verdicts(
        [curves_of(fast_drop, fast_rise, slow_drop, slow_rise)]
    )
    assert deletion.better is True and insertion.better is True
    assert deletion.p_value < 1e-3 and deletion.pairs == STEPS - 1
    assert deletion.method_auc < deletion.control_auc


def test_the_same_curve_as_the_random_map_is_not_better():
    x = np.linspace(0, 1, STEPS + 1)
    drop, rise = 0.9 * (1 - x), 0.9 * x
    deletion, insertion = faithfulness_verdicts([curves_of(drop, rise, drop, rise)])
    assert deletion.better is False and insertion.better is False
    assert deletion.p_value == 1.0


def test_a_worse_map_is_not_better_even_when_the_curves_differ():
    x = np.linspace(0, 1, STEPS + 1)
    deletion, _ = faithfulness_verdicts(
        [curves_of(0.9 * (1 - x**3), 0.9 * x, 0.9 * (1 - x), 0.9 * x)]
    )
    assert deletion.better is False and deletion.p_value > 0.5


def test_flat_curves_cannot_judge():
    """An untrained model: every probability about 0.001, whatever is removed."""
    rng = np.random.default_rng(0)
    flat = lambda: 0.001 + 1e-5 * rng.random(STEPS + 1)  # noqa: E731
    deletion, insertion = faithfulness_verdicts([curves_of(flat(), flat(), flat(), flat())])
    assert deletion.better is None and insertion.better is None
    assert "cannot judge" in deletion.words and deletion.spread < 0.02


def test_no_curves_is_an_error():
    with pytest.raises(ValueError, match="at least one image"):
        faithfulness_verdicts([])
