"""The headless ``layer-inspector inspect`` command.

    layer-inspector inspect IMAGE [--model PATH] [--unsafe] [--target N]
        [--output NAME_OR_INDEX] [--layers all|NAME,...]
        [--methods default|all|none|gradcam,saliency,...] [--value-range LOW,HIGH]
        [--preprocess auto|none|tf|torch|caffe|0-1|0-255] [--labels FILE]
        [--input NAME_OR_INDEX] [--other-inputs FILE.npz] [--full]
        [--report FILE.png|FILE.pdf] --out DIR

The console (``layer_inspector/console.py``) adds the sub-command with
``add_inspect_parser`` and runs it with ``run_cli``. Bad input becomes one line
on stderr and exit code 2, with nothing written in DIR.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from inspector.engine.quiet import import_tensorflow_quietly

# Before the engine's imports: TensorFlow's C++ start-up lines would otherwise
# reach stderr, whose contract here is one line per error.
import_tensorflow_quietly()

from inspector.attribution import (  # noqa: E402
    PASS_BUDGET,
    AttributionError,
    compute_attribution,
    default_methods,
    method_names,
)
from inspector.cli.cli_helpers import ProgressBar  # noqa: E402
from inspector.cli.model_options import add_model_options, open_model  # noqa: E402
from inspector.cli.runner import one_line_errors, run_cli  # noqa: E402
from inspector.engine.class_head import describe_score  # noqa: E402
from inspector.engine.crop_policy import FaceFinder, choose_crop  # noqa: E402
from inspector.engine.errors import ExportError  # noqa: E402
from inspector.engine.image_loading import open_image, prepare_image  # noqa: E402
from inspector.render.exporting import export_inspection, select_layers  # noqa: E402
from inspector.render.probability import format_probability, format_threshold  # noqa: E402
from inspector.render.report import render_report, save_report  # noqa: E402


def _class_index(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a class index 0, 1, ...; received {text!r}")
    return value


def _crop(text: str) -> str | tuple[int, int, int, int]:
    if text in ("auto", "none"):
        return text
    try:
        box = tuple(int(part) for part in text.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or box[0] >= box[2] or box[1] >= box[3]:
        raise argparse.ArgumentTypeError(
            f"expected auto, none or LEFT,TOP,RIGHT,BOTTOM with left<right, top<bottom; "
            f"received {text!r}"
        )
    return box


def add_inspect_parser(subparsers) -> None:
    """Add the ``inspect`` sub-command to an ``argparse`` sub-parsers object."""
    parser = subparsers.add_parser(
        "inspect",
        help="inspect one image headless and write arrays, figures and a summary",
        description="Run one forward+backward pass on IMAGE and write every layer's "
        "activation and gradient, feature-map grids, attribution maps and a JSON "
        "summary into DIR.",
    )
    parser.add_argument("image", type=Path, metavar="IMAGE", help="any image Pillow reads")
    add_model_options(parser)
    parser.add_argument(
        "--target", type=_class_index, metavar="N", help="class index (default: top class)"
    )
    parser.add_argument(
        "--layers",
        default="all",
        metavar="all|NAME,...",
        help="layers to write (default 'all': the conv and dense layers and the logits; "
        "every layer with --full; NAME,... writes only those)",
    )
    parser.add_argument(
        "--methods",
        default="default",
        metavar="default|all|none|NAME,...",
        help=f"'default': the methods within {PASS_BUDGET} extra model passes on this model "
        f"(saliency, gradient x input and the CAMs cost none); 'all', 'none', or a comma "
        f"list of: {', '.join(method_names())}",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="write every layer in float32 (default: conv/dense layers, float16, compressed)",
    )
    parser.add_argument(
        "--crop",
        type=_crop,
        default="auto",
        metavar="auto|none|L,T,R,B",
        help="'auto' (default) crops a photo larger than the model's input to its largest "
        "face, else the centre; 'none' centre-crops to the model's aspect; or a box in "
        "file pixels",
    )
    parser.add_argument(
        "--report", type=Path, metavar="FILE", help="also write a one-page report (.png/.pdf)"
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder to write into"
    )
    # The console replaces this handler with one that passes the bundled model.
    parser.set_defaults(handler=lambda args: run_inspect(args, None))
    one_line_errors(parser)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _chosen_methods(text: str) -> tuple[list[str] | None, bool]:
    """(method names, whether the user named them) for ``--methods``; None for the
    default, which depends on the model (``attribution.default_methods``)."""
    known = method_names()
    if text.strip() == "default":
        return None, False
    if text.strip() == "all":
        return list(known), False
    if text.strip() == "none":
        return [], True
    names = _names(text)
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise AttributionError(
            f"Expected --methods 'default', 'all', 'none' or a comma list of: "
            f"{', '.join(known)}. Received: --methods {text!r}"
            + (f" (unknown: {', '.join(unknown)})." if unknown else ".")
        )
    return names, True


def _check_paths(args: argparse.Namespace) -> None:
    if args.out.exists() and not args.out.is_dir():
        raise ExportError(
            f"Expected --out to be a folder. Received: {str(args.out)!r}, which is a file."
        )
    if args.report is not None and args.report.suffix.lower() not in (".png", ".pdf"):
        raise ExportError(
            f"Expected --report to end in .png or .pdf. Received: {str(args.report)!r}."
        )


def _attributions(methods, named: bool, inspection, inspector, timings) -> list:
    """Compute each method, a progress bar for each that runs the model; with
    ``--methods default|all`` a method that cannot apply is skipped with a note."""
    results = []
    for name in methods:
        started = time.perf_counter()
        bar = ProgressBar(name, unit="passes")
        try:
            results.append(compute_attribution(name, inspection, inspector, progress=bar))
        except AttributionError as error:
            if named:
                raise
            print(f"note: skipped {name}: {error}", file=sys.stderr)
        timings[f"attribution/{name}"] = time.perf_counter() - started
    return results


def _crop_box(args: argparse.Namespace, picture, shape, find_face: FaceFinder | None):
    """The box ``prepare_image`` crops to for ``--crop`` (``crop_policy.choose_crop``:
    the rule the app follows too); None: its own centre crop."""
    user = args.crop if isinstance(args.crop, tuple) else None
    rgb = np.asarray(picture.convert("RGB"))
    choice = choose_crop(
        rgb, shape[:2], box=user, automatic=args.crop == "auto", find_face=find_face
    )
    return choice.loader_box


def run_inspect(
    args: argparse.Namespace,
    models: Mapping[str, Path] | None,
    find_face: FaceFinder | None = None,
) -> int:
    """Run ``inspect`` for parsed ``args``; raises ``InspectorError`` for bad input.

    Every check that needs no model runs before the model is loaded, and the
    export is written last and atomically, so bad input leaves DIR untouched.
    ``models`` maps ``bundled:NAME`` to the shipped files, the default first
    (``model_options.model_path``). ``find_face(rgb_uint8, aspect) -> box | None``
    replaces the LBP cascade of ``--crop auto`` (tests; None: the cascade).
    """
    methods, named = _chosen_methods(args.methods)
    layers = "all" if args.layers.strip() == "all" else _names(args.layers)
    _check_paths(args)
    picture = open_image(args.image)  # a missing or broken image fails before the model loads
    started = time.perf_counter()
    opened = open_model(args, models)
    inspector = opened.inspector()
    crop = _crop_box(args, picture, inspector.input_shape, find_face)
    prepared = prepare_image(
        picture,
        args.image,
        opened.model,
        input_shape=inspector.input_shape,
        crop=crop,
        preprocess=opened.preprocess,
    )
    timings = {"load": time.perf_counter() - started}
    inspection = inspector.inspect(prepared, target=args.target, output=opened.output)
    compact = not args.full
    select_layers(inspection, layers, compact)  # wrong names fail before the slow methods run
    left_out: dict[str, int] = {}
    if methods is None:
        methods, left_out = default_methods(inspection)
    attributions = _attributions(methods, named, inspection, inspector, timings)
    result = export_inspection(
        inspection,
        args.out,
        layers=layers,
        attributions=attributions,
        timings=timings,
        compact=compact,
    )
    if args.report is not None:
        save_report(render_report(inspection, attributions), args.report)
    _print_summary(inspection, result, attributions, args.report)
    if left_out:
        costs = ", ".join(f"{name} ({passes:,} passes)" for name, passes in left_out.items())
        print(
            f"Left out by default (over {PASS_BUDGET} extra passes on this model): {costs}. "
            "Run them with --methods all, or name them: --methods "
            f"{','.join(left_out)}."
        )
    return 0


def unknown_verdict(inspection) -> str:
    """A recogniser's open-set line: known or unknown, and the five nearest names."""
    probabilities = np.asarray(inspection.probabilities, dtype=float)
    order = np.argsort(-probabilities, kind="stable")[:5]
    nearest = ", ".join(
        f"{inspection.labels[i]} {format_probability(probabilities[i], 'softmax')}" for i in order
    )
    threshold = format_threshold(inspection.unknown_below)
    if inspection.unknown:
        return f"Unknown person: top probability below {threshold}. Nearest: {nearest}."
    return f"Known person (top probability at least {threshold}). Top 5: {nearest}."


