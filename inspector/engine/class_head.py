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
        rule: ``"binary"`` (one sigmoid unit: ``[1-p, p]`` with ``p = sigmoid(z)``)
            or ``"softmax"``.
        score_kind: ``"logit"``; ``"channel mean"`` for a spatial output; or
            ``"output"`` where the output's squashing function is unknown; the raw
            output is then differentiated and treated as logits.
    """

    logits: tf.Tensor
    rule: str
    score_kind: str

    def target_score(self, target):
        """(chosen class, its logit) for the first image; ``target < 0`` means the top."""
        first = self.logits[0]
        chosen = tf.where(target < 0, tf.argmax(first, output_type=tf.int32), target)
        # A one-hot product differentiates to a multiply; a gather would need a
        # scatter in the backward pass.
        return chosen, tf.reduce_sum(first * tf.one_hot(chosen, first.shape[-1]))


def probabilities(logits: np.ndarray, rule: str) -> np.ndarray:
    """Class probabilities ``(..., num_classes)`` from class logits, in float32."""
    logits = np.asarray(logits, dtype=np.float64)
    if rule == "binary":
        p = 1.0 / (1.0 + np.exp(-logits[..., 1]))
        return np.stack([1.0 - p, p], axis=-1).astype(np.float32)
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
        return ClassHead(means, "softmax", "channel mean")
    logits, squashing = _logits_of(output, recorder)
    logits = tf.cast(logits, tf.float32)
    score_kind = "logit" if squashing in (*SQUASHING, "linear") else "output"
    if output.shape[-1] == 1:
        # One unit is a binary classifier whose logit is that unit.
        return ClassHead(logits * tf.constant([[-1.0, 1.0]]), "binary", score_kind)
    return ClassHead(logits, "softmax", score_kind)


class Logits(keras.layers.Layer):
    """Stands for the class logits in the layer list; it is never called."""


def logits_step(steps: list[Step], head: ClassHead) -> Step:
    """A record for the class logits, so the backprop view starts at the score.

    The output layer's own record holds probabilities, which the logit score does
    not depend on; this extra record holds the logits, whose gradient is one-hot.
    """
    last = steps[-1]
    return Step(f"{last.name}.logits", Logits(name="logits"), head.logits, (last.name,))
