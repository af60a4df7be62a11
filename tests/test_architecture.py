"""The import arrows of docs/design.md, and no import cycles anywhere.

Packages: layer_inspector (the console) -> gui -> models -> inspector, gui -> inspector;
nothing imports layer_inspector. Inside the core, ``engine`` imports none of its
siblings; ``attribution`` uses ``engine``; ``units`` and ``trust`` use ``engine`` and
``attribution``; ``recording`` and ``live`` use ``engine``; ``render`` and ``cli`` sit on top.
Inside the app: ``app -> views, export -> jobs -> inspector``; only ``gui.app`` imports
``gui.app``; nothing in ``gui.jobs`` imports a view, the export or the app; a view never
imports the jobs' machinery (worker, engine cache, long jobs), not even for type hints.
Other imports under ``if TYPE_CHECKING:`` never run, so they do not count.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("inspector", "gui", "models", "layer_inspector")
QT = ("PyQt6", "pyqtgraph", "PySide6", "PyQt5")
CORE_PARTS = ("engine", "attribution", "units", "trust", "recording", "render", "cli", "live")
GUI_PARTS = ("app", "jobs", "views", "widgets", "training", "export")
# The jobs' machinery: what runs the jobs, which views must never reach.
JOB_MACHINERY = ("gui.jobs.worker", "gui.jobs.engine_cache", "gui.jobs.long_jobs")

# Module prefix -> prefixes it must never import.
FORBIDDEN = {
    "inspector": ("models", "gui", "layer_inspector", *QT),
    "models": ("gui", "layer_inspector", *QT),
    "gui": ("layer_inspector",),
    "inspector.engine": tuple(f"inspector.{p}" for p in CORE_PARTS if p != "engine"),
    "inspector.attribution": tuple(
        f"inspector.{p}" for p in ("units", "trust", "recording", "render", "cli")
    ),
    "inspector.units": tuple(f"inspector.{p}" for p in ("trust", "recording", "render", "cli")),
    "inspector.trust": tuple(f"inspector.{p}" for p in ("units", "recording", "render", "cli")),
    "inspector.recording": tuple(
        f"inspector.{p}" for p in ("attribution", "units", "trust", "render", "cli")
    ),
    "inspector.render": ("inspector.cli", "inspector.units", "inspector.trust"),
    "inspector.live": tuple(f"inspector.{p}" for p in CORE_PARTS if p != "engine"),
    "gui.views": ("gui.app", *JOB_MACHINERY),
    "gui.jobs": ("gui.app", "gui.views", "gui.export", "gui.widgets", "gui.training"),
    "gui.export": ("gui.app", "gui.views", "gui.training"),
    "gui.training": tuple(f"gui.{p}" for p in GUI_PARTS if p != "training"),
    "gui.widgets": tuple(f"gui.{p}" for p in GUI_PARTS if p != "widgets"),
}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(path: Path, known: set[str], type_checking: bool = False) -> set[str]:
    """Every module ``path`` imports at run time (at any depth), and with
    ``type_checking`` also those imported only for type hints.

    ``from a.b import c`` counts as ``a.b.c`` when that is a known module, else ``a.b``.
    """
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node) and not type_checking:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in known else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return names


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Module -> the first-party modules it imports, for every module under ``packages``."""
    paths = {module_name(p, root): p for pkg in packages for p in (root / pkg).rglob("*.py")}
    known = set(paths)
    return {
        name: {m for m in imported_modules(path, known) if m in known and m != name}
        for name, path in sorted(paths.items())
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, …, a]``, or None (depth-first search, three colours)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def _matches(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("owner", sorted(FORBIDDEN))
def test_imports_point_one_way(owner):
    paths = {module_name(p): p for pkg in FIRST_PARTY for p in (ROOT / pkg).rglob("*.py")}
    known = set(paths)
    offenders = []
    for name, path in sorted(paths.items()):
        if not _matches(name, owner):
            continue
        bad = sorted(
            m
            for m in imported_modules(path, known)
            if any(_matches(m, f) for f in FORBIDDEN[owner])
        )
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {bad}")
    assert not offenders, "\n".join(offenders)


def test_views_never_reach_the_jobs_machinery_even_for_type_hints():
    paths = {module_name(p): p for pkg in FIRST_PARTY for p in (ROOT / pkg).rglob("*.py")}
    known = set(paths)
    offenders = [
        f"{path.relative_to(ROOT)} imports {sorted(bad)}"
        for name, path in sorted(paths.items())
        if _matches(name, "gui.views")
        and (
            bad := {
                m
                for m in imported_modules(path, known, type_checking=True)
                if any(_matches(m, machinery) for machinery in JOB_MACHINERY)
            }
        )
    ]
    assert not offenders, "\n".join(offenders)


def test_the_type_hint_check_sees_an_import_under_type_checking(tmp_path):
    planted = tmp_path / "view.py"
    planted.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import gui.jobs.worker\n"
    )
    known = {"gui.jobs.worker"}
    assert imported_modules(planted, known) == {"typing"}
    assert "gui.jobs.worker" in imported_modules(planted, known, type_checking=True)


def test_no_import_cycles():
    assert find_cycle(import_graph(ROOT, FIRST_PARTY)) is None


def test_the_cycle_check_finds_a_planted_cycle(tmp_path):
    package = tmp_path / "planted"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from planted.b import thing\n")
    (package / "b.py").write_text("def f():\n    import planted.c\n")
    (package / "c.py").write_text("from planted import a\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import planted.a\n"
    )
    graph = import_graph(tmp_path, ("planted",))
    assert find_cycle(graph) == ["planted.a", "planted.b", "planted.c", "planted.a"]
    (package / "c.py").write_text("")  # break the cycle: none is left
    assert find_cycle(import_graph(tmp_path, ("planted",))) is None


def test_every_package_says_what_lives_there():
    for init in sorted(p for pkg in FIRST_PARTY for p in (ROOT / pkg).rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        lines = [line for line in doc.splitlines() if line.strip()]
        assert 2 <= len(lines) <= 4, f"{init.relative_to(ROOT)}: {len(lines)} docstring lines"


def test_core_and_headless_commands_work_with_qt_blocked(tmp_path):
    """Importing the engine and the CLI must not need Qt (or a display)."""
    script = textwrap.dedent(
        f"""
        import sys
        for name in {QT!r}:
            sys.modules[name] = None  # any import of Qt now fails
        import numpy as np, keras
        import inspector, models
        from layer_inspector import console
        console.build_parser()
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


def test_only_inspector_bundled_reaches_the_models_package_by_name():
    """The core's one door to the bundled package is ``inspector.bundled``, which
    imports it by path for a user whose own ``models`` would shadow it; any other
    core module naming ``models`` in a string import would hide an arrow."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "inspector").rglob("*.py")
        if path.name != "bundled.py" and 'import_module("models' in path.read_text()
    ]
    assert offenders == []
