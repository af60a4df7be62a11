"""Find the pre-softmax (or pre-sigmoid) logits behind a model output.

Gradients of a probability saturate; the target score is therefore the logit,
as Grad-CAM (Selvaraju et al., 2017) and most attribution papers prescribe.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from inspector.engine.graph_walk import Step, StepRecorder

SQUASHING = ("softmax", "sigmoid")


@dataclass
class ClassHead:
    """Per-class logits for a batch, and how to turn them into probabilities.

    Probabilities are computed afterwards in NumPy (``probabilities``): the
    traced pass then holds only what the gradient needs.

    Attributes:
        logits: ``(batch, num_classes)``; a single sigmoid unit ``z`` becomes the two
            class logits ``[-z, z]``, since log(p0 / (1 - p0)) = -z.
        rule: what the output's own activation does to the logits, so the
            probabilities shown are the model's: ``"softmax"``; ``"sigmoid"``
            (each unit on its own: multi-label, or ``[1-p, p]`` for one unit);
            ``"none"`` (a linear output, e.g. a regression, or a spatial output:
            the raw values are shown as they are).
        score_kind: ``"logit"``; ``"channel mean"`` for a spatial output; or
            ``"output"`` where the output's squashing function is unknown; the raw
            output is then differentiated and treated as logits.
    """

    logits: tf.Tensor
    rule: str
    score_kind: str

    def target_score(self, target):
        """(top class, chosen class, its logit) for the first image.

        ``target < 0`` means the top class. The top class is computed once here
        and returned, so the predicted class and the automatic target are the
        same number, never two argmaxes of different arrays.
        """
        first = self.logits[0]
        top = tf.argmax(first, output_type=tf.int32)
        chosen = tf.where(target < 0, top, target)
        # A one-hot product differentiates to a multiply; a gather would need a
        # scatter in the backward pass.
        return top, chosen, tf.reduce_sum(first * tf.one_hot(chosen, first.shape[-1]))


def rule_for(squashing: str) -> str:
    """The probability rule of an output whose activation is ``squashing``."""
    return squashing if squashing in SQUASHING else "none"


def probabilities(logits: np.ndarray, rule: str) -> np.ndarray:
    """What the model outputs, ``(..., num_classes)`` float32, from class logits.

    ``softmax``: softmax of the logits; ``sigmoid``: each logit's sigmoid (for one
    unit's ``[-z, z]`` that is ``[1-p, p]``); ``none``: the logits unchanged.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if rule == "sigmoid":
        # sigmoid(z) = (1 + tanh(z / 2)) / 2, without exp's overflow for large |z|.
        return (0.5 * (1.0 + np.tanh(0.5 * logits))).astype(np.float32)
    if rule == "none":
        return logits.astype(np.float32)
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (shifted / shifted.sum(axis=-1, keepdims=True)).astype(np.float32)


def _activation_name(layer) -> str:
    function = getattr(layer, "activation", None)
    return getattr(function, "__name__", "linear") if function is not None else "linear"


def _pre_activation(layer, args: tuple, kwargs: dict):
    """Call ``layer`` again with its activation switched off.

    This runs while the inspection pass is being traced, so the switch lasts only
    for the tracing of this one call and the traced graph keeps both versions.
    """
    original = layer.activation
    layer.activation = keras.activations.linear
    try:
        return layer(*args, **kwargs)
    finally:
        layer.activation = original


def _logits_of(output, recorder: StepRecorder) -> tuple[tf.Tensor, str]:
    """Returns (logits, squashing) where squashing is softmax, sigmoid or linear."""
    step = recorder.producer_of(output)
    if step is None:
        return output, "linear"
    layer = step.layer
    if isinstance(layer, keras.layers.Softmax):
        return step.call_args[0], "softmax"
    squashing = _activation_name(layer)
    if isinstance(layer, keras.layers.Activation):
        if squashing in SQUASHING:
            return step.call_args[0], squashing
        return output, squashing
    if squashing in SQUASHING:
        return _pre_activation(layer, step.call_args, step.call_kwargs), squashing
    return output, squashing


def class_head(output, recorder: StepRecorder) -> ClassHead:
    """Class logits for ``output``, a ``(batch, units)`` tensor.

    An output that is still spatial, ``(batch, H, W, C)`` as from a headless
    backbone, is scored per channel by its spatial mean, and says so.
    """
    if len(output.shape) > 2:
        means = tf.reduce_mean(
            tf.cast(output, tf.float32), axis=list(range(1, len(output.shape) - 1))
        )
        return ClassHead(means, "none", "channel mean")
    logits, squashing = _logits_of(output, recorder)
    logits = tf.cast(logits, tf.float32)
    score_kind = "logit" if squashing in (*SQUASHING, "linear") else "output"
    if output.shape[-1] == 1 and squashing == "sigmoid":
        # One sigmoid unit is a binary classifier whose logit is that unit.
        return ClassHead(logits * tf.constant([[-1.0, 1.0]]), "sigmoid", score_kind)
    return ClassHead(logits, rule_for(squashing), score_kind)


def static_rule(output) -> tuple[str, int]:
    """``(rule, num_classes)`` of a symbolic model output, known before any trace.

    Follows the output to the layer that made it (into nested models) and reads
    that layer's activation, as ``class_head`` does on the traced pass.
    """
    layer = output._keras_history.operation
    while hasattr(layer, "_nodes_by_depth") or hasattr(layer, "_functional"):
        inner = getattr(layer, "_functional", None) or layer
        layer = keras.tree.flatten(inner.outputs)[0]._keras_history.operation
    units = int(output.shape[-1]) if output.shape[-1] is not None else 0
    if len(output.shape) > 2:
        return "none", units
    softmax_layer = isinstance(layer, keras.layers.Softmax)
    rule = rule_for("softmax" if softmax_layer else _activation_name(layer))
    return rule, 2 if units == 1 and rule == "sigmoid" else units


class Logits(keras.layers.Layer):
    """Stands for the class logits in the layer list; it is never called."""


def logits_step(steps: list[Step], head: ClassHead) -> Step:
    """A record for the class logits, so the backprop view starts at the score.

    The output layer's own record holds probabilities, which the logit score does
    not depend on; this extra record holds the logits, whose gradient is one-hot.
    """
    last = steps[-1]
    return Step(f"{last.name}.logits", Logits(name="logits"), head.logits, (last.name,))
