"""The suite runs in a sandboxed home: no test reads or writes the user's state."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import SANDBOX, tree_state


def test_home_settings_and_caches_point_into_the_sandbox(qapp):
    from PyQt6.QtCore import QSettings

    from inspector.units.cache import default_cache_root

    assert Path.home().is_relative_to(SANDBOX)
    assert default_cache_root().is_relative_to(SANDBOX)
    assert Path(QSettings("layer-inspector", "layer-inspector").fileName()).is_relative_to(SANDBOX)
    assert Path(os.environ["KERAS_HOME"]).is_relative_to(SANDBOX)


def test_the_guard_sees_a_write(tmp_path):
    folder = tmp_path / "watched"
    folder.mkdir()
    before = tree_state((folder,))
    (folder / "layer-inspector.conf").write_text("[General]\n")
    assert tree_state((folder,)) != before
