"""The inspector: every layer's activation and gradient from one compiled pass."""

from __future__ import annotations

import copy
import functools
import time
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from inspector.engine.class_head import class_head, logits_step, static_rule
from inspector.engine.class_head import probabilities as class_probabilities
from inspector.engine.errors import TargetError
from inspector.engine.graph_walk import StepRecorder, graph_of, is_graph_model, run_model
from inspector.engine.image_loading import PreparedImage, display_from_array
from inspector.engine.inspection import Inspection, LayerRecord, read_only
from inspector.engine.labels import IMAGENET_CLASSES, checked_labels, imagenet_labels
from inspector.engine.model_inputs import plan_inputs
from inspector.engine.preprocessing import family_of
from inspector.engine.receptive_field import receptive_fields
from inspector.engine.relu_backward import relu_rule_caller


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
    shown_directly: bool  # the values shown come from the pass, not from the logits
    num_classes: int
    param_counts: tuple[int, ...]


@dataclass(frozen=True)
class OutputDescription:
    """One model output, as a picker lists it.

    Attributes:
        index: its position among the model's outputs; ``name``: its layer's name.
        shape: without the batch axis, e.g. ``(4,)`` or ``(12, 12, 2)``.
        rule: ``"softmax"``, ``"sigmoid"`` or ``"none"`` (``class_head``).
        classes: how many scores it offers as targets.
        kind: what it is, in words: ``"class probabilities (softmax)"``,
            ``"values (linear: not classes)"``, ``"per-position probabilities
            (softmax at each of 12x12 positions)"``...
    """

    index: int
    name: str
    shape: tuple
    rule: str
    classes: int
    kind: str

    @property
    def scores_classes(self) -> bool:
        """True for class scores (a softmax or sigmoid), False for raw values."""
        return self.rule != "none"


def _output_kind(shape: tuple, rule: str, classes: int) -> str:
    if len(shape) > 1:
        where = "x".join(str(d) for d in shape[:-1])
        if rule == "none":
            return f"a spatial map (linear, {where} positions; scored by each channel's mean)"
        return f"per-position probabilities ({rule} at each of {where} positions)"
    if rule == "softmax":
        return "class probabilities (softmax)"
    if rule == "sigmoid":
        return "a probability (sigmoid)" if shape[-1] == 1 else "probabilities (sigmoid each)"
    return "a value (linear)" if classes == 1 else "values (linear: not classes)"


@dataclass(frozen=True)
class _StaticFacts:
    """Per-layer facts that depend only on the layout and the input size."""

    output_shapes: tuple[tuple[int, ...], ...]
    fields: tuple


