"""Run a model with the backward pass of every ReLU replaced by another rule.

Guided Backpropagation (Springenberg et al., 2015) and the DeconvNet
(Zeiler & Fergus, 2014) are the plain gradient with a different rule at each
ReLU. Writing the rule into the user's model (swapping activations, registering
a global gradient override) would change every later gradient, the
inspection's included. Instead ``relu_rule_caller`` gives ``run_model`` a
function that calls each layer the usual way, except that where a ReLU is
applied the forward value goes through a ``tf.custom_gradient`` carrying the
rule. It only exists inside the separately traced function that uses it.

For ``y = relu(z)`` and the gradient ``g`` arriving from above, the rules are:

* plain backpropagation, for comparison: ``dz = relu'(z) * g``.
* ``"guided"``: ``dz = relu'(z) * max(g, 0)`` (Springenberg et al., Eq. at Fig. 1).
* ``"deconvnet"``: ``dz = max(g, 0)`` (Zeiler & Fergus, Section 2.1: the
  reconstruction is rectified, whatever the forward pass did).

``relu'(z)`` is the derivative of the activation the layer really applies, so a
``ReLU(max_value=6)`` (MobileNetV2) also blocks where ``z > 6``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import tensorflow as tf

from inspector.engine.errors import AttributionError

RELU_RULES = ("guided", "deconvnet")
RELU_FUNCTIONS = ("relu", "relu6")

LayerCaller = Callable[[keras.layers.Layer, tuple, dict], Any]


def relu_rule_caller(rule: str) -> LayerCaller:
    """A ``call_layer(layer, args, kwargs)`` for ``run_model`` that applies ``rule``.

    ReLUs are found in ``Activation("relu")`` / ``Activation("relu6")`` layers,
    ``ReLU`` layers without a negative slope (any ``max_value`` or
    ``threshold``), and any other layer built with ``activation="relu"`` (or
    ``"relu6"``), e.g. ``Conv2D(..., activation="relu")``. Leaky and other
    activations keep their plain gradient: the papers define no rule for them.

    Raises:
        AttributionError: ``rule`` is not one of ``RELU_RULES``.
    """
    if rule not in RELU_RULES:
        raise AttributionError(
            f"Expected a ReLU backward rule among: {', '.join(RELU_RULES)}. "
            f"Received: relu_rule={rule!r}."
        )

    def call_layer(layer, args: tuple, kwargs: dict):
        if is_relu_layer(layer):
            rest = args[1:]
            return _with_rule(lambda z: layer(z, *rest, **kwargs), rule)(args[0])
        if _activation_name(layer) in RELU_FUNCTIONS:
            pre_activation = _call_without_activation(layer, args, kwargs)
            return _with_rule(layer.activation, rule)(pre_activation)
        return layer(*args, **kwargs)

    return call_layer


def is_relu_layer(layer) -> bool:
    """True for a layer that only applies a ReLU (``ReLU``, ``Activation("relu")``)."""
    if isinstance(layer, keras.layers.ReLU):
        return layer.negative_slope == 0
    return isinstance(layer, keras.layers.Activation) and (
        _activation_name(layer) in RELU_FUNCTIONS
    )


def _activation_name(layer) -> str:
    function = getattr(layer, "activation", None)
    return getattr(function, "__name__", "") if callable(function) else ""


def _call_without_activation(layer, args: tuple, kwargs: dict):
    """``layer``'s output before its activation, without touching ``layer``.

    A twin object shares the layer's attributes (so its very weight variables)
    but has a linear activation; ``copy.copy`` would not do, since Keras layers
    copy themselves by serialising their weights.
    """
    twin = object.__new__(type(layer))
    twin.__dict__.update(layer.__dict__)
    twin.__dict__["activation"] = keras.activations.linear
    return type(layer).call(twin, *args, **kwargs)


def _with_rule(activation: Callable, rule: str) -> Callable:
    """``activation`` (elementwise) with its backward pass replaced by ``rule``."""

    @tf.custom_gradient
    def apply(pre_activation):
        with tf.GradientTape() as tape:
            tape.watch(pre_activation)
            output = activation(pre_activation)

        def backward(upstream):
            positive = tf.nn.relu(upstream)
            if rule == "deconvnet":
                return positive
            # The activation's own backward pass (its forward mask, relu6's cap
            # included) applied to the rectified signal.
            return tape.gradient(output, pre_activation, output_gradients=positive)

        return output, backward

    return apply
