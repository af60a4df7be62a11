"""Shared test set-up: quiet TensorFlow, headless Qt, seeded randomness, and a
sandboxed home so that the suite never reads or writes the user's own settings,
cache or Keras folder.

The sandbox is set before anything imports Qt or Keras: ``HOME``, the XDG
folders and ``LAYER_INSPECTOR_CACHE`` point into one temporary folder, which
subprocesses inherit; ``tests/test_sandbox.py`` fails if any path the code
writes to resolves outside it. At the end of the session the user's real
``~/.config/layer-inspector`` and ``~/.cache/layer-inspector`` are compared with
what they were at the start and any change is reported: a warning, not a
failure, because the app or a benchmark running beside the suite writes there
too, and a file cannot say which process wrote it.
"""

import os
import tempfile
from pathlib import Path

REAL_HOME = Path.home()
SANDBOX = Path(tempfile.mkdtemp(prefix="layer-inspector-tests-"))
for name, sub in (
    ("HOME", "home"),
    ("XDG_CONFIG_HOME", "home/.config"),
    ("XDG_CACHE_HOME", "home/.cache"),
    ("XDG_DATA_HOME", "home/.local/share"),
    ("LAYER_INSPECTOR_CACHE", "cache"),
    ("KERAS_HOME", "home/.keras"),
):
    os.environ[name] = str(SANDBOX / sub)
    (SANDBOX / sub).mkdir(parents=True, exist_ok=True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keras  # noqa: E402 - after the sandbox, which Keras reads at import
import pytest  # noqa: E402

# The user's own app state, which no test may touch.
WATCHED = (REAL_HOME / ".config" / "layer-inspector", REAL_HOME / ".cache" / "layer-inspector")


def tree_state(folders=WATCHED) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime in ns) of every file under ``folders``."""
    state = {}
    for folder in folders:
        if folder.is_dir():
            for path in folder.rglob("*"):
                if path.is_file():
                    stat = path.stat()
                    state[str(path)] = (stat.st_size, stat.st_mtime_ns)
    return state


def pytest_sessionstart(session):
    session.config._user_state = tree_state()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_user_state", None)
    if before is None:
        return
    after = tree_state()
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    if changed:
        print(
            f"\nwarning: the user's own layer-inspector folders changed during the run "
            f"(this suite, or an app or benchmark beside it): {changed[:5]}"
        )


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state."""
    keras.utils.set_random_seed(0)