class Inspector:
    """Extracts activations and gradients from any Keras 3 model.

    Functional and Sequential models are walked layer by layer; a subclassed
    model runs its own ``call`` with every leaf layer's output recorded. The
    extraction graph is traced once per model output (and input shape) and
    reused, so repeated calls cost one forward and one backward pass each.
    Arrays come back float32 even from a mixed-precision (float16) model.

    Args:
        model: a built Keras 3 model with an image input ``(batch, H, W, C)``.
        labels: class names for the chosen output; defaults to ``model.class_names``
            (set by ``load_model`` when the file carries them), the 1000 ImageNet
            names for a 1000-class ``keras.applications`` model, else ``class 0..n``.
        image_input: which input is the image (name or index) for a multi-input
            model; None picks the only ``(batch, H, W, C)`` input.
        other_inputs: fixed arrays (without batch axis) for the other inputs,
            keyed by input name; inputs not given are fed zeros.
    """

    def __init__(
        self,
        model: keras.Model,
        labels: tuple[str, ...] | None = None,
        *,
        image_input: int | str | None = None,
        other_inputs: dict[str, np.ndarray] | None = None,
    ) -> None:
        self.model = model
        self._graph = graph_of(model) if is_graph_model(model) else None
        self._plan = plan_inputs(model, image_input, other_inputs)
        self._labels = tuple(labels) if labels else getattr(model, "class_names", None)
        self._imagenet = self._graph is not None and family_of(model) is not None
        self._passes: dict[int, tf.types.experimental.GenericFunction] = {}
        self._gradient_fns: dict[tuple, tf.types.experimental.GenericFunction] = {}
        self._predict_fns: dict[int, tf.types.experimental.GenericFunction] = {}
        self._layouts: dict[int, _LayerLayout] = {}
        self._static_facts: dict[tuple, _StaticFacts] = {}
        self._concrete: dict[int, tf.types.experimental.ConcreteFunction] = {}

    def for_copy(self, model: keras.Model) -> Inspector:
        """An ``Inspector`` of ``model`` (a copy of this one's architecture) with the
        same labels and inputs: the randomisation check's copy is fed and scored as
        the user's model is."""
        others = {
            name: fixed
            for name, fixed in zip(self._plan.names, self._plan.others, strict=True)
            if fixed is not None
        }
        return Inspector(
            model, self._labels, image_input=self._plan.image_index, other_inputs=others
        )

    def with_labels(self, labels: tuple[str, ...], output: int | str | None = None) -> Inspector:
        """This inspector naming ``output``'s classes ``labels``: the one way a user's
        class names reach a result (the command line's ``--labels``, the app's *Load
        labels*). It shares this inspector's traced passes, so nothing is retraced.

        Raises:
            LabelsError: not one name per class of ``output``.
        """
        index = self.output_index(output)
        labels = checked_labels(labels, self.num_classes(index), self.output_names[index])
        named = copy.copy(self)  # the caches of traced passes are shared on purpose
        named._labels = labels
        return named

    # --- model facts -------------------------------------------------------------
    @property
    def input_shape(self) -> tuple[int | None, int | None, int]:
        """``(H, W, C)`` of the image input; H and W are None when free."""
        return tuple(self._plan.image_shape)

    @property
    def inputs_note(self) -> str:
        """Which input is the image and what the others get ("" for one input)."""
        return self._plan.note

    @property
    def output_names(self) -> tuple[str, ...]:
        if self._graph is None:
            return ("output",)
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

    def _head_facts(self, index: int) -> tuple[str, int]:
        """(probability rule, number of classes) of an output, before inspecting."""
        if self._graph is not None:
            return static_rule(self._graph.outputs[index])
        self._traced_pass(index)  # a subclassed model's output is known by tracing it
        layout = self._layouts[index]
        return layout.probability_rule, layout.num_classes

    def describe_outputs(self) -> tuple[OutputDescription, ...]:
        """Every model output by name, shape and kind: what the app's output picker
        lists, so a detector's face probability is reachable beside its box offsets."""
        shapes = (
            [tuple(t.shape[1:]) for t in self._graph.outputs] if self._graph is not None else [()]
        )
        out = []
        for index, name in enumerate(self.output_names):
            rule, classes = self._head_facts(index)
            shape = shapes[index] if index < len(shapes) else ()
            kind = _output_kind(shape, rule, classes)
            out.append(OutputDescription(index, name, shape, rule, classes, kind))
        return tuple(out)

    def probability_rule(self, output: int | str | None = None) -> str:
        """``"softmax"``, ``"sigmoid"`` or ``"none"``: what the output's activation does."""
        return self._head_facts(self.output_index(output))[0]

    def num_classes(self, output: int | str | None = None) -> int:
        """Classes of an output; one sigmoid unit counts as two classes."""
        return self._head_facts(self.output_index(output))[1]

    def labels_for(self, num_classes: int, rule: str = "softmax") -> tuple[str, ...]:
        """Names of an output's scores: the given or stored class names, ImageNet's,
        else ``class 0..n`` (``unit 0..n`` for a linear output: values, not classes)."""
        if self._labels and len(self._labels) == num_classes:
            return tuple(self._labels)
        if self._imagenet and num_classes == IMAGENET_CLASSES:
            return imagenet_labels()
        word = "unit" if rule == "none" else "class"
        return tuple(f"{word} {i}" for i in range(num_classes))

    # --- the traced passes -------------------------------------------------------
    def _signature(self, batch: int | None, scalar_target: bool = False) -> list:
        image = tf.TensorSpec((batch, *self.input_shape), tf.float32)
        return [image, tf.TensorSpec((), tf.int32)] if scalar_target else [image]

    def _run_head(self, x, output_index: int, call_layer=None):
        recorder = StepRecorder()
        recorder.mark_input(x)
        outputs = run_model(self.model, self._plan.feed(x), recorder, call_layer=call_layer)
        return recorder, class_head(keras.tree.flatten(outputs)[output_index], recorder)

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
                top, chosen, score = head.target_score(target)
            steps = [s for s in recorder.steps if _is_float_tensor(s.output)]
            steps.append(logits_step(head))
            activations = [s.output for s in steps]
            gradients = tape.gradient(score, [x, *activations])
            # A mixed-precision model computes in float16; what we return is float32.
            activations = [tf.cast(a, tf.float32) for a in activations]
            gradients = [None if g is None else tf.cast(g, tf.float32) for g in gradients]
            self._layouts[output_index] = _LayerLayout(
                names=tuple(s.name for s in steps),
                class_names=tuple(type(s.layer).__name__ for s in steps),
                inputs=tuple(s.inputs for s in steps),
                layers=tuple(s.layer for s in steps),
                reaches_target=tuple(g is not None for g in gradients[1:]),
                score_kind=head.score_kind,
                probability_rule=head.rule,
                shown_directly=head.shown is not None,
                num_classes=int(head.logits.shape[-1]),
                param_counts=tuple(_param_count(s.layer) for s in steps),
            )
            # Layers the score does not depend on get None here and zeros in
            # NumPy later: zeros made inside the graph would cost a kernel each.
            shown = head.shown[0] if head.shown is not None else head.logits[0]
            return activations, gradients, head.logits[0], shown, top, chosen, score

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
        activations, gradients, logits, shown, top, chosen, score = self._traced_pass(index)(
            tf.constant(pixels[None]), tf.constant(target_value, tf.int32)
        )
        passed = time.perf_counter()
        layout = self._layouts[index]
        probabilities = self._shown(layout, np.asarray(logits), np.asarray(shown))
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
            labels=self.labels_for(probabilities.shape[0], layout.probability_rule),
            probabilities=read_only(probabilities),
            target=int(chosen),
            score=float(score),
            score_kind=layout.score_kind,
            input_gradient=_gradient_or_zeros(gradients[0], pixels.shape),
            layers=records,
            timings=timings,
            preprocess=prepared.preprocess if prepared else None,
            probability_rule=layout.probability_rule,
            top_class=int(top),
            inputs_note=self._plan.note,
            unknown_below=self._unknown_below(index, layout.probability_rule),
        )

    def _unknown_below(self, index: int, rule: str) -> float | None:
        """The model's calibrated "unknown person" threshold, for its first softmax
        output only: it was calibrated on that output's probabilities."""
        threshold = getattr(self.model, "unknown_below", None)
        if threshold is None or index != 0 or rule != "softmax":
            return None
        return float(threshold)

    @staticmethod
    def _shown(layout: _LayerLayout, logits: np.ndarray, shown: np.ndarray) -> np.ndarray:
        """What the output says: the pass's own averaged probabilities for a
        per-position softmax, else the logits through the output's activation."""
        if layout.shown_directly:
            return shown.astype(np.float32)
        return class_probabilities(logits, layout.probability_rule)

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
        self,
        batch: np.ndarray,
        target: int,
        output: int | str | None = None,
        relu_rule: str | None = None,
    ) -> np.ndarray:
        """d(logit[target])/d(input) for each image of ``batch`` ``(N, H, W, C)``.

        ``relu_rule`` (``"guided"`` or ``"deconvnet"``, see ``relu_backward``)
        replaces every ReLU's backward pass in a function traced for it alone;
        None gives the plain gradient. The model itself is never changed.
        """
        index = self.output_index(output)
        key = (index, relu_rule)
        if key not in self._gradient_fns:
            call_layer = relu_rule_caller(relu_rule) if relu_rule is not None else None

            @tf.function(input_signature=self._signature(None, scalar_target=True), autograph=False)
            def gradient_fn(x, target):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    _, head = self._run_head(x, index, call_layer)
                    # Samples are independent at inference, so the gradient of the
                    # sum is each sample's own gradient.
                    score = tf.reduce_sum(tf.gather(head.logits, target, axis=1))
                return tape.gradient(score, x)

            self._gradient_fns[key] = gradient_fn
        grads = self._gradient_fns[key](
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
                return head.logits, head.logits if head.shown is None else head.shown

            self._predict_fns[index] = predict_fn
        logits, shown = self._predict_fns[index](tf.constant(batch, tf.float32))
        self._traced_pass(index)  # its layout says how the values read
        return np.asarray(logits), self._shown(
            self._layouts[index], np.asarray(logits), np.asarray(shown)
        )


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
    # Raw Keras ops in a Functional graph (``x + y``, ``keras.ops.concatenate``) are
    # Operations, not Layers: they own no weights and have no ``.weights``.
    return int(sum(np.prod(w.shape) for w in getattr(layer, "weights", ())))
