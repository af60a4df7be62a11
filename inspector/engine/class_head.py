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
    """Per-class logits for a batch, and how to turn them into what is shown.

    Probabilities are computed afterwards in NumPy (``probabilities``): the
    traced pass then holds only what the gradient needs.

    Attributes:
        logits: ``(batch, num_classes)``; a single sigmoid unit ``z`` becomes the two
            class logits ``[-z, z]``, since log(p0 / (1 - p0)) = -z. For a spatial
            output, each class's pre-activation averaged over the positions.
        rule: how the shown values read: ``"softmax"`` / ``"sigmoid"``
            (probabilities; for one unit ``[1-p, p]``), or ``"none"`` (raw values:
            a regression, or a spatial linear output).
        score_kind: what the differentiated score is, in words: ``"logit"``;
            ``"value"`` (a linear output's unit); ``"mean logit over positions"``
            (a per-position softmax or sigmoid); ``"channel mean"`` (a spatial
            linear output); ``"output"`` (the squashing is unknown: the raw output
            is differentiated).
        source: the record name of the layer that made the chosen output.
        shown: ``(batch, num_classes)`` the values to show when they are not a
            function of ``logits`` (a per-position softmax: each class's
            probability averaged over the positions), else None.
    """

    logits: tf.Tensor
    rule: str
    score_kind: str
    source: str = "output"
    shown: tf.Tensor | None = None

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


SCORE_WORDS = {
    "logit": "the class's logit (before its softmax or sigmoid)",
    "value": "the unit's raw value (a linear output: values, not classes)",
    "mean logit over positions": "the class's logit averaged over every position "
    "(a per-position softmax or sigmoid; shown: its probabilities averaged)",
    "channel mean": "the channel's mean over every position (a spatial linear output)",
    "output": "the raw output (its squashing function is unknown)",
}


def describe_score(score_kind: str) -> str:
    """What a ``score_kind`` means, in words (the CLI, the report and the app say it)."""
    return SCORE_WORDS.get(score_kind, score_kind)


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
    """Class logits for ``output``, a ``(batch, units)`` or spatial ``(batch, ..., C)``
    tensor.

    A spatial output is scored per channel by the spatial mean of its
    pre-activation: for a per-position softmax (a fully convolutional detector)
    the logits behind the softmax, as gradients should differentiate logits, with
    the model's own probabilities averaged over the positions shown; for a
    linear one (a headless backbone, a box map) the values themselves.
    """
    producer = recorder.producer_of(output)
    source = producer.name if producer is not None else "output"
    logits, squashing = _logits_of(output, recorder)
    logits = tf.cast(logits, tf.float32)
    if len(output.shape) > 2:
        axes = list(range(1, len(output.shape) - 1))
        means = tf.reduce_mean(logits, axis=axes)
        if squashing in SQUASHING:
            shown = tf.reduce_mean(tf.cast(output, tf.float32), axis=axes)
            return ClassHead(means, squashing, "mean logit over positions", source, shown)
        return ClassHead(means, "none", "channel mean", source)
    if squashing in SQUASHING:
        score_kind = "logit"
    elif squashing == "linear":
        score_kind = "value"
    else:
        score_kind = "output"
    if output.shape[-1] == 1 and squashing == "sigmoid":
        # One sigmoid unit is a binary classifier whose logit is that unit.
        return ClassHead(logits * tf.constant([[-1.0, 1.0]]), "sigmoid", score_kind, source)
    return ClassHead(logits, rule_for(squashing), score_kind, source)


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
    softmax_layer = isinstance(layer, keras.layers.Softmax)
    rule = rule_for("softmax" if softmax_layer else _activation_name(layer))
    if len(output.shape) > 2:  # per position: shown as averaged probabilities, or raw
        return rule, units
    return rule, 2 if units == 1 and rule == "sigmoid" else units


class Logits(keras.layers.Layer):
    """Stands for the class logits in the layer list; it is never called."""


def logits_step(head: ClassHead) -> Step:
    """A record for the class logits, so the backprop view starts at the score.

    Named after the layer of the CHOSEN output (``box_head.logits`` would be
    wrong for ``--output face_prob``). The output layer's own record holds
    probabilities, which the logit score does not depend on; this extra record
    holds the logits, whose gradient is one-hot.
    """
    return Step(f"{head.source}.logits", Logits(name="logits"), head.logits, (head.source,))
