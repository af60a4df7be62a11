"""A frozen layer tree of a Keras model, built on the worker thread.

The model panel shows it; it holds only strings, tuples and ints, so it can cross
into the GUI thread. Names follow the engine's convention: a layer of a nested
model is ``"outer/inner"``, matching the ``LayerRecord`` names of an Inspection.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerNode:
    """One layer; a nested model has children.

    Attributes:
        name: full name, ``"outer/inner"`` inside nested models.
        short_name: the layer's own name.
        class_name: Keras class, e.g. ``"Conv2D"``, ``"Functional"``, ``"Sequential"``.
        output_shape: output shape without the batch axis, or None when ambiguous
            (a layer shared between several calls).
        param_count: number of weights, including those of children.
        children: the layers of a nested model, in order; empty otherwise.
    """

    name: str
    short_name: str
    class_name: str
    output_shape: tuple[int | None, ...] | None
    param_count: int
    children: tuple[LayerNode, ...] = ()

    def walk(self):
        """This node and every descendant, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class ModelSummary:
    """The whole model: name, file, input shape, parameter total and top-level layers."""

    model_name: str
    path: str
    input_shape: tuple[int | None, ...]
    param_count: int
    nodes: tuple[LayerNode, ...]

    def walk(self):
        """Every node of the tree, depth first."""
        for node in self.nodes:
            yield from node.walk()

    def find(self, name: str) -> LayerNode | None:
        return next((node for node in self.walk() if node.name == name), None)


def _output_shape(layer) -> tuple[int | None, ...] | None:
    try:
        return tuple(layer.output.shape[1:])
    except (AttributeError, ValueError, RuntimeError):  # shared or never-called layers
        return None


def _nodes(layers, prefix: str) -> tuple[LayerNode, ...]:
    nodes = []
    for layer in layers:
        if type(layer).__name__ == "InputLayer":
            continue
        name = prefix + layer.name
        children = _nodes(layer.layers, name + "/") if hasattr(layer, "layers") else ()
        nodes.append(
            LayerNode(
                name=name,
                short_name=layer.name,
                class_name=type(layer).__name__,
                output_shape=_output_shape(layer),
                param_count=int(layer.count_params()) if layer.built else 0,
                children=children,
            )
        )
    return tuple(nodes)


def summarise(model, path: str = "") -> ModelSummary:
    """Walk ``model.layers`` recursively into a frozen tree (call on the worker thread)."""
    return ModelSummary(
        model_name=model.name,
        path=str(path),
        input_shape=tuple(model.inputs[0].shape[1:]),
        param_count=int(model.count_params()),
        nodes=_nodes(model.layers, ""),
    )
