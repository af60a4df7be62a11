"""Layer names made to fit a narrow space without hiding which layer they are.

Keras names say where a layer sits and what it does, joined by underscores:
``block_13_depthwise_relu``. A plain middle elide cuts through the block number
(``block_1…e_relu`` for block 13) and a right elide drops the role that tells
``block_13_depthwise_BN`` from ``block_13_depthwise_relu``. Both helpers here
cut only at underscores and keep the head up to the first number whole.
"""

from __future__ import annotations

from collections.abc import Callable

ELLIPSIS = "…"


def _head_needed(parts: list[str]) -> int:
    """How many leading parts say where the layer sits: up to the first part with a
    digit, if that comes early, and the numbered parts right after it
    (``block_13``, ``conv4_block6_2``); else the first part alone."""
    first = next((i for i, part in enumerate(parts[:3]) if _numbered(part)), None)
    if first is None:
        return 1
    end = first + 1
    while end < len(parts) - 1 and _numbered(parts[end]):
        end += 1
    return end


def _numbered(part: str) -> bool:
    return any(char.isdigit() for char in part)


def fit_name(name: str, fits: Callable[[str], bool]) -> str:
    """``name`` whole if it fits, else cut at underscores in the middle.

    The result keeps the head up to the first number and at least the last part,
    and as many parts around the cut as fit: ``block_13_depthwise_relu`` becomes
    ``block_13…relu``, ``a_block_2_b_c_d`` becomes ``a_block_2_b…d`` or
    ``a_block_2…c_d`` (the longer that fits), then ``a_block_2…d``. When even that
    does not fit, the head alone with an ellipsis (``block_13…``), the shortest that
    still says which layer it is; the full name belongs in a tooltip.

    Args:
        name: the layer's name.
        fits: whether a candidate text fits (e.g. measured with the font's metrics).
    """
    if fits(name):
        return name
    parts = name.split("_")
    if len(parts) < 3:
        return _cut_chars(name, fits)
    needed = _head_needed(parts)
    best = ""
    for head in range(len(parts) - 1, needed - 1, -1):
        for tail in range(len(parts) - head - 1, 0, -1):
            text = "_".join(parts[:head]) + ELLIPSIS + "_".join(parts[-tail:])
            if len(text) > len(best) and fits(text):
                best = text
    if best:
        return best
    return "_".join(parts[:needed]) + ELLIPSIS


def _cut_chars(name: str, fits: Callable[[str], bool]) -> str:
    """The longest ``name[:n] + "…"`` that fits: names without enough underscores."""
    for end in range(len(name) - 1, 0, -1):
        if fits(name[:end] + ELLIPSIS):
            return name[:end] + ELLIPSIS
    return name[:1] + ELLIPSIS


def split_name(name: str, fits: Callable[[str], bool]) -> list[str]:
    """``name`` whole if ``fits(name)``, else two lines broken after the underscore
    nearest its middle (``"block_12_project_BN"`` -> ``["block_12_", "project_BN"]``)."""
    cuts = [i + 1 for i, char in enumerate(name) if char == "_" and 0 < i < len(name) - 1]
    if fits(name) or not cuts:
        return [name]
    cut = min(cuts, key=lambda i: abs(i - len(name) / 2))
    return [name[:cut], name[cut:]]


__all__ = ["fit_name", "split_name"]
