"""One dense unit's forward step, a = g(w·a_prev + b), with the real numbers.

The ``Inspection`` holds every layer's activation but not the weights, so this
reads the unit's kernel column and bias from the Keras layer and its input from
the inspection, and recomputes ``z`` and ``g(z)``. The recomputed ``g(z)`` is
checked against the activation the inspection recorded, so the numbers shown
are the ones the model really used.

Call ``neuron_breakdown`` off the GUI thread: it converts weights to NumPy and
applies the layer's activation function (a TensorFlow op).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np

from inspector.engine.errors import InspectorError, LayerNotFoundError
from inspector.engine.graph_walk import INPUT_NAME
from inspector.engine.inspection import Inspection, LayerRecord, read_only

# |g(z) - recorded| allowed, relative to the layer's largest |activation|: the
# model computed in float32 (maybe with oneDNN's reordered sums), we in float64.
MATCH_TOLERANCE = 1e-4


class NeuronError(InspectorError):
    """A layer the neuron view cannot explain, or a unit it does not have."""


@dataclass(frozen=True)
class NeuronBreakdown:
    """The terms of ``a = g(z)``, ``z = sum_i w_i a_prev_i + b`` for one unit.

    Attributes:
        layer_name: the layer's record name, e.g. ``"dense"`` or ``"head/fc"``.
        unit: index of the unit in the layer's output.
        activation_name: name of ``g``, e.g. ``"relu"``, ``"sigmoid"``, ``"linear"``.
        input_name: the record that fed the layer (or ``"input"``).
        input_shape: shape that flat input indices refer to: that record's own
            shape, or for a Flatten record the shape of the map it flattened, so
            that ``input_label`` names a (row, col, channel) of that map.
        weights: float32 ``(n,)`` read-only, the unit's kernel column ``w``.
        inputs: float32 ``(n,)`` read-only, the flattened ``a_prev``.
        contributions: float32 ``(n,)`` read-only, ``w_i * a_prev_i``.
        top_indices: int ``(k,)`` read-only, indices of the ``k`` largest
            ``|w_i * a_prev_i|``, largest first.
        bias: ``b`` (0.0 for a layer without bias).
        z: the pre-activation ``w·a_prev + b``, computed in float64.
        output: ``g(z)`` computed here (for softmax, from the whole layer's z).
        recorded: the unit's activation as the inspection recorded it.
        gradient: d(target score)/d(a) for this unit, from the inspection.
        matches: whether ``output`` equals ``recorded`` within tolerance.
    """

    layer_name: str
    unit: int
    activation_name: str
    input_name: str
    input_shape: tuple[int, ...]
    weights: np.ndarray
    inputs: np.ndarray
    contributions: np.ndarray
    top_indices: np.ndarray
    bias: float
    z: float
    output: float
    recorded: float
    gradient: float
    matches: bool

    @property
    def rest(self) -> float:
        """Sum of the contributions not in ``top_indices``."""
        total = float(np.sum(self.contributions, dtype=np.float64))
        shown = float(np.sum(self.contributions[self.top_indices], dtype=np.float64))
        return total - shown

    def input_label(self, index: int) -> str:
        """Where flat input ``index`` sits in ``a_prev``: ``"12"`` or ``"(3, 4, 7)"``."""
        if len(self.input_shape) <= 1:
            return str(int(index))
        return str(tuple(int(i) for i in np.unravel_index(int(index), self.input_shape)))


def find_layer(model: keras.Model, record_name: str) -> keras.layers.Layer:
    """The Keras layer behind an inspection record name such as ``"outer/inner@1"``.

    Raises:
        LayerNotFoundError: no such layer in ``model`` (nested models included).
    """
    layer = model
    for part in record_name.split("/"):
        # "name@k" is the k-th call of a shared layer: the same weights.
        base = part.split("@", 1)[0]
        try:
            layer = layer.get_layer(base)
        except (ValueError, AttributeError):
            raise LayerNotFoundError(
                f"Expected a layer of model {model.name!r}. Received: layer={record_name!r}, "
                f"and {base!r} is not found there."
            ) from None
    return layer


def activation_name(layer: keras.layers.Layer) -> str:
    """Name of the layer's activation function, ``"linear"`` if it has none."""
    function = getattr(layer, "activation", None)
    return getattr(function, "__name__", type(function).__name__) if function else "linear"


def _dense_parts(layer, record: LayerRecord) -> tuple[np.ndarray, np.ndarray]:
    """The kernel ``(n, units)`` and bias ``(units,)`` of a Dense layer, float64."""
    if not isinstance(layer, keras.layers.Dense) or len(record.output_shape) != 1:
        raise NeuronError(
            "Expected a Dense layer with a 1-D output (batch, units) for the neuron "
            f"view. Received: layer={record.name!r} of class {record.class_name} with "
            f"output shape {record.output_shape}."
        )
    kernel = keras.ops.convert_to_numpy(layer.kernel).astype(np.float64)
    units = kernel.shape[1]
    bias = (
        keras.ops.convert_to_numpy(layer.bias).astype(np.float64)
        if layer.use_bias
        else np.zeros(units)
    )
    return kernel, bias


def _previous_activation(inspection: Inspection, record: LayerRecord) -> tuple[str, np.ndarray]:
    if len(record.inputs) != 1:
        raise NeuronError(
            f"Expected a layer with one input. Received: layer={record.name!r} with "
            f"inputs {list(record.inputs)}."
        )
    name = record.inputs[0]
    if name == INPUT_NAME:
        return name, inspection.image
    return name, inspection.layer(name).activation


def _position_shape(inspection: Inspection, input_name: str, previous: np.ndarray) -> tuple:
    """The shape flat input indices are read in (see ``NeuronBreakdown.input_shape``)."""
    shape = tuple(int(s) for s in np.shape(previous))
    if input_name == INPUT_NAME:
        return shape
    source = inspection.layer(input_name)
    # Keras's Flatten keeps row-major (C) order, so unravel_index inverts it.
    if source.class_name == "Flatten" and len(source.inputs) == 1:
        before = source.inputs[0]
        before_shape = inspection.image.shape if before == INPUT_NAME else None
        if before_shape is None:
            before_shape = inspection.layer(before).output_shape
        if int(np.prod(before_shape)) == int(np.prod(shape)):
            return tuple(int(s) for s in before_shape)
    return shape


def _apply_activation(layer, z_all: np.ndarray) -> np.ndarray:
    """g applied to the whole layer's z ``(units,)`` (softmax needs all of them)."""
    function = getattr(layer, "activation", None) or keras.activations.linear
    result = function(keras.ops.convert_to_tensor(z_all[None].astype(np.float32)))
    return keras.ops.convert_to_numpy(result)[0].astype(np.float64)


def neuron_breakdown(
    model: keras.Model, inspection: Inspection, layer_name: str, unit: int, top_k: int = 8
) -> NeuronBreakdown:
    """Break one dense unit's activation into its weighted inputs.

    Args:
        model: the model the inspection came from (its weights are read).
        inspection: the inspection of the current image.
        layer_name: a Dense layer's record name, with a 1-D output.
        unit: index of the unit, ``0 <= unit < units``.
        top_k: how many of the largest ``|w_i a_prev_i|`` to single out.

    Returns:
        A ``NeuronBreakdown``; its ``matches`` says whether the recomputed ``g(z)``
        equals the recorded activation.

    Raises:
        LayerNotFoundError: ``layer_name`` is not a layer of the model.
        NeuronError: the layer is not a Dense layer with 1-D output, ``unit`` is
            out of range, or the input size does not fit the kernel.
    """
    record = inspection.layer(layer_name)
    layer = find_layer(model, layer_name)
    kernel, bias = _dense_parts(layer, record)
    units = kernel.shape[1]
    if not 0 <= unit < units:
        raise NeuronError(f"Expected a unit 0..{units - 1}. Received: unit={unit}.")
    input_name, previous = _previous_activation(inspection, record)
    a_prev = np.asarray(previous, dtype=np.float64).reshape(-1)
    if a_prev.shape[0] != kernel.shape[0]:
        raise NeuronError(
            f"Expected an input of {kernel.shape[0]} values for layer {layer_name!r}. "
            f"Received: {a_prev.shape[0]} values from {input_name!r}."
        )
    z_all = a_prev @ kernel + bias
    g_all = _apply_activation(layer, z_all)
    contributions = kernel[:, unit] * a_prev
    k = max(0, min(int(top_k), contributions.shape[0]))
    top = np.argsort(-np.abs(contributions), kind="stable")[:k]
    recorded = np.asarray(record.activation, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(recorded))))
    return NeuronBreakdown(
        layer_name=layer_name,
        unit=int(unit),
        activation_name=activation_name(layer),
        input_name=input_name,
        input_shape=_position_shape(inspection, input_name, previous),
        weights=read_only(kernel[:, unit].astype(np.float32)),
        inputs=read_only(a_prev.astype(np.float32)),
        contributions=read_only(contributions.astype(np.float32)),
        top_indices=read_only(top.astype(np.int64)),
        bias=float(bias[unit]),
        z=float(z_all[unit]),
        output=float(g_all[unit]),
        recorded=float(recorded[unit]),
        gradient=float(np.asarray(record.gradient).reshape(-1)[unit]),
        matches=bool(abs(g_all[unit] - recorded[unit]) <= MATCH_TOLERANCE * scale),
    )


