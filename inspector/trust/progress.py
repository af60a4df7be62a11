"""Progress reports and cancellation for the long trust jobs.

The app runs these jobs on its worker thread: it passes ``progress`` to move a
bar and ``cancelled`` to stop between two steps. Both are plain callables so the
core never needs Qt.
"""

from __future__ import annotations

from collections.abc import Callable

from inspector.engine.errors import CancelledError

# progress(done, total, what): ``done`` of ``total`` units finished, ``what`` names the last.
ProgressCallback = Callable[[int, int, str], None]
# cancelled() -> True when the caller wants the job to stop as soon as possible.
CancelCheck = Callable[[], bool]


def check_cancelled(cancelled: CancelCheck | None, what: str) -> None:
    """Raise ``CancelledError`` if ``cancelled()`` says so; ``what`` names the job."""
    if cancelled is not None and cancelled():
        raise CancelledError(f"Expected {what} to run to the end. Received: a cancel request.")


def report(progress: ProgressCallback | None, done: int, total: int, what: str) -> None:
    """Call ``progress`` when there is one."""
    if progress is not None:
        progress(done, total, what)
