"""Test videos: a bundled face photo moving across a noisy background, then a cut.

Frames ``0 .. cut-1`` hold the face (220x220 px, an ORL photo upscaled) whose
left edge moves linearly from x=40 to x=w-260; frames from ``cut`` on are a
horizontal grey ramp with no face. Written as MJPG AVI by OpenCV.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

FACE_SIZE = 220
FACE_TOP = 130


def face_picture(index: int = 3) -> np.ndarray:
    """A bundled face photo as uint8 RGB ``(220, 220, 3)``."""
    import inspector

    grey = inspector.bundled_data("bundled-faces", (112, 112, 1)).images[index]
    rgb = np.repeat(grey, 3, axis=-1)
    return np.asarray(Image.fromarray(rgb).resize((FACE_SIZE, FACE_SIZE)))


def face_left(frame: int, cut: int, width: int) -> int:
    """Where the face's left edge is in ``frame`` (before the cut)."""
    return 40 + int((width - FACE_SIZE - 80) * frame / max(1, cut - 1))


def frames(count: int, cut: int, size=(640, 480)) -> list[np.ndarray]:
    """The RGB frames of the clip."""
    width, height = size
    face = face_picture()
    background = (np.random.default_rng(0).random((height, width, 3)) * 60 + 80).astype(np.uint8)
    ramp = np.broadcast_to(
        np.linspace(0, 255, width, dtype=np.uint8)[None, :, None], background.shape
    )
    out = []
    for number in range(count):
        if number < cut:
            frame = background.copy()
            left = face_left(number, cut, width)
            frame[FACE_TOP : FACE_TOP + FACE_SIZE, left : left + FACE_SIZE] = face
        else:
            frame = np.ascontiguousarray(ramp)
        out.append(frame)
    return out


def write_video(
    path: Path, count: int = 60, cut: int = 40, fps: float = 30.0, size=(640, 480)
) -> Path:
    """Write the clip to ``path`` (.avi, MJPG) and return it."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), "OpenCV could not open a video writer"
    for frame in frames(count, cut, size):
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    return path
