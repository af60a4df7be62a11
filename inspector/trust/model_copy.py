"""A private copy of a model whose weights can be re-initialised from the top down.

The model-randomisation test of Adebayo et al. (NeurIPS 2018) re-initialises a
trained network's weights. The user's model must never change, so everything
happens on a clone (``inspector.engine.model_copy``), and the clone's own
trained values are kept to restore it between methods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from inspector.engine.errors import UnsupportedModelError
from inspector.engine.extraction import Inspector
from inspector.engine.model_copy import clone_with_weights, fresh_values, weighted_layers

# Above this many layers with weights, layers are randomised in this many
# consecutive blocks, as the paper does for Inception v3 (17 blocks).
MAX_STEPS = 16


@dataclass(frozen=True)
class Block:
    """Layers re-initialised together at one cascade step.

    Attributes:
        label: the layer's name, or ``"top..bottom"`` for a block of several.
        layers: the Keras layers (of the copy), top first.
    """

    label: str
    layers: tuple


def cascade_blocks(model, max_steps: int = MAX_STEPS) -> tuple[Block, ...]:
    """The cascade's steps, top first: one layer each, or ``max_steps`` blocks."""
    layers = weighted_layers(model)[::-1]
    if not layers:
        raise UnsupportedModelError(
            "Expected a model with trainable weights to randomise. "
            f"Received: model {model.name!r} without any."
        )
    size = math.ceil(len(layers) / max(1, max_steps))
    blocks = []
    for start in range(0, len(layers), size):
        part = layers[start : start + size]
        label = part[0][0] if len(part) == 1 else f"{part[0][0]}..{part[-1][0]}"
        blocks.append(Block(label, tuple(layer for _, layer in part)))
    return tuple(blocks)


class RandomizableCopy:
    """A copy of ``model`` for the cascade, with an ``Inspector`` on it.

    Args:
        model: the user's model; it is only read (``get_weights``), never changed.
        max_steps: at most this many cascade steps (blocks of layers beyond it).
        seed: seeds every re-initialisation, so a cascade repeats exactly.
        inspector: the user's ``Inspector``, whose labels and inputs the copy's
            inspector takes (None: the model's own labels, one image input).
    """

    def __init__(
        self,
        model: keras.Model,
        max_steps: int = MAX_STEPS,
        seed: int = 0,
        inspector: Inspector | None = None,
    ) -> None:
        self.model = clone_with_weights(model)
        self.blocks = cascade_blocks(self.model, max_steps)
        self.seed = seed
        if inspector is not None:
            self.inspector = inspector.for_copy(self.model)
        else:
            self.inspector = Inspector(self.model, labels=getattr(model, "class_names", None))
        self._trained = [np.array(v) for v in self.model.weights]

    @property
    def labels(self) -> tuple[str, ...]:
        """The label of each cascade step, top first."""
        return tuple(block.label for block in self.blocks)

    def restore(self) -> None:
        """Put the trained weights back (values copied from the user's model)."""
        for variable, value in zip(self.model.weights, self._trained, strict=True):
            variable.assign(value)

    def randomize(self, step: int) -> None:
        """Re-initialise the layers of block ``step`` (0 = the top block)."""
        for offset, layer in enumerate(self.blocks[step].layers):
            for index, variable in enumerate(layer.trainable_weights):
                seed = self.seed * 100_003 + step * 1_009 + offset * 31 + index
                variable.assign(fresh_values(layer, variable, seed))
