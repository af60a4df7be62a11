"""Run a headless command: one line on stderr and exit code 2 for any bad input.

argparse would print usage plus an error (two lines) and exit itself; here every
parser raises ``UsageError`` instead, and ``run_cli`` turns that and any
``InspectorError`` into the one line the commands promise. Anything else (a bug,
a model that breaks TensorFlow) is a crash: its full trace goes to a log file and
the one line names the problem and that file, never a traceback on the terminal.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from inspector.engine.errors import InspectorError

USAGE_ERROR = 2
LOG_DIR_VARIABLE = "LAYER_INSPECTOR_LOG_DIR"
# A value such as -1,1 or -0.5: argparse takes a leading minus for an option
# unless the whole word is one plain negative number.
_NEGATIVE_VALUE = re.compile(r"^-[0-9.]")


class UsageError(Exception):
    """A command-line usage error, reported as one line (argparse would print two)."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(f"{prog}: error: {message}")


def one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` (and its sub-parsers) raise ``UsageError`` instead of exiting."""

    def error(message: str):
        raise UsageError(parser.prog, message)

    parser.error = error
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                one_line_errors(child)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def join_negative_values(argv: Sequence[str]) -> list[str]:
    """``--opt -1,1`` -> ``--opt=-1,1``, so options take the values users type.

    No option of ours starts with a digit, so a word like ``-1,1`` after a long
    option without ``=`` can only be that option's value.
    """
    joined: list[str] = []
    for word in argv:
        previous = joined[-1] if joined else ""
        if _NEGATIVE_VALUE.match(word) and previous.startswith("--") and "=" not in previous:
            joined[-1] = f"{previous}={word}"
        else:
            joined.append(word)
    return joined


def log_directory() -> Path:
    """Where crash logs go: ``$LAYER_INSPECTOR_LOG_DIR``, else the temp dir's
    ``layer-inspector-logs``."""
    configured = os.environ.get(LOG_DIR_VARIABLE)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "layer-inspector-logs"


def write_crash_log(error: BaseException, argv: Sequence[str]) -> Path | None:
    """Write the full trace of ``error`` to a new log file; None if that fails too."""
    try:
        folder = log_directory()
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"crash-{stamp}-{os.getpid()}.log"
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        path.write_text(f"argv: {list(argv)}\n\n{trace}", encoding="utf-8")
        return path
    except OSError:
        return None


def _crash_line(prog: str, error: BaseException, log: Path | None) -> str:
    where = f"full trace in {log}" if log else "the trace could not be written to a log file"
    return (
        f"{prog}: error: unexpected {type(error).__name__}: {_one_line(error)[:300]} "
        f"(a bug or an unsupported model; {where})"
    )


def run_cli(argv: Sequence[str] | None, parser: argparse.ArgumentParser) -> int:
    """Parse ``argv`` with ``parser`` and run the chosen command's ``handler(args)``.

    Args:
        argv: the arguments after the program name (None means ``sys.argv[1:]``).
        parser: the console's parser (``layer_inspector``); each sub-command sets a
            ``handler`` default
            (``add_inspect_parser`` does for ``inspect``).

    Returns:
        The handler's exit code (0 on success); 2 for bad input or usage, after
        ONE line on stderr and no traceback; 130 when interrupted. Any other
        exception also gives 2 and one line, which names a log file holding the
        full trace.
    """
    one_line_errors(parser)
    argv = join_negative_values(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
        handler = getattr(args, "handler", None)
        if handler is None:
            raise UsageError(parser.prog, "expected a command, e.g. 'inspect'")
        return handler(args)
    except UsageError as error:
        print(_one_line(error), file=sys.stderr)
    except InspectorError as error:
        print(f"{parser.prog}: error: {_one_line(error)}", file=sys.stderr)
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the promise: never a traceback on the terminal
        print(_crash_line(parser.prog, error, write_crash_log(error, argv)), file=sys.stderr)
    return USAGE_ERROR
