"""The headless ``layer-inspector evaluate`` command: how far each map can be trusted.

    layer-inspector evaluate --images DIR|FILE... [--model M.keras] [--unsafe]
        [--preprocess auto|none|tf|torch|caffe|0-1|0-255] [--value-range LOW,HIGH]
        [--labels FILE] [--output NAME_OR_INDEX] [--input NAME_OR_INDEX]
        [--other-inputs FILE.npz] [--methods all|a,b] [--target N] [--steps 20]
        [--baseline blur|zero|mean] [--randomization cascade|none] [--crop auto|none]
        --out OUT

Writes ``OUT/evaluation.json``, ``OUT/curves.png`` and ``OUT/randomization.png``
into a hidden staging folder and renames it into place at the end, so bad input
(one line on stderr, exit code 2) or an interruption leaves OUT untouched.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from inspector.engine.quiet import import_tensorflow_quietly

# Before the engine's imports: TensorFlow's start-up lines would reach stderr.
import_tensorflow_quietly()

from inspector.attribution import AttributionError, method_names  # noqa: E402
from inspector.cli.cli_helpers import ProgressBar, positive_int, write_staged  # noqa: E402
from inspector.cli.evaluation import Evaluation, evaluate_images  # noqa: E402
from inspector.cli.model_options import add_model_options, open_model  # noqa: E402
from inspector.cli.runner import one_line_errors, run_cli  # noqa: E402
from inspector.defaults import CURVE_STEPS  # noqa: E402
from inspector.engine.crop_policy import FaceFinder, choose_crop  # noqa: E402
from inspector.engine.errors import (  # noqa: E402
    DatasetError,
    ExportError,
    ImageLoadError,
)
from inspector.engine.image_loading import open_image, prepare_image  # noqa: E402
from inspector.render.trust_figures import curves_figure, randomization_figure  # noqa: E402

BASELINES = ("blur", "zero", "mean")


def _class_index(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a class index 0, 1, ...; received {text!r}")
    return int(text)


def add_evaluate_parser(subparsers) -> None:
    """Add the ``evaluate`` sub-command to an ``argparse`` sub-parsers object."""
    parser = subparsers.add_parser(
        "evaluate",
        help="measure how faithful and how model-dependent each attribution method is",
        description="Deletion and insertion curves (Petsiuk et al. 2018) against a random "
        "and a centre-prior map, and the cascading model-randomisation check (Adebayo et "
        "al. 2018), for every method on every image; writes OUT/evaluation.json, "
        "OUT/curves.png and OUT/randomization.png.",
    )
    parser.add_argument(
        "--images", type=Path, nargs="+", required=True, metavar="DIR|FILE", help="images"
    )
    add_model_options(parser)
    parser.add_argument(
        "--methods",
        default="all",
        metavar="all|a,b",
        help=f"'all' (default) or a comma list of: {', '.join(method_names())}",
    )
    parser.add_argument("--target", type=_class_index, metavar="N", help="default: top class")
    parser.add_argument(
        "--steps",
        type=positive_int,
        default=CURVE_STEPS,
        metavar="N",
        help=f"default {CURVE_STEPS}",
    )
    parser.add_argument("--baseline", choices=BASELINES, default="blur", help="default: blur")
    parser.add_argument(
        "--randomization", choices=("cascade", "none"), default="cascade", help="default: cascade"
    )
    parser.add_argument(
        "--crop",
        choices=("auto", "none"),
        default="auto",
        help="'auto' (default) crops each image to its largest face when a face finder is "
        "available, as inspect does; 'none' centre-crops",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="OUT", help="folder to write")
    parser.set_defaults(handler=lambda args: run_evaluate(args, None))
    one_line_errors(parser)


def chosen_methods(text: str) -> tuple[list[str], bool]:
    """(method names, whether the user named them) for ``--methods``."""
    known = method_names()
    if text.strip() == "all":
        return list(known), False
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise AttributionError(
            f"Expected --methods 'all' or a comma list of: {', '.join(known)}. "
            f"Received: --methods {text!r}"
            + (f" (unknown: {', '.join(unknown)})." if unknown else ".")
        )
    return names, True


def image_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and the files directly inside the folders named, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not inside:
                raise DatasetError(
                    f"Expected a folder holding images. Received: {str(path)!r}, which is empty."
                )
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise ImageLoadError(
                "Expected an image file or a folder. "
                f"Received: {str(path)!r}, which does not exist."
            )
    return files


def _load_images(
    files: list[Path], opened, shape, automatic: bool, find_face: FaceFinder | None
) -> tuple:
    """Each readable file prepared for the model (its one preprocessing; cropped by
    ``crop_policy.choose_crop``, the rule of ``inspect`` and the app), and the
    unreadable ones."""
    images, skipped = [], []
    for path in files:
        try:
            picture = open_image(path)
            rgb = np.asarray(picture.convert("RGB"))
            choice = choose_crop(rgb, shape[:2], automatic=automatic, find_face=find_face)
            prepared = prepare_image(
                picture,
                path,
                opened.model,
                input_shape=shape,
                crop=choice.loader_box,
                preprocess=opened.preprocess,
            )
            images.append(prepared)
        except ImageLoadError as error:
            skipped.append({"file": str(path), "error": " ".join(str(error).split())})
    if not images:
        raise DatasetError(
            f"Expected at least one readable image. Received: {len(files)} file(s), none "
            f"readable (e.g. {skipped[0]['file']}: {skipped[0]['error']})"
        )
    return images, skipped


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(
            f"Expected --out to be a folder. Received: {str(out)!r}, which is a file."
        )
    if out.is_dir() and any(out.iterdir()):
        raise ExportError(
            f"Expected --out to be a new or empty folder. Received: {str(out)!r}, which "
            "already holds files."
        )


def run_evaluate(
    args: argparse.Namespace, models: Mapping[str, Path] | None, find_face: FaceFinder | None = None
) -> int:
    """Run ``evaluate`` for parsed ``args``; raises ``InspectorError`` for bad input.

    ``models`` maps ``bundled:NAME`` to the shipped files, the default first.
    ``find_face(rgb_uint8, aspect) -> box | None`` replaces the LBP cascade of
    ``--crop auto`` (tests; None: the cascade).
    """
    methods, named = chosen_methods(args.methods)
    _check_out(args.out)
    files = image_files(args.images)
    opened = open_model(args, models)
    inspector = opened.inspector()
    images, skipped = _load_images(
        files, opened, inspector.input_shape, args.crop == "auto", find_face
    )
    bar = ProgressBar("evaluate", unit="maps")  # methods x images
    evaluation = evaluate_images(
        inspector,
        images,
        methods,
        named=named,
        target=args.target,
        steps=args.steps,
        baseline=args.baseline,
        randomization=args.randomization == "cascade",
        output=opened.output,
        progress=bar,
    )
    if evaluation.score == "raw output":
        evaluation.notes.append(
            f"note: output {opened.output_name!r} is linear (no softmax or sigmoid): the "
            "curves track its raw value, not a probability"
        )
    print(f"Preprocessing: {opened.preprocess.words()}")
    _write_outputs(args.out, evaluation, opened, skipped)
    for note in evaluation.notes:  # notes come last: an error stays the only line
        print(note, file=sys.stderr)
    if skipped:
        print(
            f"note: skipped {len(skipped)} unreadable file(s), e.g. "
            f"{Path(skipped[0]['file']).name}: {skipped[0]['error']}",
            file=sys.stderr,
        )
    print(f"Wrote {args.out}/: evaluation.json, curves.png, randomization.png")
    return 0


def _write_outputs(out: Path, evaluation: Evaluation, opened, skipped: list[dict]) -> None:
    def write(staged: Path) -> None:
        document = {
            "model": str(opened.path),
            **opened.record(),
            **evaluation.summary(),
            "skipped": skipped,
        }
        (staged / "evaluation.json").write_text(json.dumps(document, indent=2) + "\n")
        deletion, insertion = evaluation.curve_lines()
        note = f"{evaluation.images} image(s), baseline {evaluation.baseline}, mean curves"
        score = "p(target)" if evaluation.score == "probability" else "raw output"
        curves_figure(deletion, insertion, note, score).save(staged / "curves.png")
        rows, labels = evaluation.randomization_rows()
        picture = evaluation.first_picture
        randomization_figure(rows, labels, picture).save(staged / "randomization.png")

    write_staged(out, write)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m inspector.cli.evaluate_command evaluate ...``: without the console."""
    parser = argparse.ArgumentParser(prog="layer-inspector")
    add_evaluate_parser(parser.add_subparsers(dest="command"))
    return run_cli(argv, parser)


if __name__ == "__main__":
    sys.exit(main())
