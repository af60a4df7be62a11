"""Receptive fields of every layer on the input image.

For a chain of layers, each with kernel k, stride s, dilation d and left padding
p, the recurrences of Araujo, Norris & Sim, "Computing Receptive Fields of
Convolutional Neural Networks", Distill (2019) give per spatial axis:

    k_eff = d * (k - 1) + 1
    size  = size_prev + (k_eff - 1) * jump_prev
    jump  = jump_prev * s
    start = start_prev + ((k_eff - 1) / 2 - p) * jump_prev

``start`` is the centre of unit 0 in input pixels. Where branches merge (Add,
Concatenate) the field is the union of the branches' windows, which is defined
only when their jumps agree. Upsampling layers have no field in this sense.
"""

from __future__ import annotations

import math

from inspector.engine.inspection import ReceptiveField

_WINDOWED = {"Conv2D", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling2D", "AveragePooling2D"}
_UPSAMPLING = {"UpSampling2D", "Conv2DTranspose", "Resizing"}
# Layers that only move values around: a map after them has axes that no longer mean
# the image's rows and columns (a Permute((2, 1, 3)) transposes them; on a square
# map the shapes alone would not show it).
REORDERING = {"Permute", "Reshape", "Transpose"}
_IDENTITY = ReceptiveField(size=(1, 1), jump=(1.0, 1.0), start=(0.0, 0.0))

Result = tuple[ReceptiveField | None, str]


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _windowed(layer, parent: ReceptiveField, in_hw: tuple[int, int]) -> ReceptiveField:
    kernel = _pair(getattr(layer, "kernel_size", None) or layer.pool_size)
    strides = _pair(layer.strides or kernel)
    dilation = _pair(getattr(layer, "dilation_rate", 1))
    size, jump, start = [], [], []
    for axis in range(2):
        k_eff = dilation[axis] * (kernel[axis] - 1) + 1
        pad = 0
        if layer.padding == "same":
            out = math.ceil(in_hw[axis] / strides[axis])
            pad = max((out - 1) * strides[axis] + k_eff - in_hw[axis], 0) // 2
        size.append(parent.size[axis] + (k_eff - 1) * round(parent.jump[axis]))
        jump.append(parent.jump[axis] * strides[axis])
        start.append(parent.start[axis] + ((k_eff - 1) / 2 - pad) * parent.jump[axis])
    return ReceptiveField(tuple(size), tuple(jump), tuple(start))


def _shifted(parent: ReceptiveField, rows: int, cols: int) -> ReceptiveField:
    """Cropping moves unit 0 forward; zero padding (negative shift) moves it back."""
    return ReceptiveField(
        parent.size,
        parent.jump,
        (parent.start[0] + rows * parent.jump[0], parent.start[1] + cols * parent.jump[1]),
    )


def _union(parents: list[ReceptiveField]) -> Result:
    if len({p.jump for p in parents}) > 1:
        return None, "branches with different strides merge here"
    low = [min(p.start[a] - (p.size[a] - 1) / 2 for p in parents) for a in range(2)]
    high = [max(p.start[a] + (p.size[a] - 1) / 2 for p in parents) for a in range(2)]
    size = tuple(round(high[a] - low[a]) + 1 for a in range(2))
    start = tuple((high[a] + low[a]) / 2 for a in range(2))
    return ReceptiveField(size, parents[0].jump, start), ""


def _one_layer(
    layer, parents: list[ReceptiveField], in_shapes: list[tuple], out_shape: tuple
) -> Result:
    kind = type(layer).__name__
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return None, "channels_first layout is not handled"
    if len(out_shape) != 3:
        return ReceptiveField(
            parents[0].size, parents[0].jump, parents[0].start, is_global=True
        ), ""
    if kind in _UPSAMPLING:
        return None, f"{kind} upsamples, so its units have no single input window"
    if kind in REORDERING:
        return None, f"{kind} reorders values, so its axes are no longer the image's"
    if kind in _WINDOWED:
        return _windowed(layer, parents[0], in_shapes[0][:2]), ""
    if kind == "ZeroPadding2D":
        (top, _), (left, _) = layer.padding
        return _shifted(parents[0], -top, -left), ""
    if kind == "Cropping2D":
        (top, _), (left, _) = layer.cropping
        return _shifted(parents[0], top, left), ""
    if all(shape[:2] == out_shape[:2] for shape in in_shapes):
        # Element-wise or per-position layers (BatchNorm, ReLU, Add, Concatenate...).
        return (parents[0], "") if len(parents) == 1 else _union(parents)
    return None, f"unknown how {kind} maps positions"


def receptive_fields(names, layers, inputs, output_shapes, input_hw) -> dict[str, Result]:
    """Receptive field (or None and a reason) of every recorded layer.

    Args:
        names: record names in execution order.
        layers: the Keras layer behind each name.
        inputs: for each name, the names of its inputs (``"input"`` is the image).
        output_shapes: each layer's output shape without the batch dimension.
        input_hw: ``(H, W)`` of the input image.
    """
    fields: dict[str, Result] = {"input": (_IDENTITY, "")}
    shapes: dict[str, tuple] = {"input": (*input_hw, 0)}
    for name, layer, sources, out_shape in zip(names, layers, inputs, output_shapes, strict=True):
        shapes[name] = out_shape
        known = [fields.get(s, (None, "input unknown")) for s in sources]
        parents = [f for f, _ in known]
        if not parents or any(p is None for p in parents):
            fields[name] = (None, "follows a layer whose receptive field is unknown")
        elif any(p.is_global for p in parents):
            fields[name] = (
                ReceptiveField(parents[0].size, parents[0].jump, parents[0].start, is_global=True),
                "",
            )
        else:
            fields[name] = _one_layer(layer, parents, [shapes[s] for s in sources], out_shape)
    del fields["input"]
    return fields