def _print_summary(inspection, result, attributions, report: Path | None) -> None:
    value = float(inspection.probabilities[inspection.predicted])
    rule = inspection.probability_rule
    shown = ("output " if rule == "none" else "p = ") + format_probability(value, rule)
    print(
        f"Predicted: {inspection.predicted_label} ({shown}); target "
        f"{inspection.target_label} ({inspection.score_kind} {inspection.score:.4g})."
    )
    if inspection.unknown_below is not None:
        print(unknown_verdict(inspection))
    print(f"Preprocessing: {inspection.preprocessing[-1]}")
    if inspection.probability_rule == "none":
        print("Output: raw values (linear output: no softmax or sigmoid), not probabilities.")
    if inspection.score_kind != "logit":
        print(f"Score: {describe_score(inspection.score_kind)}.")
    if inspection.inputs_note:
        print(f"Inputs: {inspection.inputs_note}")
    print(f"Wrote {result.out_dir}/:")
    print(f"  activations.npz   activations and gradients of {len(result.layers)} layers")
    print("  summary.json      prediction, labels, layers, receptive fields, timings")
    print(f"  feature_maps/     {len(result.layers)} channel grids")
    if attributions:
        names = ", ".join(a.method for a in attributions)
        print(f"  attribution/      overlay .png and raw .npy for: {names}")
    if report is not None:
        print(f"Report: {report}")
    if result.flushed:
        worst = max(result.flushed, key=result.flushed.get)
        print(
            f"Note: float16 turned values below 6e-8 into 0 in {len(result.flushed)} array(s) "
            f"(worst: {worst}, {result.flushed[worst]:.0%} of its non-zero values); "
            "--full writes float32."
        )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m inspector.cli.inspect_command inspect ...``: without the console."""
    parser = argparse.ArgumentParser(prog="layer-inspector")
    add_inspect_parser(parser.add_subparsers(dest="command"))
    return run_cli(argv, parser)


if __name__ == "__main__":
    sys.exit(main())
