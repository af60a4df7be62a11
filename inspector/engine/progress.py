"""Progress and cancel: the one protocol every long job in the core follows.

Mining, dissection, the selectivity measures, feature visualisation, attribution
methods that make many passes, the trust checks and the folder export all take
the same two optional callables, so the app (its worker's progress bar and
Cancel button) and the command line (a terminal bar) drive every one alike,
and the core needs no Qt:

* ``progress(done, total, what)``: ``done`` of ``total`` units finished;
  ``what`` names the units or the step ("images mined", "saliency: conv1").
* ``cancelled()``: True when the caller wants the job to stop; the job then
  raises ``CancelledError`` (``check_cancelled``) between two steps, leaving any
  cache it writes consistent.
"""

from __future__ import annotations

from collections.abc import Callable

from inspector.engine.errors import CancelledError

Progress = Callable[[int, int, str], None]
Cancelled = Callable[[], bool]


def check_cancelled(cancelled: Cancelled | None, what: str) -> None:
    """Raise ``CancelledError`` if ``cancelled()`` says so; ``what`` names the job."""
    if cancelled is not None and cancelled():
        raise CancelledError(f"Expected {what} to run to the end. Received: a cancel request.")


def report(progress: Progress | None, done: int, total: int, what: str) -> None:
    """Call ``progress`` when there is one."""
    if progress is not None:
        progress(done, total, what)
