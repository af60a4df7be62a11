"""The docs are a tested product: a short README, and every ``python`` block of the
README, the quick start and the API pages runs as written on the bundled model.

Blocks run in order, one namespace per page, in a fresh working folder (as
``pytest --doctest-glob`` runs a text file's examples); other fences (``bash``,
``text``, ``py``) are for reading only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README_LIMIT = 12 * 1024
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)


def python_blocks(text: str) -> list[str]:
    """The bodies of the ```python fenced blocks of a Markdown text, in order."""
    return [match.group(1) for match in FENCE.finditer(text)]


def pages_with_code() -> list[Path]:
    pages = [ROOT / "README.md", ROOT / "docs" / "quickstart.md"]
    return pages + sorted((ROOT / "docs" / "api").glob("*.md"))


def test_readme_is_at_most_12_kb():
    size = (ROOT / "README.md").stat().st_size
    assert size <= README_LIMIT, f"README.md is {size} bytes; the limit is {README_LIMIT}"


def test_the_block_finder_sees_python_blocks_only():
    text = "a\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = x\n```\n"
    assert python_blocks(text) == ["x = 1\n", "y = x\n"]


@pytest.mark.parametrize("page", pages_with_code(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_blocks_run_as_written(page, tmp_path, monkeypatch):
    assert page.is_file(), f"{page.relative_to(ROOT)} is missing"
    blocks = python_blocks(page.read_text())
    if page.name == "README.md" or page.name == "quickstart.md":
        assert blocks, f"{page.name} has no python quick start"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{page.name} block {number}", "exec")
        exec(code, namespace)  # the page's own example, run as a reader would
