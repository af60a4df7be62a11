"""The one rounding rule for showing a class probability, everywhere.

Pure Python (no NumPy, no TensorFlow), so the GUI can import it before the
engine loads. The rule: percent with one decimal (0.1 % resolution); a value
that would round to 0.0 % but is above 0 shows ``"<0.1 %"``, one that would
round to 100.0 % but is below 1 shows ``">99.9 %"``. So 0.9995 never reads
as a certain 100 %, nor 0.0004 as an impossible 0 %; exactly 0 and 1 show
``"0.0 %"`` and ``"100.0 %"``. A linear output (``probability_rule ==
"none"``: a regression) has raw values, not probabilities: they show as
numbers with 4 significant digits, never as percentages.
"""

from __future__ import annotations

import math

RULES = ("softmax", "sigmoid", "none")


def format_probability(value: float, rule: str = "softmax") -> str:
    """``value`` as the app, the report and the CLI all show it.

    Args:
        value: a probability in [0, 1] (for ``rule="none"``, any raw output value).
        rule: the output's ``probability_rule``: ``"softmax"``, ``"sigmoid"`` or
            ``"none"`` (raw values, shown as numbers).

    Returns:
        E.g. ``"42.0 %"``, ``"<0.1 %"``, ``">99.9 %"``, or ``"-3.142"`` for ``"none"``.
    """
    if rule not in RULES:
        raise ValueError(f"Expected rule to be one of {', '.join(RULES)}. Received: rule={rule!r}.")
    value = float(value)
    if rule == "none" or not math.isfinite(value):
        return f"{value:.4g}"
    text = f"{100.0 * value:.1f}"
    if text == "0.0" and value > 0.0:
        return "<0.1 %"
    if text == "100.0" and value < 1.0:
        return ">99.9 %"
    return f"{text} %"


def format_threshold(value: float) -> str:
    """A probability bar to two decimals of a percent (``"99.93 %"``): a calibrated
    threshold can sit closer to 100 % than ``format_probability``'s ``">99.9 %"`` says."""
    return f"{100 * value:.2f} %"
