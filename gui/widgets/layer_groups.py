"""Layer names -> the blocks they belong to, and which layers are plumbing.

Real architectures repeat one block many times and name its layers after it
(MobileNetV2's ``block_3_expand``, ``block_3_depthwise``…; ResNet's
``conv2_block1_1_conv``; EfficientNet's ``block2a_expand_conv``), and a nested
backbone prefixes every inner name with ``outer/``. Grouping by that name is what
lets a reader of a 150-layer model find one layer in two actions: pick the block,
then the layer. Pure string functions, so the rule is tested without a window.
"""

from __future__ import annotations

import re

# Layers that follow a conv to normalise or activate its output without changing
# its shape: the model tree can hide them, the hierarchy shows a conv block's
# output after them.
NORM_AND_ACTIVATION_CLASSES = frozenset(
    {
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "UnitNormalization",
        "Activation",
        "ReLU",
        "LeakyReLU",
        "ELU",
        "PReLU",
        "Softmax",
    }
)

# "block" followed by a number and an optional letter, after any prefix of the name
# (conv2_block1, block_3, block2a, stage_0_block_0), cut at the next underscore.
_BLOCK = re.compile(r"^(.*?block_?\d+[a-z]?)(?=_|$)", re.IGNORECASE)


def layer_group(name: str) -> str | None:
    """The block a layer belongs to, or None when its name says nothing.

    Examples: ``"block_3_expand"`` -> ``"block_3"``; ``"conv2_block1_1_conv"`` ->
    ``"conv2_block1"``; ``"backbone/block_3_expand"`` -> ``"backbone/block_3"``;
    ``"backbone/conv_a"`` -> ``"backbone"``; ``"Conv1"`` -> None.
    """
    outer, _, own = name.rpartition("/")
    match = _BLOCK.match(own)
    if match:
        return f"{outer}/{match.group(1)}" if outer else match.group(1)
    return outer or None


def name_in_group(name: str, group: str | None) -> str:
    """A layer's name without its group's prefix (``"block_3_expand"`` -> ``"expand"``).

    The group is written once above its columns, so each column needs only the rest.
    """
    if group is None:
        return name
    rest = name[len(group) :] if name.startswith(group) else name.rsplit("/", 1)[-1]
    return rest.lstrip("_/") or name.rsplit("/", 1)[-1]


def breakable(name: str) -> str:
    """The name with a zero-width space after each ``_`` and ``/``, so a narrow
    label can wrap a long name at its parts instead of clipping it."""
    return name.replace("_", "_\u200b").replace("/", "/\u200b")


def is_norm_or_activation(class_name: str) -> bool:
    """True for BatchNorm-like and activation layers (see ``NORM_AND_ACTIVATION_CLASSES``)."""
    return class_name in NORM_AND_ACTIVATION_CLASSES
