"""Which images a recorded run keeps: its probes (whose activations every snapshot
stores) and its fixed gradient batch, taken in turn from each class so that every
class is seen. Plain NumPy: a training process chooses them before it builds a
``TrainingRecorder``, and the app's fine-tuning uses the same rule as ``train``.
"""

from __future__ import annotations

import numpy as np


def pick_per_class(labels: np.ndarray, count: int) -> np.ndarray:
    """Indices of up to ``count`` images, taken in turn from each class, first ones
    first (deterministic): the probes and gradient batch a recorded run keeps.

    Args:
        labels: int ``(N,)`` class indices.

    Returns:
        int64 ``(min(count, N),)`` sorted.
    """
    labels = np.asarray(labels)
    members = [list(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    chosen: list[int] = []
    while len(chosen) < count and any(members):
        for group in members:
            if group and len(chosen) < count:
                chosen.append(int(group.pop(0)))
    return np.sort(np.asarray(chosen, np.int64))
