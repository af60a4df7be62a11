"""Grad-CAM++ (Chattopadhyay et al., 2018), from the inspection's layer arrays."""

from __future__ import annotations

import numpy as np

from inspector.attribution.base import register
from inspector.attribution.gradcam import GradCAM


@register
class GradCAMPlusPlus(GradCAM):
    """Grad-CAM with pixel-wise weighted positive gradients.

    Paper: A. Chattopadhay (elsewhere spelled Chattopadhyay), A. Sarkar,
    P. Howlader and V. N. Balasubramanian, "Grad-CAM++: Generalized
    Gradient-based Visual Explanations for Deep Convolutional Networks", WACV,
    2018 (Eqs. 10 and 19).

    With ``A^k`` the ``k``-th feature map of the layer, ``S^c`` the pre-softmax
    class score, ``Y^c = exp(S^c)`` and ``g_ij = dS^c/dA^k_ij``, the closed form
    for the exponential score gives
    ``alpha_ij = g_ij^2 / (2 g_ij^2 + sum_ab A^k_ab g_ij^3)`` (0 where the
    denominator is 0), ``w_k = sum_ij alpha_ij ReLU(g_ij)`` and
    ``L = ReLU(sum_k w_k A^k)``, upsampled bilinearly to the input size. The
    paper's ``dY^c/dA = exp(S^c) g`` differs from ``g`` by the positive factor
    ``exp(S^c)``, the same for every channel, which is left out: it scales the
    map without changing its shape and would overflow for large scores.

    The activation and gradient come from the inspection; the model is not run.

    Options:
        layer: as for Grad-CAM (default: the last convolutional block's output,
            after its BatchNorm/activation).

    Heatmap: float32 ``(H, W)`` at input size, values in ``[0, inf)``, not
    normalised; ``signed`` is False.
    """

    name = "gradcam_plus_plus"
    title = "Grad-CAM++"
    citation = "Chattopadhyay et al., WACV 2018"

    def channel_weights(self, activation: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        """``w_k``, ``(h, w, C)`` activation and gradient to ``(C,)``."""
        squared = gradient**2
        denominator = 2.0 * squared + activation.sum(axis=(0, 1)) * gradient**3
        safe = np.where(denominator != 0.0, denominator, 1.0)
        alpha = np.where(denominator != 0.0, squared / safe, 0.0)
        return (alpha * np.maximum(gradient, 0.0)).sum(axis=(0, 1))
