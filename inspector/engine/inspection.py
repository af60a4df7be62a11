"""The frozen result of one inspection pass.

These are the only objects that cross from the engine into the GUI: frozen
dataclasses holding read-only NumPy arrays, never a ``tf.Tensor``. One call to
``Inspector.inspect`` makes one ``Inspection``; every view and export reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inspector.engine.errors import LayerNotFoundError
from inspector.engine.preprocessing import Preprocessing


def read_only(array: np.ndarray) -> np.ndarray:
    """Return ``array`` as a NumPy array that refuses writes (no copy if possible)."""
    array = np.asarray(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class ReceptiveField:
    """Where a layer's units look on the input image, per spatial axis (rows, cols).

    Unit ``(i, j)`` of the layer sees the input window centred on
    ``start + (i, j) * jump`` that is ``size`` pixels wide (clipped to the image).

    Attributes:
        size: window size in input pixels, ``(rows, cols)``.
        jump: distance in input pixels between neighbouring units, ``(rows, cols)``.
        start: centre of unit ``(0, 0)`` in input pixel coordinates, ``(rows, cols)``.
            It can be negative or fractional where padding shifts the grid.
        is_global: True for layers whose units see the whole input (Dense, Flatten,
            global pooling).
    """

    size: tuple[int, int]
    jump: tuple[float, float]
    start: tuple[float, float]
    is_global: bool = False

    def window(self, row: int, col: int) -> tuple[float, float, float, float]:
        """The input window ``(top, left, bottom, right)`` seen by unit ``(row, col)``.

        Bounds are in pixel-edge coordinates and are not clipped to the image.
        """
        centre_r = self.start[0] + row * self.jump[0]
        centre_c = self.start[1] + col * self.jump[1]
        half_r, half_c = self.size[0] / 2, self.size[1] / 2
        return (
            centre_r - half_r + 0.5,
            centre_c - half_c + 0.5,
            centre_r + half_r + 0.5,
            centre_c + half_c + 0.5,
        )


@dataclass(frozen=True)
class LayerRecord:
    """What one layer produced for one image, and the gradient that came back.

    Attributes:
        name: unique name; layers of nested models are named ``outer/inner`` and a
            layer called a second time gets ``name@1``.
        class_name: the Keras class, e.g. ``"Conv2D"``.
        output_shape: shape of the activation without the batch dimension.
        activation: float32 array of ``output_shape`` (e.g. ``(H, W, C)``), read-only.
        gradient: d(target score)/d(activation), same shape, read-only. All zeros
            where the layer does not lead to the chosen output
            (``reaches_target`` is then False).
        inputs: names of the records (or ``"input"``) that fed this layer.
        param_count: number of weights the layer owns.
        receptive_field: the layer's receptive field on the input, or None.
        receptive_field_note: why ``receptive_field`` is None, when it is.
        reaches_target: whether the target score depends on this layer at all.
    """

    name: str
    class_name: str
    output_shape: tuple[int, ...]
    activation: np.ndarray
    gradient: np.ndarray
    inputs: tuple[str, ...] = ()
    param_count: int = 0
    receptive_field: ReceptiveField | None = None
    receptive_field_note: str = ""
    reaches_target: bool = True

    @property
    def is_spatial(self) -> bool:
        """True for feature maps: ``(H, W, C)`` outputs."""
        return len(self.output_shape) == 3


@dataclass(frozen=True)
class Inspection:
    """Everything one forward+backward pass says about one image and one target.

    Attributes:
        image: the model input, float32 ``(H, W, C)`` in the model's value scale.
        display_image: the same picture as uint8 RGB ``(H, W, 3)`` for showing.
        preprocessing: human-readable steps that turned the file into ``image``.
        source: where the image came from (a path or a description).
        model_name: the Keras model's name.
        output_index: which model output the target belongs to.
        output_name: that output's name.
        labels: class names, one per class (``("class 0", ...)`` when unknown).
        probabilities: float32 ``(num_classes,)``, what the output's activation
            makes of the logits (see ``probability_rule``); for one sigmoid unit
            ``[1-p, p]``; for a linear output the raw values, not probabilities.
        target: the class whose score was differentiated.
        score: the target's pre-softmax (or pre-sigmoid) logit.
        score_kind: what ``score`` is (``"logit"``, ``"value"``, ``"mean logit over
            positions"``, ``"channel mean"``, ``"output"``; in words:
            ``class_head.describe_score``), said so that exports are explicit.
        input_gradient: d(score)/d(image), float32 ``(H, W, C)``.
        layers: one record per layer, in execution order (input first excluded).
        timings: seconds spent per phase, e.g. ``{"pass": 0.03, "to_numpy": 0.001}``.
        preprocess: the preprocessing the image went through and where it was
            decided (a ``preprocessing.Preprocessing``); None for an array given as
            is. ``preset`` names it (``"tf"``, ``"0-1"``, ``"LOW,HIGH"``; ``""`` for
            None); ``preprocessing.black_value(preset, C)`` is black.
        probability_rule: ``"softmax"``, ``"sigmoid"`` (each unit on its own) or
            ``"none"`` (raw output values: a regression or a spatial output).
        top_class: the class with the highest logit, from the same numbers as the
            automatic target (-1: not known, then the argmax of ``probabilities``).
        inputs_note: for a multi-input model, which input is the image and what
            the others were fed; ``""`` for a one-input model.
        unknown_below: for a recogniser shipped with a calibrated threshold
            (``model.unknown_below``, stored in its file): a top probability
            below it means a person it does not know. None for other models.
    """

    image: np.ndarray
    display_image: np.ndarray
    preprocessing: tuple[str, ...]
    source: str
    model_name: str
    output_index: int
    output_name: str
    labels: tuple[str, ...]
    probabilities: np.ndarray
    target: int
    score: float
    score_kind: str
    input_gradient: np.ndarray
    layers: tuple[LayerRecord, ...]
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    preprocess: Preprocessing | None = None
    probability_rule: str = "softmax"
    top_class: int = -1
    inputs_note: str = ""
    unknown_below: float | None = None

    @property
    def preset(self) -> str:
        return self.preprocess.preset if self.preprocess is not None else ""

    @property
    def target_label(self) -> str:
        return self.labels[self.target]

    @property
    def predicted(self) -> int:
        if self.top_class >= 0:
            return self.top_class
        return int(np.argmax(self.probabilities))

    @property
    def predicted_label(self) -> str:
        return self.labels[self.predicted]

    @property
    def unknown(self) -> bool:
        """True when the model has an "unknown" threshold and its top probability is
        below it: the face is of nobody it was trained on (open-set recognition)."""
        if self.unknown_below is None:
            return False
        return bool(self.probabilities[self.predicted] < self.unknown_below)

    @property
    def layer_names(self) -> tuple[str, ...]:
        return tuple(record.name for record in self.layers)

    def layer(self, name: str) -> LayerRecord:
        """The record called ``name``; raises ``LayerNotFoundError`` listing the names."""
        for record in self.layers:
            if record.name == name:
                return record
        raise LayerNotFoundError(
            f"Expected one of the model's layer names. Received: layer={name!r}. "
            f"Known layers: {', '.join(self.layer_names)}"
        )

    @property
    def spatial_layers(self) -> tuple[LayerRecord, ...]:
        """Records whose activation is a stack of feature maps ``(H, W, C)``."""
        return tuple(record for record in self.layers if record.is_spatial)

    @property
    def nbytes(self) -> int:
        """Total size of the arrays this inspection holds."""
        arrays = [self.image, self.display_image, self.input_gradient, self.probabilities]
        for record in self.layers:
            arrays.extend([record.activation, record.gradient])
        return sum(a.nbytes for a in arrays)
