"""Which model input is the image, and what the other inputs are fed.

A model may take several inputs (an image plus metadata, or two images). The
user picks the image input by name or index; every other input gets a fixed
array from a ``.npz`` file keyed by input name, or zeros, and the inspection
says so plainly. Subclassed models (``class M(keras.Model)``) have one input,
whose shape is the one they were built with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.engine.errors import UnsupportedModelError
from inspector.engine.graph_walk import graph_of, is_graph_model


@dataclass(frozen=True)
class InputPlan:
    """How the model's inputs are fed.

    Attributes:
        names: every input's name, in the model's input order.
        image_index: which of them is the image ``(batch, H, W, C)``.
        image_shape: ``(H, W, C)`` of the image input; H, W may be None.
        others: per input, the fixed array fed to it (without the batch axis), or
            None for the image input.
        note: one plain sentence, e.g. ``"image = input 'photo'; 'age' = zeros"``;
            ``""`` for a one-input model.
    """

    names: tuple[str, ...]
    image_index: int
    image_shape: tuple
    others: tuple
    note: str

    def feed(self, x):
        """The model's inputs for an image batch ``x`` (a tensor ``(B, H, W, C)``): ``x``
        itself for a one-input model, else every input in order, the fixed others
        repeated to ``x``'s batch (call inside a traced function)."""
        if len(self.names) == 1:
            return x
        import tensorflow as tf

        batch = tf.shape(x)[0]
        return [
            x if fixed is None else tf.repeat(tf.constant(fixed[None]), batch, axis=0)
            for fixed in self.others
        ]


def _symbolic_inputs(model) -> list:
    if is_graph_model(model):
        return list(graph_of(model).inputs)
    return []


def input_names(model) -> tuple[str, ...]:
    """The names of a model's inputs (``("input",)`` for a subclassed model)."""
    inputs = _symbolic_inputs(model)
    if not inputs:
        return ("input",)
    return tuple(t._keras_history.operation.name for t in inputs)


def _subclassed_shape(model) -> tuple:
    shapes = getattr(model, "_build_shapes_dict", None) or {}
    shape = next(iter(shapes.values()), None) if len(shapes) == 1 else None
    if shape is None or len(shape) != 4:
        raise UnsupportedModelError(
            "Expected a subclassed model built on one image batch (B, H, W, C): call it "
            f"once on data or call build((1, H, W, C)). Received: {type(model).__name__!r} "
            f"(name={model.name!r}) with build shapes {shapes or 'none'}."
        )
    return tuple(shape[1:])


def image_index(model, image_input: int | str | None = None) -> int:
    """Index of the image input; None picks the only 4-D input, if exactly one is."""
    inputs = _symbolic_inputs(model)
    names = input_names(model)
    if image_input is not None:
        if isinstance(image_input, str) and image_input in names:
            return names.index(image_input)
        if isinstance(image_input, int) and 0 <= image_input < len(names):
            return image_input
        raise UnsupportedModelError(
            f"Expected an input index 0..{len(names) - 1} or one of {list(names)}. "
            f"Received: input={image_input!r}."
        )
    if not inputs:
        return 0
    images = [i for i, t in enumerate(inputs) if len(t.shape) == 4]
    if len(images) == 1 or (len(inputs) == 1 and images):
        return images[0]
    shapes = {n: tuple(t.shape) for n, t in zip(names, inputs, strict=True)}
    raise UnsupportedModelError(
        "Expected a model with one image input of shape (batch, H, W, C), or --input "
        f"NAME_OR_INDEX naming it. Received: inputs {shapes}."
    )


def image_shape(model, image_input: int | str | None = None) -> tuple:
    """``(H, W, C)`` of the model's image input (H, W None when free)."""
    inputs = _symbolic_inputs(model)
    if not inputs:
        return _subclassed_shape(model)
    chosen = inputs[image_index(model, image_input)]
    if len(chosen.shape) != 4:
        raise UnsupportedModelError(
            "Expected the image input to have shape (batch, H, W, C). Received: "
            f"input {input_names(model)[image_index(model, image_input)]!r} of shape "
            f"{tuple(chosen.shape)}."
        )
    return tuple(chosen.shape[1:])


def load_other_inputs(path: str | Path) -> dict[str, np.ndarray]:
    """Arrays keyed by input name from a ``.npz`` file (never unpickled)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: np.asarray(data[key]) for key in data.files}
    except (OSError, ValueError) as error:
        raise UnsupportedModelError(
            f"Expected a .npz file of arrays keyed by input name. Received: {str(path)!r} "
            f"({type(error).__name__}: {error})."
        ) from None


def plan_inputs(
    model,
    image_input: int | str | None = None,
    other_inputs: dict[str, np.ndarray] | None = None,
) -> InputPlan:
    """Decide how each input of ``model`` is fed (see ``InputPlan``).

    Raises:
        UnsupportedModelError: no image input, an unknown input name, an array
            of the wrong shape, or an input whose shape is not fully known.
    """
    names = input_names(model)
    index = image_index(model, image_input)
    shape = image_shape(model, image_input)
    other_inputs = dict(other_inputs or {})
    unknown = sorted(set(other_inputs) - set(names))
    if unknown:
        raise UnsupportedModelError(
            f"Expected other inputs named among {list(names)}. Received: {unknown}."
        )
    inputs = _symbolic_inputs(model)
    others, said = [], []
    for i, name in enumerate(names):
        if i == index:
            others.append(None)
            continue
        others.append(_fixed_input(inputs[i], name, other_inputs.get(name)))
        said.append(f"{name!r} = {'the given array' if name in other_inputs else 'zeros'}")
    note = f"image = input {names[index]!r}; " + ", ".join(said) if said else ""
    return InputPlan(names, index, shape, tuple(others), note)


def _fixed_input(symbolic, name: str, given) -> np.ndarray:
    wanted = tuple(symbolic.shape[1:])
    dtype = np.dtype(str(symbolic.dtype))
    if given is None:
        if any(d is None for d in wanted):
            raise UnsupportedModelError(
                f"Expected a fully known shape to feed zeros to input {name!r}. Received: "
                f"shape {wanted}; give it in --other-inputs FILE.npz."
            )
        return np.zeros(wanted, dtype)
    given = np.asarray(given)
    if given.ndim == len(wanted) + 1 and given.shape[0] == 1:
        given = given[0]  # a batch of one is fine too
    ok = given.ndim == len(wanted) and all(
        w is None or w == g for w, g in zip(wanted, given.shape, strict=True)
    )
    if not ok:
        raise UnsupportedModelError(
            f"Expected input {name!r} of shape {wanted} (without the batch axis). "
            f"Received: shape {given.shape}."
        )
    return given.astype(dtype)
