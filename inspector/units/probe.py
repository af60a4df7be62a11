"""The chosen layers of a model, their receptive fields, and one compiled pass over them.

``LayerProbe`` walks the model once with the engine's ``run_model`` (so nested
backbones and reloaded Sequential models work as in the Inspector), keeps the
spatial layers' names, shapes and receptive fields, and builds ONE traced
function that returns the chosen layers' activations for a batch. Mining,
dissection and unit gradients all call through it, so a model is traced once
per use, never per layer or per batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import tensorflow as tf

from inspector.engine.errors import LayerNotFoundError, UnsupportedModelError
from inspector.engine.graph_walk import StepRecorder, run_model
from inspector.engine.inspection import ReceptiveField
from inspector.engine.model_inputs import InputPlan, plan_inputs
from inspector.engine.preprocessing import Preprocessing, decide_preprocessing
from inspector.engine.receptive_field import receptive_fields

_CONV_KINDS = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")


@dataclass(frozen=True)
class ProbedLayer:
    """One chosen layer: its record name, Keras class, ``(H, W, C)`` and receptive field."""

    name: str
    class_name: str
    shape: tuple[int, int, int]
    field: ReceptiveField

    def box(self, row: int, col: int, image_hw: tuple[int, int]) -> tuple[int, int, int, int]:
        """Unit ``(row, col)``'s window as ``(left, top, right, bottom)`` input pixels,
        clipped to the image; right and bottom are exclusive."""
        top, left, bottom, right = self.field.window(row, col)
        height, width = image_hw
        return (
            max(0, round(left)),
            max(0, round(top)),
            min(width, round(right)),
            min(height, round(bottom)),
        )


def _trace_layout(model: keras.Model, plan: InputPlan) -> list:
    """(name, layer, inputs, output shape) of every recorded layer, in execution order."""
    found: list = []

    @tf.function(autograph=False)
    def trace(x):
        recorder = StepRecorder()
        recorder.mark_input(x)
        run_model(model, plan.feed(x), recorder)
        for step in recorder.steps:
            output = step.output
            if isinstance(output, tf.Tensor) and output.dtype.is_floating:
                found.append((step.name, step.layer, step.inputs, tuple(output.shape[1:])))
        return x

    trace.get_concrete_function(tf.TensorSpec((1, *plan.image_shape), tf.float32))
    return found


class LayerProbe:
    """The chosen spatial layers of ``model`` and a compiled pass returning them.

    Args:
        model: a built Functional or Sequential Keras model whose image input has a
            fixed size ``(batch, H, W, C)``.
        layers: record names (``outer/inner`` for nested models), or None for
            every convolution layer with a spatial output.
        preprocess: how raw pixels become the model's input
            (``inspector.engine.preprocessing.decide_preprocessing``; None: decide it
            from the model). Every image mining, dissection and the selectivity
            measures feed goes through it, as ``inspect`` and the app feed theirs.
        image_input, other_inputs: for a multi-input model, which input is the
            image and the fixed arrays the others get (``model_inputs.plan_inputs``).

    Raises:
        LayerNotFoundError: a name the model does not have (the valid ones are listed).
        UnsupportedModelError: no image input of fixed size, or a chosen layer
            without a spatial output or receptive field.
    """

    def __init__(
        self,
        model: keras.Model,
        layers: list[str] | None = None,
        preprocess: Preprocessing | None = None,
        *,
        image_input: int | str | None = None,
        other_inputs: dict | None = None,
    ) -> None:
        self.plan = plan_inputs(model, image_input, other_inputs)
        shape = tuple(self.plan.image_shape)
        if len(shape) != 3 or None in shape:
            raise UnsupportedModelError(
                "Expected a model whose image input has a fixed size (batch, H, W, C). "
                f"Received: image input of shape (batch, {', '.join(map(str, shape))})."
            )
        self.model = model
        self.input_shape: tuple[int, int, int] = tuple(int(v) for v in shape)
        self.preprocess = preprocess or decide_preprocessing(model)
        layout = _trace_layout(model, self.plan)
        names = [entry[0] for entry in layout]
        fields = receptive_fields(
            names,
            [e[1] for e in layout],
            [e[2] for e in layout],
            [e[3] for e in layout],
            self.input_shape[:2],
        )
        spatial = {
            name: ProbedLayer(name, type(layer).__name__, out, fields[name][0])
            for name, layer, _, out in layout
            if len(out) == 3 and fields[name][0] is not None and not fields[name][0].is_global
        }
        self.layers: tuple[ProbedLayer, ...] = self._choose(layers, names, spatial, layout)
        self._forward = None

    def with_layers(self, layers: list[str], model: keras.Model | None = None) -> LayerProbe:
        """A probe of other ``layers`` (of ``model``: a copy of the same architecture),
        fed exactly as this one: the same preprocessing and inputs."""
        plan = self.plan
        others = {
            name: fixed
            for name, fixed in zip(plan.names, plan.others, strict=True)
            if fixed is not None
        }
        return LayerProbe(
            model if model is not None else self.model,
            layers,
            self.preprocess,
            image_input=plan.image_index,
            other_inputs=others,
        )

    @staticmethod
    def _choose(wanted, names, spatial, layout) -> tuple[ProbedLayer, ...]:
        if wanted is None:
            chosen = [spatial[n] for n, layer, _, _ in layout if n in spatial and _is_conv(layer)]
            if not chosen:
                raise UnsupportedModelError(
                    "Expected a model with at least one convolution layer with a spatial "
                    "output. Received: none."
                )
            return tuple(chosen)
        unknown = [n for n in wanted if n not in names]
        if unknown:
            raise LayerNotFoundError(
                f"Expected layer names among: {', '.join(spatial)}. Received: "
                f"{', '.join(repr(n) for n in unknown)}."
            )
        flat = [n for n in wanted if n not in spatial]
        if flat:
            raise UnsupportedModelError(
                "Expected layers with a spatial (H, W, C) output and a receptive field, "
                f"such as: {', '.join(spatial)}. Received: {', '.join(flat)}."
            )
        return tuple(spatial[n] for n in wanted)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers)

    def outputs(self, x: tf.Tensor) -> list[tf.Tensor]:
        """The chosen layers' activations ``(B, h, w, C)`` for images ``x`` (call in a graph)."""
        recorder = StepRecorder()
        recorder.mark_input(x)
        run_model(self.model, self.plan.feed(x), recorder)
        by_name = {step.name: step.output for step in recorder.steps}
        return [by_name[name] for name in self.names]

    def forward(self, images) -> list:
        """One compiled pass: the chosen activations for a batch ``(B, H, W, C)``."""
        if self._forward is None:
            spec = tf.TensorSpec((None, *self.input_shape), tf.float32)
            self._forward = tf.function(self.outputs, input_signature=[spec], autograph=False)
        return self._forward(images)


def _is_conv(layer) -> bool:
    return type(layer).__name__ in _CONV_KINDS or (
        isinstance(layer, keras.layers.Layer) and type(layer).__name__.endswith("Conv2D")
    )
