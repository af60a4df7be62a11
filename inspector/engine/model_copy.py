"""Private copies of a model: with its trained weights, or re-initialised as at birth.

Two checks need a copy the user's model never feels: the model-randomisation
test of Adebayo et al. (NeurIPS 2018, in ``inspector.trust``) re-initialises a
trained network layer by layer, and the random-init control of unit
selectivity (``inspector.units.selectivity``) scores a whole re-initialised
copy of the same architecture, because face-selective units arise in untrained
networks too (Baek et al., Nat. Commun. 2021). Both draw each variable from the
layer's own initializer, seeded, so a copy repeats exactly in any process.
"""

from __future__ import annotations

import keras
import numpy as np

from inspector.engine.errors import UnsupportedModelError
from inspector.engine.graph_walk import is_graph_model


def weighted_layers(model: keras.Model, prefix: str = "") -> list[tuple[str, keras.layers.Layer]]:
    """``(name, layer)`` of every layer owning trainable weights, input to output.

    Nested models are entered, and their layers named ``outer/inner`` as the
    inspector names them.
    """
    found: list[tuple[str, keras.layers.Layer]] = []
    for layer in model.layers:
        if is_graph_model(layer):
            found.extend(weighted_layers(layer, f"{prefix}{layer.name}/"))
        elif layer.trainable_weights:
            found.append((f"{prefix}{layer.name}", layer))
    return found


def clone_with_weights(model: keras.Model) -> keras.Model:
    """A new model with the same architecture, layer names and a copy of every weight.

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
    """The layer's own initializer for ``variable``, seeded; None if it has none.

    Keras names them after the variable: ``kernel`` -> ``kernel_initializer``,
    ``depthwise_kernel`` -> ``depthwise_initializer``, ``moving_mean`` ->
    ``moving_mean_initializer``.
    """
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

    That is the layer's own initializer (He normal for the face CNN's kernels,
    zeros for a bias, ones for a BatchNorm scale or moving variance). A variable
    without one gets a normal draw truncated at 2 sd, with the trained values'
    own spread.
    """
    initializer = _initializer_of(layer, variable, seed)
    if initializer is None:
        spread = float(np.std(np.asarray(variable))) or 0.05
        initializer = keras.initializers.TruncatedNormal(stddev=spread, seed=seed)
    return np.asarray(initializer(tuple(variable.shape), dtype=variable.dtype))


def _all_layers(model: keras.Model):
    for layer in model.layers:
        if is_graph_model(layer):
            yield from _all_layers(layer)
        else:
            yield layer


def reinitialized_copy(model: keras.Model, seed: int) -> keras.Model:
    """A copy of ``model`` with EVERY weight drawn afresh from its layer's initializer.

    Trainable and non-trainable variables alike (a BatchNorm's moving mean and
    variance return to 0 and 1), so the copy is the architecture as training
    would have begun with seed ``seed``. The same seed gives the same copy in
    any process; ``model`` is only read.

    Raises:
        UnsupportedModelError: a model ``keras.models.clone_model`` cannot copy.
    """
    copy = clone_with_weights(model)
    for index, layer in enumerate(_all_layers(copy)):
        for number, variable in enumerate(layer.weights):
            variable.assign(fresh_values(layer, variable, seed * 1_000_003 + index * 101 + number))
    return copy
