"""Crash-safe writing of a run directory (the format is described in run_directory.py).

Two rules make a run survive ``kill -9`` at any instant:

* ``records.jsonl`` is only ever appended to, one whole line per ``write`` call,
  flushed at once. A kill can leave at most one partial last line, which the
  reader drops.
* Every array file is written under a temporary name and then ``os.replace``d
  into place, and its record is appended only after the rename. So a record never
  points at a half-written file.

``fsync`` guards against power loss, not against a killed process (whose written
data the kernel keeps), so it is paid where losing data would hurt: the epoch-end
snapshot files and the records at the end of each epoch and of training, and the
``TrainingRecorder`` does even those on its writer thread.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np

from inspector.engine.atomic_files import write_bytes
from inspector.engine.errors import RunDirectoryError

FORMAT_NAME = "layer-inspector run"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
RECORDS_FILE = "records.jsonl"
PROBES_FILE = "probes.npz"
SNAPSHOT_DIR = "snapshots"


def snapshot_file(step: int) -> str:
    """Relative path of the snapshot taken after ``step`` updates."""
    return f"{SNAPSHOT_DIR}/step_{step:09d}.npz"


def _json_safe(value):
    # NaN and inf are legal in Python's JSON dialect; numpy scalars are not JSON.
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return value
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def write_bytes_atomically(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename
    (``inspector.engine.atomic_files``)."""
    try:
        write_bytes(path, data, sync=sync)
    except OSError as error:
        raise RunDirectoryError(
            f"Expected to write {path.name!r} in the run directory {str(path.parent)!r}. "
            f"Received: {type(error).__name__}: {error}."
        ) from None


def npz_bytes(
    arrays: dict[str, np.ndarray], *, compress: bool = True, stored: tuple[str, ...] = ()
) -> bytes:
    """The bytes of an ``.npz`` file holding ``arrays`` (``np.load`` reads it).

    Same layout as ``np.savez_compressed`` (a zip of ``.npy`` files, no pickled
    objects), but deflated at level 1: about twice as fast as numpy's default
    level for files within a few percent of the size. Keys starting with one of
    ``stored`` are kept uncompressed (trained float32 weights shrink by ~7 %
    only, not worth a third of the time).
    """
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method, compresslevel=1 if compress else None) as archive:
        for key, array in arrays.items():
            name = key + ".npy"
            if key.startswith(stored):
                name = zipfile.ZipInfo(name)  # fixed 1980 timestamp, like numpy's
                name.compress_type = zipfile.ZIP_STORED
            with archive.open(name, "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def write_arrays(
    path: Path,
    arrays: dict[str, np.ndarray],
    *,
    compress: bool = True,
    sync: bool = True,
    stored: tuple[str, ...] = (),
) -> None:
    """Save ``arrays`` as an ``.npz`` (no pickled objects), atomically."""
    data = npz_bytes(arrays, compress=compress, stored=stored)
    write_bytes_atomically(path, data, sync=sync)


def write_json(path: Path, value: dict) -> None:
    """Write ``value`` as pretty JSON, atomically."""
    text = json.dumps(_json_safe(value), indent=2, sort_keys=True) + "\n"
    write_bytes_atomically(path, text.encode())


class RecordAppender:
    """Appends JSON records to ``records.jsonl``, one flushed line each."""

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / RECORDS_FILE
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / SNAPSHOT_DIR).mkdir(exist_ok=True)
            self._handle = open(self.path, "ab")  # noqa: SIM115 - kept open for the run
        except OSError as error:
            raise RunDirectoryError(
                f"Expected a writable run directory. Received: {str(run_dir)!r} "
                f"({type(error).__name__}: {error})."
            ) from None
        self._end_partial_line()

    def _end_partial_line(self) -> None:
        # A killed writer may have left a line without its newline; start afresh
        # on a new line so the next record is not glued to the broken one.
        size = self.path.stat().st_size
        if size:
            with open(self.path, "rb") as reader:
                reader.seek(size - 1)
                if reader.read(1) != b"\n":
                    self._handle.write(b"\n")
                    self._handle.flush()

    def append(self, record: dict, *, sync: bool = False) -> dict:
        """Write one record as one line; return the JSON-safe record written."""
        record = _json_safe(record)
        line = json.dumps(record, separators=(",", ":")) + "\n"
        self._handle.write(line.encode())
        self._handle.flush()
        if sync:
            os.fsync(self._handle.fileno())
        return record

    def sync(self) -> None:
        """fsync what was appended so far (safe to call from another thread)."""
        if not self._handle.closed:
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
