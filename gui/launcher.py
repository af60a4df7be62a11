"""The ``layer-inspector`` command: the desktop app, or a headless sub-command.

This module sits at the top of the import arrows (gui -> models -> inspector), so
it can offer the engine's ``inspect``, the face model's ``train`` and the app in
one command. It imports neither Qt nor TensorFlow itself: ``inspect`` and
``train`` never touch Qt, so they run without a display, and ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _add_app_parser(subparsers) -> None:
    app = subparsers.add_parser("app", help="open the desktop app (the default)")
    app.add_argument("--model", type=Path, help="a .keras or .h5 model (default: the face CNN)")
    app.add_argument("--image", type=Path, help="an image to open first")
    app.add_argument("--run", type=Path, help="a training run directory to show")
    app.add_argument(
        "--unsafe",
        action="store_true",
        help="allow Lambda layers' Python code in the model file (only for files you trust)",
    )
    app.set_defaults(handler=_run_app)


def _run_app(args: argparse.Namespace) -> int:
    from gui.app import run_app

    return run_app(args.model, args.image, args.unsafe, run_path=args.run)


def _run_inspect(args: argparse.Namespace) -> int:
    from inspector.cli import run_inspect
    from models.default_model import default_model_path
    from models.face_crop import face_crop_box

    return run_inspect(args, default_model_path(), find_face=face_crop_box)


def _run_train(args: argparse.Namespace) -> int:
    from models.train_command import run_train

    return run_train(args)


def build_parser() -> argparse.ArgumentParser:
    from inspector.cli import add_inspect_parser
    from models.train_command import add_train_parser

    parser = argparse.ArgumentParser(
        prog="layer-inspector",
        description="See how a Keras convolutional network sees, layer by layer. "
        "Without a sub-command the desktop app opens on the bundled face model.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="{app,inspect,train}")
    _add_app_parser(subparsers)
    add_inspect_parser(subparsers)
    subparsers.choices["inspect"].set_defaults(handler=_run_inspect)
    add_train_parser(subparsers)
    subparsers.choices["train"].set_defaults(handler=_run_train)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``layer-inspector`` console script."""
    from inspector.cli import run_cli

    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("--") and argv[0] not in ("--help", "-h")):
        argv = ["app", *argv]  # the app is the default command
    return run_cli(argv, build_parser())


if __name__ == "__main__":
    sys.exit(main())
