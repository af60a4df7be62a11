"""The ``layer-inspector`` command: the desktop app, or a headless sub-command.

This module sits at the top of the import arrows (gui -> models -> inspector), so
it can offer the engine's ``inspect``, the face model's ``train`` and the app in
one command. The app path imports neither TensorFlow nor the headless commands:
the window appears first and TensorFlow loads on the worker thread. ``inspect``
and ``train`` never import Qt, so they run without a display.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROG = "layer-inspector"
DESCRIPTION = (
    "See how a Keras convolutional network sees, layer by layer. "
    "Without a sub-command the desktop app opens on the bundled face model."
)


def _add_app_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        help="a .keras or .h5 model, or bundled:detector / bundled:recognizer "
        "(default: the bundled face detector)",
    )
    parser.add_argument("--image", type=Path, help="an image to open first")
    parser.add_argument("--run", type=Path, help="a training run directory to show")
    parser.add_argument(
        "--live",
        metavar="camera[:N]|VIDEO",
        help="open straight into live mode on a camera (camera, camera:1) or a video file",
    )
    parser.add_argument(
        "--unsafe",
        action="store_true",
        help="allow Lambda layers' Python code in the model file (only for files you trust)",
    )
    parser.set_defaults(handler=_run_app)


def _run_app(args: argparse.Namespace) -> int:
    import os

    from gui.app.display import missing_display

    problem = missing_display(os.environ)
    if problem is not None:  # before Qt: without a display it aborts the process
        print(problem, file=sys.stderr)
        return 2
    from inspector.cli.model_options import BUNDLED_PREFIX, model_path
    from inspector.engine.errors import ModelLoadError
    from models.default_model import bundled_models, bundled_runs

    try:  # a model file that is missing is the app's to report; a bad bundled name is ours
        model = None if args.model is None else model_path(args.model, bundled_models())
    except ModelLoadError as error:
        print(f"{PROG} app: error: {error}", file=sys.stderr)
        return 2
    if args.image is not None:  # a bad --image is the user's to hear, not a dialog's
        from inspector.engine.errors import ImageLoadError
        from inspector.engine.image_loading import open_image

        try:
            open_image(args.image)
        except ImageLoadError as error:
            print(f"{PROG} app: error: {error}", file=sys.stderr)
            return 2
    if args.live is not None:  # checked before a window opens: one line, exit code 2
        from inspector.live.frames import LiveSourceError, parse_source

        try:
            parse_source(args.live)
        except LiveSourceError as error:
            print(f"{PROG} app: error: {error}", file=sys.stderr)
            return 2
    run = args.run
    if run is None and args.model and args.model.startswith(BUNDLED_PREFIX):
        # Weight updates replays the training of the bundled model that is shown
        run = bundled_runs()[args.model[len(BUNDLED_PREFIX) :]]
    from gui.app.application import run_app

    return run_app(model, args.image, args.unsafe, run_path=run, live=args.live)


def _run_inspect(args: argparse.Namespace) -> int:
    from inspector.cli.inspect_command import run_inspect
    from models.default_model import bundled_models

    return run_inspect(args, bundled_models())


def _run_evaluate(args: argparse.Namespace) -> int:
    from inspector.cli.evaluate_command import run_evaluate
    from models.default_model import bundled_models

    return run_evaluate(args, bundled_models())


def _run_units(args: argparse.Namespace) -> int:
    from inspector.cli.units_command import run_units
    from models.datasets.unit_data import bundled_unit_set
    from models.default_model import bundled_models

    return run_units(args, bundled_models(), bundled_unit_set)


def _run_dissect(args: argparse.Namespace) -> int:
    from inspector.cli.dissect_command import run_dissect
    from models.datasets.unit_data import bundled_face_concepts
    from models.default_model import bundled_models

    return run_dissect(args, bundled_models(), bundled_face_concepts)


def _run_train(args: argparse.Namespace) -> int:
    from models.training.train_command import run_train

    return run_train(args)


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every sub-command (imports the engine)."""
    from inspector.cli.dissect_command import add_dissect_parser
    from inspector.cli.evaluate_command import add_evaluate_parser
    from inspector.cli.inspect_command import add_inspect_parser
    from inspector.cli.units_command import add_units_parser
    from models.training.train_command import add_train_parser

    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    subparsers = parser.add_subparsers(
        dest="command", metavar="{app,inspect,train,evaluate,units,dissect}"
    )
    _add_app_arguments(subparsers.add_parser("app", help="open the desktop app (the default)"))
    add_inspect_parser(subparsers)
    subparsers.choices["inspect"].set_defaults(handler=_run_inspect)
    add_train_parser(subparsers)
    subparsers.choices["train"].set_defaults(handler=_run_train)
    add_evaluate_parser(subparsers)
    subparsers.choices["evaluate"].set_defaults(handler=_run_evaluate)
    add_units_parser(subparsers)
    subparsers.choices["units"].set_defaults(handler=_run_units)
    add_dissect_parser(subparsers)
    subparsers.choices["dissect"].set_defaults(handler=_run_dissect)
    return parser


def _is_app(argv: list[str]) -> bool:
    return (
        not argv
        or argv[0] == "app"
        or (argv[0].startswith("-") and argv[0] not in ("-h", "--help"))
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``layer-inspector`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if _is_app(argv):
        # A light parser of its own, so the window never waits for TensorFlow.
        parser = argparse.ArgumentParser(prog=f"{PROG} app", description=DESCRIPTION)
        _add_app_arguments(parser)
        args = parser.parse_args(argv[1:] if argv and argv[0] == "app" else argv)
        return args.handler(args)
    from inspector.engine.quiet import import_tensorflow_quietly

    import_tensorflow_quietly()  # before any engine import: keeps stderr to one line
    import tensorflow as tf

    # The same for TensorFlow's Python warnings, e.g. "triggered tf.function
    # retracing" when `units` traces its one gradient function per layer.
    tf.get_logger().setLevel("ERROR")
    from inspector.cli.runner import run_cli

    return run_cli(argv, build_parser())


if __name__ == "__main__":
    sys.exit(main())
