"""TensorBoard histograms of weights and gradients, written with TensorFlow alone.

``tf.summary.histogram`` and ``tf.summary.scalar`` live in the ``tensorboard``
package, which is only needed to *view* logs. We write the same records with
``tf.summary.write``: a histogram is a float64 ``(k, 3)`` tensor of bucket
``(left edge, right edge, count)`` rows tagged for the "histograms" plugin, and a
scalar is a rank-0 tensor tagged for the "scalars" plugin, which is the data
format TensorBoard's plugins read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import summary_pb2

from inspector.recording.probes import weight_keys

BUCKETS = 30


def _metadata(plugin: str) -> summary_pb2.SummaryMetadata:
    return summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin)
    )


def histogram_buckets(values: np.ndarray, buckets: int = BUCKETS) -> np.ndarray:
    """float64 ``(k, 3)`` rows ``(left, right, count)`` of equal-width buckets.

    A constant array gets one zero-width bucket holding every value.
    """
    values = np.asarray(values, np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return np.zeros((0, 3))
    low, high = float(values.min()), float(values.max())
    if low == high:
        return np.array([[low, high, float(values.size)]])
    counts, edges = np.histogram(values, bins=buckets, range=(low, high))
    return np.stack([edges[:-1], edges[1:], counts.astype(np.float64)], axis=1)


class TensorBoardLog:
    """Writes ``weights/``, ``gradients/`` histograms and per-layer norm scalars.

    Args:
        run_dir: the run directory; events go to ``run_dir/tensorboard``.
        layers: ``(name, layer)`` pairs, in the order of the flat weight lists.
    """

    def __init__(self, run_dir: Path, layers) -> None:
        self._writer = tf.summary.create_file_writer(str(Path(run_dir) / "tensorboard"))
        self._keys = [key for name, layer in layers for key in weight_keys(name, layer)]
        self._histogram = _metadata("histograms")
        self._scalar = _metadata("scalars")

    def write(self, step: int, weights, gradients, layers: dict) -> None:
        """Log one recorded step.

        Args:
            step: the optimizer step.
            weights: every trainable weight, flat, in layer order.
            gradients: NumPy probe-batch gradients in the same order (may be empty).
            layers: ``{layer: {measure: value}}`` norms of that step.
        """
        with self._writer.as_default():
            for kind, arrays in (("weights", weights), ("gradients", gradients)):
                if not len(arrays):
                    continue  # no probe batch, so no gradients
                for key, array in zip(self._keys, arrays, strict=True):
                    buckets = histogram_buckets(np.asarray(array))
                    tf.summary.write(f"{kind}/{key}", buckets, step, metadata=self._histogram)
            for name, values in layers.items():
                for measure, value in values.items():
                    scalar = tf.constant(value, tf.float32)
                    tf.summary.write(f"{measure}/{name}", scalar, step, metadata=self._scalar)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()
