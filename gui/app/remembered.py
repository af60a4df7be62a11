"""What the app remembers between runs: the last model, image, crop, layer and tab.

Kept in the same ``QSettings`` as the recent files (tests pass a temporary INI
file, never the user's). A remembered file that has gone is forgotten quietly;
a remembered model that no longer loads falls back to the bundled one like any
model given at startup. A model opened as trusted (Lambda code) is remembered
without the trust, so the next run asks again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PyQt6.QtCore import QSettings

GROUP = "last_session"
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Remembered:
    """The last session, as far as its files still exist.

    Attributes:
        model: the model file, or None (the bundled model).
        image: the image file, or None (the first sample).
        crop: the user's ``(left, top, right, bottom)`` box on ``image``, or None
            (automatic).
        layer: the layer shown in the feature-map view, or None.
        tab: the index of the tab shown.
    """

    model: Path | None = None
    image: Path | None = None
    crop: Box | None = None
    layer: str | None = None
    tab: int = 0


def _existing(value) -> Path | None:
    path = Path(value) if value else None
    return path if path is not None and path.is_file() else None


def _box(value) -> Box | None:
    try:
        box = tuple(int(v) for v in str(value).split(","))
    except ValueError:
        return None
    return box if len(box) == 4 else None


def load_remembered(settings: QSettings) -> Remembered:
    """The remembered session (defaults for anything missing or unreadable)."""
    settings.beginGroup(GROUP)
    try:
        image = _existing(settings.value("image"))
        try:
            tab = int(settings.value("tab", 0))
        except (TypeError, ValueError):
            tab = 0
        return Remembered(
            model=_existing(settings.value("model")),
            image=image,
            crop=_box(settings.value("crop", "")) if image is not None else None,
            layer=settings.value("layer") or None,
            tab=max(tab, 0),
        )
    finally:
        settings.endGroup()


def save_remembered(settings: QSettings, remembered: Remembered) -> None:
    """Store ``remembered`` (written to disk at once: the app may be killed)."""
    settings.beginGroup(GROUP)
    try:
        settings.setValue("model", str(remembered.model) if remembered.model else "")
        settings.setValue("image", str(remembered.image) if remembered.image else "")
        crop = remembered.crop
        settings.setValue("crop", ",".join(str(v) for v in crop) if crop else "")
        settings.setValue("layer", remembered.layer or "")
        settings.setValue("tab", int(remembered.tab))
    finally:
        settings.endGroup()
    settings.sync()


def remembered_from(window) -> Remembered | None:
    """What a ``MainWindow`` shows now, or None before its first answer."""
    state = window.session.state
    if state is None:
        return None
    return Remembered(
        model=state.request.model_path,
        image=state.request.image_path,
        crop=state.crop if state.crop_kind == "user" else None,
        layer=window.feature_view.layer_name,
        tab=window.tabs.currentIndex(),
    )
