"""Run a headless command: one line on stderr and exit code 2 for any bad input.

argparse would print usage plus an error (two lines) and exit itself; here every
parser raises ``UsageError`` instead, and ``run_cli`` turns that and any
``InspectorError`` into the one line the commands promise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from inspector.engine.errors import InspectorError

USAGE_ERROR = 2


class UsageError(Exception):
    """A command-line usage error, reported as one line (argparse would print two)."""

    def __init__(self, prog: str, message: str) -> None:
        super().__init__(f"{prog}: error: {message}")


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Make ``parser`` (and its sub-parsers) raise ``UsageError`` instead of exiting."""

    def error(message: str):
        raise UsageError(parser.prog, message)

    parser.error = error
    for action in parser._actions:  # argparse keeps sub-parsers only here
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _one_line_errors(child)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def run_cli(argv: Sequence[str] | None, parser: argparse.ArgumentParser) -> int:
    """Parse ``argv`` with ``parser`` and run the chosen command's ``handler(args)``.

    Args:
        argv: the arguments after the program name (None means ``sys.argv[1:]``).
        parser: the launcher's parser; each sub-command sets a ``handler`` default
            (``add_inspect_parser`` does for ``inspect``).

    Returns:
        The handler's exit code (0 on success); 2 for bad input or usage, after
        ONE line on stderr and no traceback; 130 when interrupted.
    """
    _one_line_errors(parser)
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
    return USAGE_ERROR
