"""Follow the face in a stream: detect on a small copy every few frames, track between.

The still-image face crop (``engine.face_crop``) scans a 320-pixel copy on
every call, about 50-90 ms: more than a whole inspection of a small model. A
stream changes little from one frame to the next, so the tracker:

* detects on a copy whose longest side is ``side`` pixels (200 by default:
  ~0.4x the pixels of the still path's copy, and a webcam face stays well
  above the cascade's 24-pixel window) and only every ``every`` frames;
* between detections moves the last box on at the face's estimated velocity,
  and blends each new detection with that prediction (an alpha-beta filter on
  the box corners: weight ``smoothing`` on the prediction, ``1 - smoothing``
  on the detection; the velocity is corrected by ``velocity_gain`` times the
  miss per frame), so the crop neither jitters with the cascade's 1-2 pixel
  noise nor trails a moving head;
* when a detection finds nothing, keeps the last box for ``patience`` frames
  (kind ``"lost"``), then falls back to the centre (kind ``"centre"``), and says so.

The padded, model-shaped crop is ``face_crop.padded_box`` of the tracked face,
the same rule as a still photo's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from inspector.engine.face_crop import detect_face, padded_box

Box = tuple[int, int, int, int]
# What each kind means, for a status bar.
KIND_WORDS = {
    "face": "face found",
    "tracked": "face tracked",
    "lost": "no face: last box",
    "centre": "no face: centre",
}


@dataclass(frozen=True)
class Track:
    """Where the model looks in one frame.

    Attributes:
        box: the crop ``(left, top, right, bottom)`` in frame pixels at the model's
            aspect; None for the centre crop.
        kind: ``"face"`` (detected in this frame), ``"tracked"`` (between
            detections), ``"lost"`` (not found; last box kept) or ``"centre"``.
        face: the smoothed face box itself (before padding), or None.
    """

    box: Box | None
    kind: str
    face: Box | None = None

    @property
    def words(self) -> str:
        return KIND_WORDS[self.kind]


class FaceTracker:
    """Detect-then-track face crops for a stream (see the module docstring).

    Args:
        aspect: the model input's width / height.
        every: detect on every ``every``-th frame (1 = every frame).
        side: longest side of the copy the detector scans, in pixels.
        smoothing: weight of the predicted box against a detection, in ``[0, 1)``.
        velocity_gain: how much of a prediction's miss corrects the velocity, ``[0, 1]``.
        patience: frames a lost face's box is kept before the centre is used.
        find_face: ``RGB uint8 (H, W, 3) -> face box or None`` (default: the
            LBP cascade of ``engine.face_crop``).
    """

    def __init__(
        self,
        aspect: float,
        *,
        every: int = 5,
        side: int = 200,
        smoothing: float = 0.5,
        velocity_gain: float = 0.5,
        patience: int = 15,
        find_face: Callable[[np.ndarray], Box | None] = detect_face,
    ) -> None:
        if every < 1 or side < 24 or not 0 <= smoothing < 1 or patience < 0:
            raise ValueError(
                "Expected every >= 1, side >= 24, 0 <= smoothing < 1 and patience >= 0. "
                f"Received: {every}, {side}, {smoothing}, {patience}."
            )
        if not 0 <= velocity_gain <= 1:
            raise ValueError(f"Expected 0 <= velocity_gain <= 1. Received: {velocity_gain}.")
        self.velocity_gain = velocity_gain
        self.aspect = aspect
        self.every, self.side, self.smoothing, self.patience = every, side, smoothing, patience
        self._find = find_face
        self._face: np.ndarray | None = None  # corners at the last detection, float (4,)
        self._velocity = np.zeros(4)  # corners' pixels per frame
        self._count = 0
        self._missed = 0  # frames since the face was last seen
        self._since = 0  # frames since the last detection that found it

    def update(self, frame: np.ndarray) -> Track:
        """The crop for this frame; detects on every ``every``-th call.

        Args:
            frame: uint8 RGB ``(H, W, 3)``.
        """
        height, width = frame.shape[:2]
        detect = self._count % self.every == 0
        self._count += 1
        self._since += 1
        if detect:
            found = self._detect(frame)
            if found is not None:
                self._missed = 0
                self._correct(np.asarray(found, dtype=float))
                return self._track("face", width, height)
        self._missed += 1
        if self._face is None or self._missed > self.patience:
            self._face = None
            return Track(None, "centre")
        return self._track("tracked" if self._missed < self.every else "lost", width, height)

    def _detect(self, frame: np.ndarray) -> tuple[float, ...] | None:
        height, width = frame.shape[:2]
        scale = min(1.0, self.side / max(height, width))
        small = frame
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = np.asarray(Image.fromarray(frame).resize(size, Image.Resampling.BILINEAR))
        found = self._find(small)
        return None if found is None else tuple(v / scale for v in found)

    def _predicted(self) -> np.ndarray:
        return self._face + self._velocity * self._since

    def _correct(self, found: np.ndarray) -> None:
        """Blend a detection into the prediction and correct the velocity."""
        if self._face is None or _overlap(self._predicted(), found) < 0.3:
            self._face, self._velocity = found, np.zeros(4)  # a new face or a jump
        else:
            predicted = self._predicted()
            miss = found - predicted
            self._velocity = self._velocity + self.velocity_gain * miss / self._since
            self._face = predicted + (1 - self.smoothing) * miss
        self._since = 0

    def _track(self, kind: str, width: int, height: int) -> Track:
        face = tuple(round(float(v)) for v in self._predicted())
        return Track(padded_box(face, (width, height), aspect=self.aspect), kind, face)


def _overlap(a, b) -> float:
    """Intersection over union of two ``(left, top, right, bottom)`` boxes."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
