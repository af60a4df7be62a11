"""The one rounding rule for probabilities, and that every place showing one uses it."""

import subprocess
import sys

import pytest

from inspector.render.probability import format_probability


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "0.0 %"),
        (1.0, "100.0 %"),
        (0.42, "42.0 %"),
        (0.12345, "12.3 %"),
        (0.9994, "99.9 %"),
        (0.9995, ">99.9 %"),  # would round to 100.0 %: not certain, so not shown as such
        (0.99999, ">99.9 %"),
        (0.0004, "<0.1 %"),  # would round to 0.0 %: not impossible
        (1e-12, "<0.1 %"),
        (0.0006, "0.1 %"),
    ],
)
def test_format_probability_rounds_to_a_tenth_of_a_percent_with_honest_ends(value, expected):
    assert format_probability(value) == expected
    assert format_probability(value, "sigmoid") == expected


def test_raw_outputs_are_numbers_not_percentages():
    assert format_probability(-3.14159, "none") == "-3.142"
    assert format_probability(0.9995, "none") == "0.9995"
    assert format_probability(1234567.0, "none") == "1.235e+06"


def test_unknown_rule_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"softmax, sigmoid, none\. Received: rule='tanh'"):
        format_probability(0.5, "tanh")


def test_import_needs_neither_numpy_nor_tensorflow():
    code = (
        "import sys; import inspector.render.probability; "
        "print(sorted(m for m in ('numpy', 'tensorflow', 'keras') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