def dense_layer_names(inspection: Inspection) -> tuple[str, ...]:
    """Records that ``neuron_breakdown`` can explain: Dense layers with 1-D outputs."""
    return tuple(
        r.name for r in inspection.layers if r.class_name == "Dense" and len(r.output_shape) == 1
    )


def equation_terms(breakdown: NeuronBreakdown) -> list[tuple[float, str]]:
    """The summands of z in display order: the top inputs, the rest, the bias.

    Returns:
        ``(value, note)`` pairs; the note is ``""`` for a top input,
        ``"other N inputs"`` for the rest (when there is one) and ``"bias"``.
    """
    b = breakdown
    terms = [(float(b.contributions[i]), "") for i in b.top_indices]
    others = len(b.contributions) - len(b.top_indices)
    if others:
        terms.append((b.rest, f"other {others} inputs"))
    terms.append((b.bias, "bias"))
    return terms


def signed_sum(
    terms: list[tuple[float, str]],
    digits: int = 4,
    note_format: Callable[[str], str] = lambda note: f" ({note})",
) -> str:
    """``"8 − 2 + 2.5 (bias)"``: each term with its own sign, notes after values."""
    text = ""
    for position, (value, note) in enumerate(terms):
        magnitude = f"{abs(value):.{digits}g}"
        if position == 0:
            text = f"-{magnitude}" if value < 0 else magnitude
        else:
            text += f" − {magnitude}" if value < 0 else f" + {magnitude}"
        if note:
            text += note_format(note)
    return text


def format_equation(breakdown: NeuronBreakdown, digits: int = 4) -> str:
    """The unit's forward step as plain text, one line per stage.

    Example::

        z = Σ w_i·a_prev_i + b = 1.2 − 0.3 + 0.5 (other 6 inputs) + 0.1 (bias) = 1.5
        a = relu(z) = 1.5
    """
    b = breakdown
    return (
        f"z = Σ w_i·a_prev_i + b = {signed_sum(equation_terms(b), digits)} = {b.z:.{digits}g}\n"
        f"a = {b.activation_name}(z) = {b.output:.{digits}g}"
    )
