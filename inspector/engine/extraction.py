"""The inspector: every layer's activation and gradient from one compiled pass."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from inspector.engine.class_head import class_head, logits_step
from inspector.engine.class_head import probabilities as class_probabilities
from inspector.engine.errors import TargetError, UnsupportedModelError
from inspector.engine.graph_walk import StepRecorder, graph_of, run_model
from inspector.engine.image_loading import PreparedImage, display_from_array
from inspector.engine.inspection import Inspection, LayerRecord, read_only
from inspector.engine.receptive_field import receptive_fields


@dataclass(frozen=True)
class _LayerLayout:
    """What the traced pass learned about the graph, fixed for every call."""

    names: tuple[str, ...]
    class_names: tuple[str, ...]
    inputs: tuple[tuple[str, ...], ...]
    layers: tuple
    reaches_target: tuple[bool, ...]
    score_kind: str
    probability_rule: str
    param_counts: tuple[int, ...]


@dataclass(frozen=True)
class _StaticFacts:
    """Per-layer facts that depend only on the layout and the input size."""

    output_shapes: tuple[tuple[int, ...], ...]
    fields: tuple


class Inspector:
    """Extracts activations and gradients from any Functional or Sequential model.

    The extraction graph is traced once per model output (and input shape) and
    reused, so repeated calls cost one forward and one backward pass each.

    Args:
        model: a built Keras 3 model with one image input ``(batch, H, W, C)``.
        labels: class names for the chosen output; defaults to ``model.class_names``
            (set by ``load_model`` when the file carries them), else ``class 0..n``.
    """

    def __init__(self, model: keras.Model, labels: tuple[str, ...] | None = None) -> None:
        graph = graph_of(model)
        if len(graph.inputs) != 1 or len(graph.inputs[0].shape) != 4:
            shapes = [tuple(t.shape) for t in graph.inputs]
            raise UnsupportedModelError(
                "Expected a model with one image input of shape (batch, H, W, C). "
                f"Received: inputs with shapes {shapes}."
            )
        self.model = model
        self._graph = graph
        self._labels = tuple(labels) if labels else getattr(model, "class_names", None)
        self._passes: dict[int, tf.types.experimental.GenericFunction] = {}
        self._gradient_fns: dict[int, tf.types.experimental.GenericFunction] = {}
        self._predict_fns: dict[int, tf.types.experimental.GenericFunction] = {}
        self._layouts: dict[int, _LayerLayout] = {}
        self._static_facts: dict[tuple, _StaticFacts] = {}
        self._concrete: dict[int, tf.types.experimental.ConcreteFunction] = {}

    # --- model facts -------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int | None, int | None, int]:
        """``(H, W, C)`` of the model input; H and W are None when free."""
        return tuple(self._graph.inputs[0].shape[1:])

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(t._keras_history.operation.name for t in self._graph.outputs)

    def output_index(self, output: int | str | None) -> int:
        """Index of ``output`` (an index or an output layer name; None means 0)."""
        names = self.output_names
        if output is None:
            return 0
        if isinstance(output, str) and output in names:
            return names.index(output)
        if isinstance(output, int) and 0 <= output < len(names):
            return output
        raise TargetError(
            f"Expected an output index 0..{len(names) - 1} or one of {list(names)}. "
            f"Received: output={output!r}."
        )

    def _probability_rule(self, index: int) -> str:
        """How class_head turns this output's logits into probabilities."""
        shape = self._graph.outputs[index].shape
        return "binary" if len(shape) == 2 and shape[-1] == 1 else "softmax"

    def num_classes(self, output: int | str | None = None) -> int:
        """Classes of an output; one sigmoid unit counts as two classes."""
        units = self._graph.outputs[self.output_index(output)].shape[-1]
        return 2 if units == 1 else int(units)

    def labels_for(self, num_classes: int) -> tuple[str, ...]:
        if self._labels and len(self._labels) == num_classes:
            return tuple(self._labels)
        return tuple(f"class {i}" for i in range(num_classes))

    # --- the traced passes -------------------------------------------------------
    def _signature(self, batch: int | None, scalar_target: bool = False) -> list:
        image = tf.TensorSpec((batch, *self.input_shape), tf.float32)
        return [image, tf.TensorSpec((), tf.int32)] if scalar_target else [image]

    def _run_head(self, x, output_index: int):
        recorder = StepRecorder()
        recorder.mark_input(x)
        outputs = keras.tree.flatten(run_model(self.model, x, recorder))
        return recorder, class_head(outputs[output_index], recorder)

    def _full_pass(self, output_index: int):
        if output_index in self._passes:
            return self._passes[output_index]

        # A fixed signature (batch of one, the model's own H, W, C) means one trace
        # and no per-call signature matching.
        @tf.function(input_signature=self._signature(1, scalar_target=True), autograph=False)
        def full_pass(x, target):
            with tf.GradientTape() as tape:
                tape.watch(x)
                recorder, head = self._run_head(x, output_index)
                chosen, score = head.target_score(target)
            steps = [s for s in recorder.steps if _is_float_tensor(s.output)]
            steps.append(logits_step(steps, head))
            activations = [s.output for s in steps]
            gradients = tape.gradient(score, [x, *activations])
            self._layouts[output_index] = _LayerLayout(
                names=tuple(s.name for s in steps),
                class_names=tuple(type(s.layer).__name__ for s in steps),
                inputs=tuple(s.inputs for s in steps),
                layers=tuple(s.layer for s in steps),
                reaches_target=tuple(g is not None for g in gradients[1:]),
                score_kind=head.score_kind,
                probability_rule=head.rule,
                param_counts=tuple(_param_count(s.layer) for s in steps),
            )
            # Layers the score does not depend on get None here and zeros in
            # NumPy later: zeros made inside the graph would cost a kernel each.
            return activations, gradients, head.logits[0], chosen, score

        self._passes[output_index] = full_pass
        return full_pass

    def _traced_pass(self, output_index: int):
        """The one concrete graph of ``_full_pass``; calling it skips tf.function's
        per-call dispatch (signature matching), which costs as much as a small
        model's whole forward pass."""
        if output_index not in self._concrete:
            self._concrete[output_index] = self._full_pass(output_index).get_concrete_function()
        return self._concrete[output_index]

    # --- public API --------------------------------------------------------------
    def inspect(
        self,
        image: np.ndarray | PreparedImage,
        target: int | None = None,
        output: int | str | None = None,
    ) -> Inspection:
        """Run one forward+backward pass and return every layer's activation and gradient.

        Args:
            image: float32 ``(H, W, C)`` in the model's value scale, or the
                ``PreparedImage`` that ``load_image`` returns.
            target: class whose logit is differentiated; None means the top class.
            output: which model output (index or name) for multi-output models.

        Returns:
            An immutable ``Inspection``.
        """
        prepared = image if isinstance(image, PreparedImage) else None
        pixels = prepared.pixels if prepared else np.asarray(image, dtype=np.float32)
        self._check_image(pixels)
        index = self.output_index(output)
        self._check_target(target, self.num_classes(index))
        target_value = -1 if target is None else int(target)
        started = time.perf_counter()
        activations, gradients, logits, chosen, score = self._traced_pass(index)(
            tf.constant(pixels[None]), tf.constant(target_value, tf.int32)
        )
        passed = time.perf_counter()
        layout = self._layouts[index]
        probabilities = class_probabilities(np.asarray(logits), layout.probability_rule)
        records = self._records(layout, activations, gradients[1:], pixels.shape[:2])
        timings = {"pass": passed - started, "to_numpy": time.perf_counter() - passed}
        return Inspection(
            image=read_only(pixels),
            display_image=prepared.display if prepared else display_from_array(pixels),
            preprocessing=prepared.steps if prepared else ("array given as is",),
            source=prepared.source if prepared else "array",
            model_name=self.model.name,
            output_index=index,
            output_name=self.output_names[index],
            labels=self.labels_for(probabilities.shape[0]),
            probabilities=read_only(probabilities),
            target=int(chosen),
            score=float(score),
            score_kind=layout.score_kind,
            input_gradient=_gradient_or_zeros(gradients[0], pixels.shape),
            layers=records,
            timings=timings,
        )

    def _facts(self, layout: _LayerLayout, activations, input_hw) -> _StaticFacts:
        key = (layout.names, tuple(input_hw))
        if key not in self._static_facts:
            shapes = tuple(tuple(a.shape[1:]) for a in activations)
            fields = receptive_fields(layout.names, layout.layers, layout.inputs, shapes, input_hw)
            self._static_facts[key] = _StaticFacts(
                shapes, tuple(fields[name] for name in layout.names)
            )
        return self._static_facts[key]

    def _records(self, layout: _LayerLayout, activations, gradients, input_hw) -> tuple:
        facts = self._facts(layout, activations, input_hw)
        # np.asarray shares the tensor's buffer; Tensor.numpy() would copy it.
        return tuple(
            LayerRecord(
                name=name,
                class_name=layout.class_names[i],
                output_shape=facts.output_shapes[i],
                activation=read_only(np.asarray(activations[i])[0]),
                gradient=_gradient_or_zeros(gradients[i], facts.output_shapes[i]),
                inputs=layout.inputs[i],
                param_count=layout.param_counts[i],
                receptive_field=facts.fields[i][0],
                receptive_field_note=facts.fields[i][1],
                reaches_target=layout.reaches_target[i],
            )
            for i, name in enumerate(layout.names)
        )

    def _check_image(self, pixels: np.ndarray) -> None:
        expected = self.input_shape
        ok = pixels.ndim == 3 and all(
            e is None or e == r for e, r in zip(expected, pixels.shape, strict=True)
        )
        if not ok:
            raise TargetError(
                f"Expected an image array of shape (H, W, C) = {expected}. "
                f"Received: shape={pixels.shape}. load_image() resizes images to fit."
            )

    @staticmethod
    def _check_target(target: int | None, num_classes: int) -> None:
        if target is not None and not 0 <= target < num_classes:
            raise TargetError(
                f"Expected a target class 0..{num_classes - 1}. Received: target={target}."
            )

    # --- batched helpers for attribution methods ---------------------------------
    def input_gradients(
        self, batch: np.ndarray, target: int, output: int | str | None = None
    ) -> np.ndarray:
        """d(logit[target])/d(input) for each image of ``batch`` ``(N, H, W, C)``."""
        index = self.output_index(output)
        if index not in self._gradient_fns:

            @tf.function(input_signature=self._signature(None, scalar_target=True), autograph=False)
            def gradient_fn(x, target):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    _, head = self._run_head(x, index)
                    # Samples are independent at inference, so the gradient of the
                    # sum is each sample's own gradient.
                    score = tf.reduce_sum(tf.gather(head.logits, target, axis=1))
                return tape.gradient(score, x)

            self._gradient_fns[index] = gradient_fn
        grads = self._gradient_fns[index](
            tf.constant(batch, tf.float32), tf.constant(target, tf.int32)
        )
        return np.asarray(grads)

    def predict(self, batch: np.ndarray, output: int | str | None = None) -> tuple:
        """(logits, probabilities), each ``(N, num_classes)``, for ``batch``."""
        index = self.output_index(output)
        if index not in self._predict_fns:

            @tf.function(input_signature=self._signature(None), autograph=False)
            def predict_fn(x):
                _, head = self._run_head(x, index)
                return head.logits

            self._predict_fns[index] = predict_fn
        logits = np.asarray(self._predict_fns[index](tf.constant(batch, tf.float32)))
        return logits, class_probabilities(logits, self._probability_rule(index))


def _gradient_or_zeros(gradient, shape: tuple[int, ...]) -> np.ndarray:
    if gradient is None:
        return _read_only_zeros(shape)
    return read_only(np.asarray(gradient)[0])


@functools.cache
def _read_only_zeros(shape: tuple[int, ...]) -> np.ndarray:
    # One shared zero array per shape: read-only, so sharing it is safe.
    return read_only(np.zeros(shape, np.float32))


def _is_float_tensor(value) -> bool:
    return isinstance(value, tf.Tensor) and value.dtype.is_floating


def _param_count(layer) -> int:
    return int(sum(np.prod(w.shape) for w in layer.weights))
