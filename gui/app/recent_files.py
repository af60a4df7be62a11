"""Recently opened models, images and runs, kept in QSettings across sessions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import QObject, QSettings, pyqtSignal
from PyQt6.QtWidgets import QMenu

KINDS = ("model", "image", "run")
ORGANISATION = "layer-inspector"
APPLICATION = "layer-inspector"


class RecentFiles(QObject):
    """Most recent first, without duplicates, at most ``limit`` entries.

    Entries are stored as ``"kind|path"`` strings under ``key``. Files that no
    longer exist are skipped when listed (and dropped on the next ``add``).

    Signals:
        changed(): the list changed.
    """

    changed = pyqtSignal()

    def __init__(
        self,
        settings: QSettings | None = None,
        key: str = "recent_files",
        limit: int = 10,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or QSettings(ORGANISATION, APPLICATION)
        self.key = key
        self.limit = limit

    def entries(self) -> list[tuple[str, Path]]:
        """``(kind, path)`` of files that still exist, most recent first."""
        found = []
        for text in self._stored():
            kind, _, path = text.partition("|")
            if kind in KINDS and Path(path).exists():
                found.append((kind, Path(path)))
        return found

    def add(self, kind: str, path: str | Path) -> None:
        """Put ``path`` first in the list."""
        if kind not in KINDS:
            raise ValueError(f"Expected a kind in {KINDS}. Received: kind={kind!r}.")
        entry = f"{kind}|{Path(path).resolve()}"
        kept = [f"{k}|{p}" for k, p in self.entries() if f"{k}|{p}" != entry]
        self.settings.setValue(self.key, [entry, *kept][: self.limit])
        self.settings.sync()
        self.changed.emit()

    def clear(self) -> None:
        self.settings.remove(self.key)
        self.settings.sync()
        self.changed.emit()

    def fill_menu(self, menu: QMenu, open_entry: Callable[[str, Path], None]) -> None:
        """Replace ``menu``'s actions with one per entry, then "Clear recent files"."""
        menu.clear()
        entries = self.entries()
        for kind, path in entries:
            action = menu.addAction(f"{path.name}  ({kind}, {path.parent})")
            action.triggered.connect(lambda _=False, k=kind, p=path: open_entry(k, p))
        if not entries:
            menu.addAction("(none yet)").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Clear recent files", self.clear)

    def _stored(self) -> list[str]:
        value = self.settings.value(self.key, [])
        if isinstance(value, str):  # QSettings returns a lone entry as a plain string
            return [value]
        return [str(v) for v in value or []]
