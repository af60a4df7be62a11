"""A private copy of a model whose weights can be re-initialised from the top down.

The model-randomisation test of Adebayo et al. (NeurIPS 2018) re-initialises a
trained network's weights. The user's model must never change, so everything
happens on a clone (``keras.models.clone_model`` plus a copy of every weight),
and the clone's own trained values are kept to restore it between methods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from inspector.engine.errors import UnsupportedModelError
from inspector.engine.extraction import Inspector

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


def weighted_layers(model, prefix: str = "") -> list[tuple[str, object]]:
    """``(name, layer)`` of every layer owning trainable weights, input to output.

    Nested models are entered, and their layers named ``outer/inner`` as the
    inspector names them.
    """
    found: list[tuple[str, object]] = []
    for layer in model.layers:
        name = f"{prefix}{layer.name}"
        if isinstance(layer, keras.Model):
            found.extend(weighted_layers(layer, f"{name}/"))
        elif layer.trainable_weights:
            found.append((name, layer))
    return found


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


def clone_with_weights(model: keras.Model) -> keras.Model:
    """A new model with the same architecture and a copy of every weight.

    Raises:
        UnsupportedModelError: a subclassed model, which Keras cannot clone.
    """
    try:
        copy = keras.models.clone_model(model)
        copy.set_weights(model.get_weights())
    except (ValueError, TypeError, NotImplementedError) as error:
        raise UnsupportedModelError(
            "Expected a Functional or Sequential model that keras.models.clone_model can "
            f"copy. Received: model {model.name!r} ({type(error).__name__}: {error})."
        ) from None
    # Frozen layers (a transfer-learning backbone) hold trained weights too.
    copy.trainable = True
    return copy


def _initializer_of(layer, variable, seed: int):
    """The layer's own initializer for ``variable``, seeded; None if it has none."""
    base = variable.name.removesuffix("_kernel") if variable.name != "kernel" else "kernel"
    for attribute in (f"{variable.name}_initializer", f"{base}_initializer"):
        initializer = getattr(layer, attribute, None)
        if isinstance(initializer, keras.initializers.Initializer):
            config = initializer.get_config()
            if "seed" in config:
                config["seed"] = seed
            return type(initializer).from_config(config)
    return None


def fresh_values(layer, variable, seed: int) -> np.ndarray:
    """New values for ``variable``: a draw from the distribution training began with.

    That is the layer's own initializer (Glorot uniform for a Keras conv kernel,
    zeros for its bias, ones for a BatchNorm scale). A variable without one gets
    a normal draw truncated at 2 sd, with the trained values' own spread.
    """
    initializer = _initializer_of(layer, variable, seed)
    if initializer is None:
        spread = float(np.std(np.asarray(variable))) or 0.05
        initializer = keras.initializers.TruncatedNormal(stddev=spread, seed=seed)
    return np.asarray(initializer(tuple(variable.shape), dtype=variable.dtype))


class RandomizableCopy:
    """A copy of ``model`` for the cascade, with an ``Inspector`` on it.

    Args:
        model: the user's model; it is only read (``get_weights``), never changed.
        max_steps: at most this many cascade steps (blocks of layers beyond it).
        seed: seeds every re-initialisation, so a cascade repeats exactly.
    """

    def __init__(self, model: keras.Model, max_steps: int = MAX_STEPS, seed: int = 0) -> None:
        self.model = clone_with_weights(model)
        self.blocks = cascade_blocks(self.model, max_steps)
        self.seed = seed
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
