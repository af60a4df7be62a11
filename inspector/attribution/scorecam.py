"""Score-CAM (Wang et al., 2020): channel weights from batched forward passes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inspector.attribution._helpers import (
    batch_slices,
    memory_batch,
    resize_bilinear,
    resize_bilinear_channels,
)
from inspector.attribution.base import Attribution, AttributionMethod, register
from inspector.attribution.gradcam import cam_layer

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection


@register
class ScoreCAM(AttributionMethod):
    """Feature maps weighted by how much each one, used as a mask, raises the score.

    Paper: H. Wang, Z. Wang, M. Du, F. Yang, Z. Zhang, S. Ding, P. Mardziel and
    X. Hu, "Score-CAM: Score-Weighted Visual Explanations for Convolutional
    Neural Networks", CVPR Workshops, 2020 (Definition 1, the Increase of
    Confidence, and Algorithm 1).

    With ``A^k`` the ``k``-th feature map ``(h, w)`` of the layer, each map is
    upsampled bilinearly to the input and min-max normalised,
    ``H^k = s(Up(A^k))`` in ``[0, 1]``, and used as a mask on the image ``X``.
    Its weight is the channel's increase of confidence
    ``alpha_k = f_c(X o H^k) - f_c(X_b)``, where ``f_c`` is the target's softmax
    (or sigmoid) probability (the raw output for a linear output layer) and
    ``X_b = X o 0`` the fully masked image. Then
    ``L = ReLU(sum_k alpha_k A^k)``, upsampled bilinearly to the input size.
    No gradient is used. A constant map has no min-max normalisation; its
    weight is 0 and it is not run (as in the authors' code).

    Cost: one forward pass per non-constant channel of the layer (plus one for
    ``X_b``), ``batch_size`` masked images per batched pass; 1280 for
    MobileNetV2's last block.

    Options:
        layer: any layer with an ``(h, w, C)`` output that reaches the target;
            default as for Grad-CAM (the last convolutional block's output).
        batch_size: masked images per forward pass (default 64).

    Heatmap: float32 ``(H, W)`` at input size, values in ``[0, inf)``
    (probability times activation units; not normalised); ``signed`` is False.
    """

    name = "scorecam"
    title = "Score-CAM"
    citation = "Wang et al., CVPR Workshops 2020"
    defaults: ClassVar[dict[str, Any]] = {"layer": None, "batch_size": 64}

    def passes(self, inspection: Inspection) -> int:
        return int(cam_layer(inspection, self.layer).output_shape[-1]) + 1  # + X o 0

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        record = cam_layer(inspection, self.layer)
        activation = record.activation.astype(np.float64)
        weights = self.channel_weights(inspection, inspector, activation)
        cam = np.maximum(activation @ weights, 0.0)
        heatmap = resize_bilinear(cam, inspection.image.shape[:2])
        return self._result(heatmap, signed=False, layer=record.name)

    def channel_weights(
        self, inspection: Inspection, inspector: Inspector, activation: np.ndarray
    ) -> np.ndarray:
        """``alpha_k`` for an ``(h, w, C)`` activation: ``(C,)`` probability differences."""
        image, target, output = inspection.image, inspection.target, inspection.output_index
        flat = activation.reshape(-1, activation.shape[-1])
        varying = np.flatnonzero(flat.max(axis=0) > flat.min(axis=0))
        # Image 0 is X_b = X o 0, the rest X o H^k for the varying channels k.
        scores = np.empty(len(varying) + 1)
        batch = memory_batch(inspection, self.batch_size, gradients=False)
        for part in batch_slices(len(varying) + 1, batch):
            channels = varying[max(part.start - 1, 0) : part.stop - 1]
            masks = resize_bilinear_channels(activation[..., channels], image.shape[:2])
            low = masks.min(axis=(1, 2), keepdims=True)
            span = masks.max(axis=(1, 2), keepdims=True) - low
            masks = (masks - low) / np.where(span > 0, span, 1.0)
            if part.start == 0:
                masks = np.concatenate([np.zeros_like(masks[:1]), masks])
            _, probabilities = inspector.predict(image[None] * masks[..., None], output)
            scores[part] = probabilities[:, target]
            self.report(part.stop, len(varying) + 1)
        weights = np.zeros(activation.shape[-1])
        weights[varying] = scores[1:] - scores[0]
        return weights
