"""Atomic writes, the one way the project writes a file or a folder.

A reader sees the old file or the new one, never half of one; a failed write
leaves nothing behind. Every file goes to a hidden temporary sibling with the
same suffix (libraries choose the format by suffix: Pillow, ``np.savez``,
``keras.Model.save``), then ``os.replace`` renames it, which is atomic on one
file system. A folder is written whole into a hidden sibling folder and then
moved into place, entry by entry when the folder already exists, putting the
previous entries back if a move fails.

The callers wrap ``OSError`` in their own error (``ExportError``,
``RunDirectoryError``): what failed is theirs to say.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_file(path: str | Path, write: Callable[[Path], None], *, sync: bool = False) -> Path:
    """Call ``write(temporary)`` beside ``path``, then rename the result to ``path``.

    Args:
        path: the file to (re)place; its folder is made if missing.
        write: writes the whole file at the path it is given (same suffix as ``path``).
        sync: flush the file to disk before the rename (a crash then keeps it).

    Returns:
        ``path``.

    Raises:
        OSError: the folder is not writable, or ``write`` wrote nothing; anything
            ``write`` raises passes through. The temporary file is removed either way.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent
    )
    os.close(descriptor)
    temporary = Path(name)
    try:
        write(temporary)
        if temporary.stat().st_size == 0:
            raise OSError(f"nothing was written to {path.name}")
        if sync:
            with open(temporary, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def write_bytes(path: str | Path, data: bytes, *, sync: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (``write_file``)."""
    return write_file(path, lambda temporary: temporary.write_bytes(data), sync=sync)


def write_folder(out: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(folder)`` on a hidden sibling of ``out``, then move it into place.

    A new ``out`` is one rename. Into an existing ``out`` each written entry
    replaces the one of the same name; other entries stay. Nothing appears in
    ``out`` unless ``write`` finished.

    Raises:
        OSError: the parent is not writable or a move failed (the previous entries
            are then put back); anything ``write`` raises passes through.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    staged.chmod(0o755)  # mkdtemp makes it private; the result is an ordinary folder
    try:
        write(staged)
        _move_into_place(staged, out)
    finally:
        shutil.rmtree(staged, ignore_errors=True)  # only left after a failure
    return out


def _move_into_place(staged: Path, out: Path) -> None:
    """Rename ``staged`` to ``out``, or swap its entries into an existing folder."""
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()
    if not out.exists():
        staged.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    placed: list[Path] = []
    keep_old = False
    try:
        for entry in sorted(staged.iterdir()):
            target = out / entry.name
            if target.exists():
                target.rename(old / entry.name)
            entry.rename(target)
            placed.append(target)
    except OSError as error:
        # Put the previous entries back as they were before reporting the failure.
        for target in placed:
            shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(
                missing_ok=True
            )
        stuck = []
        for entry in sorted(old.iterdir()):
            try:
                entry.rename(out / entry.name)
            except OSError:
                stuck.append(entry.name)
        if stuck:
            keep_old = True  # never delete the only copy of the user's previous files
            raise OSError(
                f"{error}; the previous {', '.join(stuck)} could not be put back and "
                f"are kept in {old}"
            ) from None
        raise
    finally:
        if not keep_old:
            shutil.rmtree(old, ignore_errors=True)
