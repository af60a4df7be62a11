"""The import arrows of DESIGN.md: gui -> models -> inspector, gui -> inspector."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = ("PyQt6", "pyqtgraph", "PySide6", "PyQt5")
FORBIDDEN = {
    "inspector": ("models", "gui", *QT),
    "models": ("gui", *QT),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_never_imports_upwards(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_modules(path) & set(FORBIDDEN[package])
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_core_and_headless_commands_work_with_qt_blocked(tmp_path):
    """Importing the engine and the CLI must not need Qt (or a display)."""
    script = textwrap.dedent(
        f"""
        import sys
        for name in {QT!r}:
            sys.modules[name] = None  # any import of Qt now fails
        import numpy as np, keras
        import inspector, models
        from gui import launcher
        launcher.build_parser()
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3),
                                  keras.layers.Flatten(), keras.layers.Dense(2)])
        result = inspector.Inspector(model).inspect(np.zeros((8, 8, 1), np.float32))
        assert len(result.layers) == 4
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")
