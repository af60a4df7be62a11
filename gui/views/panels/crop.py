"""The crop view: the ORIGINAL image with the crop that was fed to the model.

The crop rectangle can be dragged and resized; releasing it emits
``crop_changed((left, top, right, bottom))`` in original-image pixels, and the
main window re-runs the inspection with that crop (``Session.set_crop``). The
"Automatic crop" button asks for the face (or centre) crop again.

The rectangle keeps the model input's aspect ratio when one is known, because
``load_image`` resizes a given crop to the input size without re-cropping: a
free rectangle would squash the picture.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PIL import Image
from PyQt6.QtCore import QRectF, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from inspector.engine.inspection import Inspection

Box = tuple[int, int, int, int]
# Pictures larger than this (longest side) are shown downscaled; the rectangle
# still works in original pixels because the image item is stretched back.
DISPLAY_MAX_SIDE = 2048
KIND_NOTES = {
    "face": "Crop around the face found by the LBP frontal-face cascade",
    "centre": "Centre crop (no face found)",
    "user": "Your crop",
    "none": "Whole image (it fits the model as it is)",
}
_ROI_PEN = pg.mkPen((255, 200, 0), width=2)


def read_original(source: str | Path | np.ndarray) -> np.ndarray:
    """The picture as uint8 RGB ``(H, W, 3)``, from a file (EXIF-rotated) or an array.

    Raises:
        ImageLoadError: an unreadable file, or an array that is not a picture.
    """
    from inspector.engine.errors import ImageLoadError

    if isinstance(source, (str, Path)):
        from inspector.engine.image_loading import open_image

        return np.asarray(open_image(source).convert("RGB"))
    array = np.asarray(source)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=-1)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[-1] not in (3, 4):
        raise ImageLoadError(
            "Expected a uint8 picture of shape (H, W, 3). "
            f"Received: dtype={array.dtype}, shape={array.shape}."
        )
    return array[..., :3]


def display_copy(original: np.ndarray, max_side: int = DISPLAY_MAX_SIDE) -> np.ndarray:
    """``original`` itself, or a downscaled copy whose longest side is ``max_side``."""
    height, width = original.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1.0:
        return original
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    picture = Image.fromarray(np.ascontiguousarray(original))
    return np.asarray(picture.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0))


def clip_box(box: tuple[float, float, float, float], width: int, height: int) -> Box:
    """Round a float box to whole pixels inside ``(0, 0, width, height)``, >= 1 px."""
    left = min(max(0, round(box[0])), width - 1)
    top = min(max(0, round(box[1])), height - 1)
    right = min(max(left + 1, round(box[2])), width)
    bottom = min(max(top + 1, round(box[3])), height)
    return left, top, right, bottom


class CropView(QWidget):
    """Shows the original image and the crop rectangle; lets the user move it.

    Signals:
        crop_changed(box): the user moved or resized the rectangle; ``box`` is
            ``(left, top, right, bottom)`` in original pixels, right/bottom exclusive.
        auto_crop_requested(): the user wants the automatic crop back.
    """

    crop_changed = pyqtSignal(tuple)
    auto_crop_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._size: tuple[int, int] | None = None  # (width, height) of the original
        self._box: Box | None = None
        self._aspect: float | None = None
        self.graphics = pg.GraphicsLayoutWidget()
        self.view_box = self.graphics.addViewBox(lockAspect=True, invertY=True)
        self.view_box.setMenuEnabled(False)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.view_box.addItem(self.image_item)
        self.roi: pg.ROI | None = None
        self.note_label = QLabel()
        self.note_label.setWordWrap(True)
        self.auto_button = QPushButton("Automatic crop")
        self.auto_button.setToolTip("Crop to the face if one is found, else to the centre")
        self.auto_button.clicked.connect(self.auto_crop_requested)
        row = QHBoxLayout()
        row.addWidget(self.note_label, 1)
        row.addWidget(self.auto_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.graphics, 1)
        layout.addLayout(row)
        self.clear()

    # --- public API ----------------------------------------------------------------
    def box(self) -> Box | None:
        """The crop shown, ``(left, top, right, bottom)``; the whole image if none."""
        return self._box

    def set_source(
        self,
        source: str | Path | np.ndarray,
        box: Box | None,
        *,
        kind: str = "",
        aspect: float | None = None,
    ) -> None:
        """Show the original picture and the crop used on it.

        Args:
            source: the image file, or its pixels as uint8 RGB ``(H, W, 3)``
                before any cropping or resizing.
            box: the crop ``(left, top, right, bottom)``; None means the whole image.
            kind: how the crop was chosen: ``"face"``, ``"centre"``, ``"user"``, ``"none"``.
            aspect: width / height to keep while the user resizes; None = free
                (default: the aspect set by ``set_inspection``).
        """
        original = read_original(source)
        height, width = original.shape[:2]
        self._size = (width, height)
        if aspect is not None:
            self._aspect = aspect
        self.image_item.setImage(display_copy(original), autoLevels=False, levels=(0, 255))
        self.image_item.setRect(QRectF(0, 0, width, height))
        self._box = clip_box(box or (0, 0, width, height), width, height)
        self._make_roi()
        self.view_box.autoRange(padding=0.02)
        self.auto_button.setEnabled(True)
        self._describe(KIND_NOTES.get(kind, ""))

    def set_inspection(self, inspection: Inspection) -> None:
        """Keep the user's rectangle at the model input's aspect (W / H)."""
        height, width = inspection.image.shape[:2]
        aspect = width / height
        if aspect != self._aspect:
            self._aspect = aspect
            if self._box is not None:
                self._make_roi()

    def clear(self) -> None:
        """Show nothing."""
        self._size = None
        self._box = None
        self.image_item.clear()
        self._remove_roi()
        self.note_label.setText("No image.")
        self.auto_button.setEnabled(False)

    # --- internals -------------------------------------------------------------------
    def _remove_roi(self) -> None:
        if self.roi is not None:
            self.view_box.removeItem(self.roi)
            self.roi = None

    def _make_roi(self) -> None:
        self._remove_roi()
        left, top, right, bottom = self._box
        width, height = self._size
        self.roi = pg.ROI(
            (left, top),
            (right - left, bottom - top),
            pen=_ROI_PEN,
            maxBounds=QRectF(0, 0, width, height),
            rotatable=False,
            resizable=False,
        )
        lock = self._aspect is not None
        # Each corner scales about the opposite one.
        for corner in ((0, 0), (1, 0), (0, 1), (1, 1)):
            opposite = (1 - corner[0], 1 - corner[1])
            self.roi.addScaleHandle(corner, opposite, lockAspect=lock)
        self.roi.sigRegionChangeFinished.connect(self._on_roi_finished)
        self.view_box.addItem(self.roi)

    def _on_roi_finished(self, roi: pg.ROI) -> None:
        if self._size is None:
            return
        x, y = roi.pos()
        w, h = roi.size()
        box = clip_box((x, y, x + w, y + h), *self._size)
        if box == self._box:
            return
        self._box = box
        self._describe(KIND_NOTES["user"])
        self.crop_changed.emit(box)

    def _describe(self, note: str) -> None:
        left, top, right, bottom = self._box
        width, height = self._size
        parts = [note] if note else []
        parts.append(
            f"box ({left}, {top}, {right}, {bottom}) = {right - left}x{bottom - top} "
            f"of the {width}x{height} original"
        )
        self.note_label.setText(" · ".join(parts) + ". Drag the rectangle to change it.")
