"""Shared pieces of the ``units`` and ``dissect`` commands: checks, staging, progress."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from pathlib import Path

from inspector.engine.atomic_files import write_folder
from inspector.engine.errors import ExportError


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1; received {text!r}")
    return value


def layer_names(text: str | None) -> list[str] | None:
    """None for ``all-conv`` (or no flag), else the comma list."""
    if text is None or text.strip() == "all-conv":
        return None
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ExportError(f"Expected --layers all-conv or NAME,NAME. Received: {text!r}.")
    return names


def open_probe(args: argparse.Namespace, models: Mapping[str, Path] | None):
    """What ``units`` and ``dissect`` do first: check ``--out``, ``--layers`` and the
    form of ``--scheduler`` (before the model loads), then load the model with the
    shared model options (``model_options.open_model``).

    Returns:
        ``(OpenedModel, LayerProbe)``; the probe feeds the model its one
        preprocessing and its inputs.
    """
    from inspector.cli.model_options import open_model
    from inspector.units.cluster import parse_scheduler

    check_out(args.out)
    layers = layer_names(args.layers)
    if args.scheduler:
        parse_scheduler(args.scheduler)  # a malformed address fails before the model loads
    opened = open_model(args, models)
    return opened, opened.probe(layers)


def cluster_client(scheduler: str | None):
    """A connected Dask client for ``--scheduler``, or a context yielding None without one."""
    from inspector.units.cluster import dask_client

    return dask_client(scheduler) if scheduler else nullcontext()


def check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(
            f"Expected --out to be a folder. Received: {str(out)!r}, which is a file."
        )


def write_staged(out: Path, write: Callable[[Path], None]) -> None:
    """Run ``write(folder)`` in a hidden sibling folder, then move the result into ``out``.

    Nothing appears in ``out`` unless ``write`` finished.
    """
    try:
        write_folder(out, write)
    except OSError as error:
        raise ExportError(f"Expected to write into {str(out)!r}. Received: {error}.") from None


class ProgressBar:
    """``mining  1200/5000 images  310 img/s  ETA 12 s`` on stderr, only on a terminal
    (so that when a command fails, stderr still holds just the one error line). The
    ETA comes from the rate since the first report."""

    def __init__(self, label: str, stream=None, unit: str = "images") -> None:
        self.label, self.stream, self.unit = label, stream or sys.stderr, unit
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.perf_counter()
        self.first: tuple[int, float] | None = None

    def __call__(self, done: int, total: int, what: str = "") -> None:
        """One ``inspector.engine.progress`` report; the bar shows its own label."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.first is None:
            self.first = (done, now)  # resumed shards arrive at once; rate from here
        count, since = done - self.first[0], now - self.first[1]
        rate = count / since if since > 0 else 0.0
        eta = f"ETA {(total - done) / rate:.0f} s" if rate > 0 else "ETA ?"
        width = 30
        filled = int(width * done / max(total, 1))
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\r{self.label} [{bar}] {done}/{total} {self.unit}  {rate:.0f}/s  {eta}   "
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
