"""``layer-inspector train``: train the face CNN from the command line.

The top-level launcher calls ``add_train_parser`` and ``run_train``; until then,
``python -m models.training.train_command train [options]`` runs the same command.
"""

from __future__ import annotations

import argparse
import sys

from inspector.cli.cli_helpers import positive_int
from inspector.engine.errors import InspectorError
from models.settings import BATCH_SIZE, MODEL_NAMES, STRATEGIES, TASK_EPOCHS, TASKS


def add_train_parser(subparsers) -> None:
    """Add the ``train`` sub-command to an ``argparse`` sub-parser set."""
    parser = subparsers.add_parser(
        "train",
        help="train the face CNN and record every layer's learning",
        description=(
            "Train the face CNN on the bundled ORL and LFW faces (faces vs not-faces) or on "
            "your own folder (one subfolder per class), checkpointing every epoch and "
            "recording weights, updates, gradients and activations into --out."
        ),
    )
    parser.add_argument(
        "--data", metavar="DIR", help="image folder, one subfolder per class (default: bundled)"
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        help="total epochs to reach (default: "
        + ", ".join(f"{n} for the {task}" for task, n in TASK_EPOCHS.items())
        + ")",
    )
    parser.add_argument(
        "--out",
        metavar="RUN_DIR",
        help="run directory (default: runs/face_cnn, or runs/face_recognizer for the recognizer)",
    )
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    parser.add_argument("--strategy", choices=STRATEGIES, default="default")
    parser.add_argument(
        "--task",
        choices=TASKS,
        default="detector",
        help="with the bundled data: detector (face or not, the default) or recognizer "
        "(which of the 40 ORL people); the same network up to its head",
    )
    parser.add_argument(
        "--min-per-class",
        type=positive_int,
        default=1,
        help="with --data: leave out classes with fewer images",
    )
    parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE)
    parser.add_argument(
        "--tensorboard", action="store_true", help="also log weight/gradient histograms"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    parser.set_defaults(run=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Run ``train`` with parsed arguments; InspectorErrors propagate to the launcher."""
    from models.training.loop import train_face_model  # TensorFlow loads only when needed

    train_face_model(
        run_dir=args.out or f"runs/{MODEL_NAMES[args.task]}",
        data_dir=args.data,
        epochs=args.epochs or TASK_EPOCHS[args.task],
        seed=args.seed,
        resume=args.resume,
        strategy=args.strategy,
        min_per_class=args.min_per_class,
        batch_size=args.batch_size,
        tensorboard=args.tensorboard,
        task=args.task,
        verbose=0 if args.quiet else (1 if sys.stdout.isatty() else 2),
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m models.training.train_command train ...``."""
    parser = argparse.ArgumentParser(prog="layer-inspector")
    add_train_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InspectorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
