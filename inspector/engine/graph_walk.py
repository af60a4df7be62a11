"""Run a Keras 3 model layer by layer and record what every layer produced.

Why not ``keras.Model(model.inputs, [layer.output for layer in model.layers])``?
In Keras 3 a Sequential model's ``layer.output`` can point at a stale graph node
(models built with ``.add()`` or reloaded from ``.keras``), which gives the right
activations but ``None`` gradients, and a nested backbone's inner tensors belong
to another graph ("Graph disconnected"). Instead we execute the model's own
graph ourselves, calling each layer on real tensors, so every recorded tensor
lies on the path the gradient tape sees. Nested models are walked recursively
and their layers are named ``outer/inner``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras

from inspector.engine.errors import UnsupportedModelError

INPUT_NAME = "input"


@dataclass
class Step:
    """One executed layer: the tensor it produced and where its inputs came from."""

    name: str
    layer: keras.layers.Layer
    output: Any
    inputs: tuple[str, ...]
    call_args: tuple = ()
    call_kwargs: dict = field(default_factory=dict)


class StepRecorder:
    """Collects ``Step`` objects in execution order with unique, nested names."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self._name_of_tensor: dict[int, str] = {}
        self._step_of_tensor: dict[int, Step] = {}
        self._times_called: dict[str, int] = {}

    def mark_input(self, tensor: Any) -> None:
        self._name_of_tensor[id(tensor)] = INPUT_NAME

    def source_names(self, tensors: list) -> tuple[str, ...]:
        return tuple(self._name_of_tensor.get(id(t), "?") for t in tensors)

    def producer_of(self, tensor: Any) -> Step | None:
        return self._step_of_tensor.get(id(tensor))

    def add(self, prefix: str, layer, output, args: tuple, kwargs: dict) -> None:
        base = prefix + layer.name
        # A shared layer called twice gets a second, distinct record.
        calls = self._times_called.get(base, 0)
        self._times_called[base] = calls + 1
        name = base if calls == 0 else f"{base}@{calls}"
        inputs = self.source_names([t for t in keras.tree.flatten(args) if _is_tensor(t)])
        step = Step(name, layer, output, inputs, args, kwargs)
        self.steps.append(step)
        for tensor in keras.tree.flatten(output):
            self._name_of_tensor[id(tensor)] = name
            self._step_of_tensor[id(tensor)] = step


def _is_tensor(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def is_graph_model(layer: Any) -> bool:
    """True for models whose layer graph we can walk (Functional or Sequential)."""
    return isinstance(layer, keras.Sequential) or (
        isinstance(layer, keras.Model) and hasattr(layer, "_nodes_by_depth")
    )


def graph_of(model: keras.Model):
    """The Functional graph behind a model (a built Sequential keeps one inside)."""
    if isinstance(model, keras.Sequential):
        functional = getattr(model, "_functional", None)
        if functional is None:
            raise UnsupportedModelError(
                "Expected a built Sequential model (with an Input or called once on "
                f"data). Received: model={model.name!r}, which has never been built."
            )
        return functional
    if hasattr(model, "_nodes_by_depth"):
        return model
    raise UnsupportedModelError(
        "Expected a Functional or Sequential Keras model, whose layer graph can be "
        f"walked. Received: a subclassed model {type(model).__name__!r} "
        f"(name={model.name!r}) whose layers are only known inside its call()."
    )


def _calls_with_training(layer) -> bool:
    # Keras sets this on every layer whose call() takes a `training` argument.
    return bool(getattr(layer, "_call_has_training_arg", False))


def run_model(
    model: keras.Model,
    inputs: Any,
    recorder: StepRecorder,
    prefix: str = "",
    call_layer: Callable | None = None,
):
    """Execute ``model`` on ``inputs`` in inference mode, recording every layer.

    ``call_layer(layer, args, kwargs)``, when given, replaces ``layer(*args,
    **kwargs)`` for every layer, nested ones included (``relu_backward`` uses it
    to change the ReLUs' backward pass in a separately traced function).

    ``inputs`` is one tensor, or a flat list in the order of the model's inputs.
    A subclassed model runs its own ``call`` (see ``run_subclassed``; ``call_layer``
    does not apply there). Returns the model's outputs, structured as
    ``model(inputs)`` would return them.
    """
    if not is_graph_model(model):
        return run_subclassed(model, inputs, recorder, prefix)
    graph = graph_of(model)

    def operation_fn(layer):
        def call(*args, **kwargs):
            if is_graph_model(layer):
                flat = [t for t in keras.tree.flatten(args) if _is_tensor(t)]
                # The nested model's outputs are the very tensors its inner layers
                # produced, so they are already recorded under their inner names.
                return run_model(
                    layer,
                    flat if len(flat) > 1 else flat[0],
                    recorder,
                    prefix + layer.name + "/",
                    call_layer,
                )
            if _calls_with_training(layer):
                kwargs["training"] = False
            output = call_layer(layer, args, kwargs) if call_layer else layer(*args, **kwargs)
            recorder.add(prefix, layer, output, args, kwargs)
            return output

        return call

    # Keras's own executor for Functional graphs: it walks the nodes by depth and
    # calls operation_fn(layer)(*args, **kwargs) on real tensors.
    return graph._run_through_graph(inputs, operation_fn=operation_fn)


def _leaf_layers(model) -> list:
    layers = model._flatten_layers(include_self=False, recursive=True)
    return [layer for layer in layers if not list(layer._flatten_layers(include_self=False))]


def run_subclassed(model: keras.Model, inputs: Any, recorder: StepRecorder, prefix: str = ""):
    """Run a subclassed model's own ``call`` and record every leaf layer it calls.

    Its layers are known only inside ``call``, so each leaf layer's ``call`` is
    wrapped, for the length of this one run (the trace of the inspection pass),
    by a hook that records what it returned. Raw TensorFlow or ``keras.ops`` code
    between layers runs as written and gets no record of its own.
    """
    hooked = []

    def hook(layer):
        original = layer.call

        def call(*args, **kwargs):
            output = original(*args, **kwargs)
            recorder.add(prefix, layer, output, args, kwargs)
            return output

        layer.call = call
        hooked.append(layer)

    try:
        for layer in _leaf_layers(model):
            hook(layer)
        kwargs = {"training": False} if _calls_with_training(model) else {}
        return model(inputs, **kwargs)
    finally:
        for layer in hooked:
            del layer.call  # the instance attribute; the class's call shows again
