"""LayerCAM (Jiang et al., 2021), from the inspection's layer arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inspector.attribution._helpers import resize_bilinear
from inspector.attribution.base import Attribution, AttributionMethod, register
from inspector.attribution.gradcam import cam_layer

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection


@register
class LayerCAM(AttributionMethod):
    """Class activation map with a weight per location, usable at any layer.

    Paper: P.-T. Jiang, C.-B. Zhang, Q. Hou, M.-M. Cheng and Y. Wei,
    "LayerCAM: Exploring Hierarchical Class Activation Maps for Localization",
    IEEE Transactions on Image Processing 30, 2021 (Section 3).

    With ``A^k`` the ``k``-th feature map of the layer and ``y^c`` the
    pre-softmax class score, each location gets its own weight
    ``w^k_ij = ReLU(dy^c/dA^k_ij)`` and
    ``M = ReLU(sum_k w^k_ij * A^k_ij)``, upsampled bilinearly to the input size.
    Where the gradient is the same positive number at every location of a map
    (e.g. global average pooling then a linear score with positive weights),
    ``w^k_ij`` equals Grad-CAM's ``alpha_k`` and the two maps coincide; the
    per-location weights keep fine detail at earlier layers, where Grad-CAM's
    spatial mean of the gradient mixes positive and negative evidence.

    The activation and gradient come from the inspection; the model is not run.

    Options:
        layer: any layer with an ``(h, w, C)`` output that reaches the target;
            default as for Grad-CAM: the last convolutional block's output
            (after its BatchNorm/activation).

    Heatmap: float32 ``(H, W)`` at input size, values in ``[0, inf)`` (activation
    times score-per-activation units; not normalised); ``signed`` is False.
    """

    name = "layercam"
    title = "LayerCAM"
    citation = "Jiang et al., IEEE TIP 2021"
    defaults: ClassVar[dict[str, Any]] = {"layer": None}

    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        record = cam_layer(inspection, self.layer)
        weights = np.maximum(record.gradient.astype(np.float64), 0.0)
        cam = np.maximum((weights * record.activation).sum(axis=-1), 0.0)
        heatmap = resize_bilinear(cam, inspection.image.shape[:2])
        return self._result(heatmap, signed=False, layer=record.name)
