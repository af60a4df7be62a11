"""Grad-CAM (Selvaraju et al., 2017), from the inspection's layer arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inspector.attribution._helpers import resize_bilinear
from inspector.attribution.base import Attribution, AttributionError, AttributionMethod, register
from inspector.engine.receptive_field import REORDERING

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection, LayerRecord

# Keras classes of the 2-D convolutions, and of the layers that belong to a
# convolution's block when they follow it (normalisation and activations).


@register
class GradCAM(AttributionMethod):
    """Gradient-weighted Class Activation Mapping, as published (no guided backprop).

    Paper: R. R. Selvaraju, M. Cogswell, A. Das, R. Vedantam, D. Parikh and
    D. Batra, "Grad-CAM: Visual Explanations from Deep Networks via
    Gradient-based Localization", ICCV, 2017 (Eqs. 1-2).

    With ``A^k`` the ``k``-th feature map ``(h, w)`` of a convolutional layer and
    ``y^c`` the pre-softmax score of class ``c``:
    ``alpha_k = 1/(h w) sum_ij dy^c/dA^k_ij`` (global-average-pooled gradients),
    ``L = ReLU(sum_k alpha_k A^k)``, then ``L`` is upsampled bilinearly to the
    input size. Plain gradients are used: Guided Grad-CAM (the product with guided
    backprop) is a different method, and guided backprop fails the
    model-randomisation check of Adebayo et al. (NeurIPS 2018).

    The activation and gradient come from the inspection; the model is not run.

    Options:
        layer: name of any layer with an ``(h, w, C)`` output that reaches the
            target. Default, as in the paper and its reference code: the output
            of the last convolutional layer after its activation. A convolution
            followed only by BatchNorm and/or activation layers counts as one
            block whose output is its last layer's: for conv -> BN -> ReLU the
            ReLU, for ``Conv2D(activation="relu")`` the conv itself, for conv ->
            max-pool -> dense the conv, not the pool (see ``cam_layer``).

    Heatmap: float32 ``(H, W)`` at input size, values in ``[0, inf)`` (activation
    times score-per-activation units; not normalised); ``signed`` is False.
    """

    name = "gradcam"
    title = "Grad-CAM"
    citation = "Selvaraju et al., ICCV 2017"
    defaults: ClassVar[dict[str, Any]] = {"layer": None}

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        record = cam_layer(inspection, self.layer)
        activation = record.activation.astype(np.float64)
        weights = self.channel_weights(activation, record.gradient.astype(np.float64))
        cam = np.maximum(activation @ weights, 0.0)
        heatmap = resize_bilinear(cam, inspection.image.shape[:2])
        return self._result(heatmap, signed=False, layer=record.name)

    def channel_weights(self, activation: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        """``alpha_k``: the spatial mean of the gradient, ``(h, w, C)`` to ``(C,)``."""
        return gradient.mean(axis=(0, 1))


def cam_layer(inspection: Inspection, layer: str | None) -> LayerRecord:
    """The layer record a class activation map is computed from.

    Args:
        inspection: the inspection holding every layer's activation and gradient.
        layer: a layer name, or None for the default: the output of the last
            convolutional stage after its activation, i.e. the last spatial
            ``(h, w, C)`` layer that reaches the target and is not a pooling
            layer, larger than 1x1 where possible, whose axes still mean the
            image's: never a Permute or Reshape, which only reorder values, nor a
            layer after one (a transposed map would be drawn transposed). For
            conv -> BN -> ReLU that is the ReLU; for a residual block its merged,
            activated output (ResNet's
            ``conv5_block3_out``); for conv -> max-pool -> dense the conv, not the
            coarser pool the paper does not use; for conv -> PReLU -> Permute ->
            Flatten the PReLU.

    Raises:
        LayerNotFoundError: ``layer`` is not one of the model's layers.
        AttributionError: the layer is not spatial, does not reach the target, or
            (for None) the model has no spatial layer reaching the target.
    """
    if layer is not None:
        record = inspection.layer(layer)
        if not record.is_spatial or not record.reaches_target:
            raise AttributionError(
                "Expected a layer with an (H, W, C) output that leads to the target "
                f"score. Received: layer={layer!r} with output shape "
                f"{record.output_shape}, reaches target: {record.reaches_target}. "
                f"Usable layers: {', '.join(_usable_names(inspection))}"
            )
        return record
    usable = [r for r in inspection.spatial_layers if r.reaches_target]
    if not usable:
        raise AttributionError(
            "Expected a model with at least one (H, W, C) layer that leads to the "
            f"target score. Received: model {inspection.model_name!r} with layer "
            f"shapes {[r.output_shape for r in inspection.layers]}."
        )
    # A map whose positions are not the image's cannot be laid over it: look through
    # layers that reorder values to the last one whose axes still mean the image's.
    reordered = _reordered(inspection)
    usable = [r for r in usable if r.name not in reordered] or usable
    # Pooling only coarsens the last conv stage's maps (Selvaraju et al. take A^k
    # from the last convolutional layer), so it is skipped unless nothing else is left.
    candidates = [r for r in usable if "Pooling" not in r.class_name] or usable
    # A 1x1 map (e.g. global pooling with keepdims) carries no location.
    larger = [r for r in candidates if r.output_shape[0] * r.output_shape[1] > 1]
    return (larger or candidates)[-1]


def _usable_names(inspection: Inspection) -> list[str]:
    return [r.name for r in inspection.spatial_layers if r.reaches_target]


def _reordered(inspection: Inspection) -> set[str]:
    """Names of the layers that reorder values (Permute, Reshape) and of every layer
    after one: their rows and columns are no longer the image's."""
    found: set[str] = set()
    for record in inspection.layers:  # execution order: inputs come first
        if record.class_name in REORDERING or any(name in found for name in record.inputs):
            found.add(record.name)
    return found
