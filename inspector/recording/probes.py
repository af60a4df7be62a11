"""The compiled measurements behind ``TrainingRecorder``.

Each measurement is one ``tf.function`` traced once per fit, so recording costs
one call (and one device-to-host copy) per recorded step, not one per layer.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from inspector.engine.errors import UnsupportedModelError
from inspector.engine.graph_walk import StepRecorder, graph_of, run_model


def has_kernel(layer: keras.layers.Layer) -> bool:
    """Conv and dense layers (and their depthwise/separable kin) have a kernel."""
    return any("kernel" in weight.name for weight in layer.trainable_weights)


def weight_keys(name: str, layer: keras.layers.Layer) -> list[str]:
    """``layer/variable`` keys for a layer's trainable weights, made unique."""
    keys: list[str] = []
    for weight in layer.trainable_weights:
        key = f"{name}/{weight.name}"
        while key in keys:
            key += "_"
        keys.append(key)
    return keys


def _flatten(tensors) -> tf.Tensor:
    """All ``tensors`` as one float32 vector (one concat beats a norm per variable)."""
    return tf.concat([tf.reshape(tf.cast(t, tf.float32), [-1]) for t in tensors], axis=0)


class LayerMeasurer:
    """||W||, ||dW||, and ||dJ/dW|| on a fixed probe batch, for every weighted layer.

    Args:
        model: the compiled model being trained.
        layers: ``(name, layer)`` pairs from ``weighted_layers``.
        probe_x: float32 ``(P, ...)`` probe inputs, or None.
        probe_y: their targets in the form the compiled loss takes, or None; without
            them no gradient is measured and ``grad_norm`` is NaN.
    """

    def __init__(self, model, layers, probe_x=None, probe_y=None, *, with_gradients=False):
        self.model = model
        self.layers = layers
        self.variables = [list(layer.trainable_weights) for _, layer in layers]
        self._flat = [v for group in self.variables for v in group]
        # Which layer each element of the flattened weights belongs to.
        self._segments = tf.constant(
            np.concatenate(
                [
                    np.full(int(np.prod(v.shape)), i, np.int32)
                    for i, g in enumerate(self.variables)
                    for v in g
                ]
                or [np.zeros(0, np.int32)]  # a model without trainable weights
            )
        )
        self._probe = None
        if probe_x is not None and probe_y is not None:
            self._probe = (tf.constant(probe_x, tf.float32), tf.constant(probe_y))
        self._return_gradients = with_gradients
        self._measure = tf.function(self._measure_graph, autograph=False, reduce_retracing=True)

    @property
    def measures_gradients(self) -> bool:
        return self._probe is not None

    def copy_weights(self) -> tf.Tensor:
        """A flat copy of every weight, kept on its device, to diff after the update."""
        return _flatten(self._flat)

    def _loss_gradients(self):
        x, y = self._probe
        with tf.GradientTape() as tape:
            # Inference mode: dropout off, and BatchNorm must not move its
            # statistics because of our extra forward pass.
            y_pred = self.model(x, training=False)
            loss = self.model.compute_loss(x=x, y=y, y_pred=y_pred, training=False)
            # Under tf.distribute, Keras divides losses by the replica count for
            # summing across replicas; we are one global batch, so undo it.
            loss = loss * tf.distribute.get_strategy().num_replicas_in_sync
        gradients = tape.gradient(loss, self._flat)
        pairs = zip(self._flat, gradients, strict=True)
        return [tf.zeros_like(v) if g is None else g for v, g in pairs]

    def _measure_graph(self, before):
        gradients = self._loss_gradients() if self._probe is not None else None
        now = _flatten(self._flat)
        count = len(self.variables)

        def per_layer_norms(vector):
            return tf.sqrt(tf.math.unsorted_segment_sum(tf.square(vector), self._segments, count))

        nan = tf.fill([count], tf.constant(np.nan, tf.float32))
        grad_norm = per_layer_norms(_flatten(gradients)) if gradients else nan
        table = tf.stack([per_layer_norms(now), per_layer_norms(now - before), grad_norm], axis=1)
        if self._return_gradients and gradients is not None:
            return table, gradients
        return table, []

    def measure(self, before: tf.Tensor) -> tuple[np.ndarray, list[np.ndarray]]:
        """Norms after an update, given the weights from before it.

        Returns:
            ``(table, gradients)``: float64 ``(layers, 3)`` holding weight norm,
            update norm and gradient norm per layer; and the probe-batch gradient of
            every weight (NumPy) when built ``with_gradients``, else ``[]``.
        """
        table, gradients = self._measure(before)
        return np.asarray(table, np.float64), [np.asarray(g) for g in gradients]

    def flat_weights(self) -> list[tf.Variable]:
        return self._flat

    def restore_loss_metrics(self):
        """Snapshot the compiled loss's own trackers (multi-output models update them)."""
        trackers = getattr(getattr(self.model, "_compile_loss", None), "metrics", None) or []
        saved = [(v, v.numpy()) for metric in trackers for v in metric.variables]

        def restore() -> None:
            for variable, value in saved:
                variable.assign(value)

        return restore


class ActivationProbe:
    """Outputs of chosen layers for fixed probe images, from one compiled pass.

    Uses the engine's graph walk, so nested models work and names match the
    inspector's (``outer/inner``).

    Raises:
        UnsupportedModelError: for subclassed models, whose graph cannot be walked.
    """

    def __init__(self, model, layer_names, probe_x) -> None:
        graph_of(model)  # raises for subclassed models
        self.model = model
        self.wanted = tuple(layer_names)
        self._x = tf.constant(probe_x, tf.float32)
        self.names: tuple[str, ...] = ()
        self._run = tf.function(self._pass, autograph=False)

    def _pass(self, x):
        recorder = StepRecorder()
        recorder.mark_input(x)
        run_model(self.model, x, recorder)
        chosen = [s for s in recorder.steps if s.name in self.wanted]
        self.names = tuple(s.name for s in chosen)
        return [s.output for s in chosen]

    def activations(self) -> dict[str, np.ndarray]:
        """``{layer: float32 (P, ...)}`` for the probe images at the current weights."""
        outputs = self._run(self._x)
        return {name: np.asarray(out) for name, out in zip(self.names, outputs, strict=True)}


def activation_probe_or_none(model, layer_names, probe_x):
    """An ``ActivationProbe``, or None (with the reason) when the model cannot be walked."""
    if probe_x is None:
        return None, "no probe images were given"
    try:
        return ActivationProbe(model, layer_names, probe_x), ""
    except UnsupportedModelError as error:
        return None, str(error)
