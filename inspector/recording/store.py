"""Where ``TrainingRecorder`` puts its arrays: config, probes, snapshots, TensorBoard."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from inspector.engine.errors import RunDirectoryError, UnsupportedModelError
from inspector.engine.preprocessing import Preprocessing, decide_preprocessing
from inspector.recording import run_writer
from inspector.recording.probes import weight_keys

_FLOAT16_MAX = float(np.finfo(np.float16).max)


def display_images(images: np.ndarray, preprocess: Preprocessing | None) -> np.ndarray:
    """uint8 copies of model inputs for showing.

    Args:
        images: float ``(P, H, W, C)`` in the model's value scale.
        preprocess: the model's preprocessing (its inverse gives the raw pixels back),
            or None to stretch the set's min..max.

    Returns:
        uint8 ``(P, H, W, C)``.
    """
    if preprocess is not None:
        return np.clip(preprocess.invert(images) + 0.5, 0, 255).astype(np.uint8)
    low, high = float(images.min()), float(images.max())
    unit = (images - low) / (high - low) if high > low else np.zeros_like(images)
    return np.clip(unit * 255.0 + 0.5, 0, 255).astype(np.uint8)


class SnapshotStore:
    """Writes the run's arrays, each atomically (temp file, then rename).

    Args:
        run_dir: the run directory.
        kernel_layers: ``(name, layer)`` pairs whose weights each snapshot holds.
        activation_probe: an ``ActivationProbe`` or None.
        compress: zlib-compress the ``.npz`` files.
    """

    def __init__(self, run_dir: Path, kernel_layers, activation_probe, compress: bool) -> None:
        self.run_dir = run_dir
        self.kernel_layers = kernel_layers
        self.probe = activation_probe
        self.compress = compress
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run-writer")

    def write_config(self, config: dict | None, settings: dict) -> None:
        """Write ``config.json`` when given a config, or when the run has none yet."""
        path = self.run_dir / run_writer.CONFIG_FILE
        if config is None and path.exists():
            return
        header = {"format": run_writer.FORMAT_NAME, "version": run_writer.FORMAT_VERSION}
        run_writer.write_json(path, {**(config or {}), **header, "recorder": settings})

    def write_probes(self, images: np.ndarray | None, labels, step: int) -> None:
        """Store the probe images once; a continued run must keep the same ones.

        Raises:
            RunDirectoryError: a continued run (step > 0) given other probe images.
        """
        if images is None:
            return
        path = self.run_dir / run_writer.PROBES_FILE
        if path.exists():
            with np.load(path, allow_pickle=False) as stored:
                same = stored["images"].shape == images.shape and np.array_equal(
                    stored["images"], images
                )
            if same:
                return
            if step > 0:
                raise RunDirectoryError(
                    "Expected the same probe images as the run being continued in "
                    f"{str(self.run_dir)!r}. Received: different probe images at step {step}; "
                    "start a new run directory instead."
                )
        arrays = {"images": images, "display": display_images(images, self._preprocess())}
        if labels is not None:
            arrays["labels"] = np.asarray(labels)
        run_writer.write_arrays(path, arrays)

    def _preprocess(self) -> Preprocessing | None:
        model = self.probe.model if self.probe is not None else None
        if model is None:
            return None
        try:
            return decide_preprocessing(model)
        except UnsupportedModelError:
            return None

    def write_snapshot(self, step: int, *, sync: bool = True) -> Future:
        """Save every kernel layer's weights and the probe activations.

        The arrays are taken now, in the calling (training) thread; compressing
        and writing them happens on a background thread, off the training path.

        Returns:
            A future whose result is the snapshot's path relative to the run.
        """
        arrays = self._snapshot_arrays()
        relative = run_writer.snapshot_file(step)
        path = self.run_dir / relative
        return self._writer.submit(self._write, path, arrays, sync, relative)

    def _write(self, path: Path, arrays: dict, sync: bool, relative: str) -> str:
        run_writer.write_arrays(
            path, arrays, compress=self.compress, sync=sync, stored=("weights/",)
        )
        return relative

    def in_background(self, function, *args) -> Future:
        """Run ``function(*args)`` on the writer thread, after the writes queued so far."""
        return self._writer.submit(function, *args)

    def close(self) -> None:
        """Wait for every pending write and stop the writer thread."""
        self._writer.shutdown(wait=True)

    def _snapshot_arrays(self) -> dict[str, np.ndarray]:
        arrays = {}
        for name, layer in self.kernel_layers:
            for key, weight in zip(weight_keys(name, layer), layer.trainable_weights, strict=True):
                arrays[f"weights/{key}"] = np.asarray(weight.numpy(), np.float32)
        if self.probe is not None:
            for name, activation in self.probe.activations().items():
                # float16 halves the size; ReLU maps do not need more digits to show.
                clipped = np.clip(activation, -_FLOAT16_MAX, _FLOAT16_MAX)
                arrays[f"activations/{name}"] = clipped.astype(np.float16)
        return arrays
