"""The model options every command shares, defined once.

    --model PATH|bundled:NAME  --unsafe  --preprocess auto|none|tf|torch|caffe|0-1|0-255
    --value-range LOW,HIGH  --labels FILE  --output NAME_OR_INDEX
    --input NAME_OR_INDEX  --other-inputs FILE.npz

``inspect``, ``evaluate``, ``units`` and ``dissect`` add them with
``add_model_options`` and read them with ``open_model``, so each flag means the
same everywhere: the preprocessing is decided once
(``inspector.engine.preprocessing.decide_preprocessing``) and every JSON records
it with its source; ``--output`` picks which head the score comes from (``units``
and ``dissect`` check it and record it: a unit's activation does not depend on
it); ``--labels`` names that output's classes.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from inspector.engine.errors import LabelsError, ModelLoadError
from inspector.engine.preprocessing import PRESETS, Preprocessing, decide_preprocessing

BUNDLED_PREFIX = "bundled:"


def value_range(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LOW,HIGH such as 0,1 or 0,255; received {text!r}"
        ) from None
    if not low < high:
        raise argparse.ArgumentTypeError(f"expected LOW < HIGH; received {text!r}")
    return (low, high)


def name_or_index(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def preset(text: str) -> str:
    if text not in PRESETS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(PRESETS)}; received {text!r}")
    return text


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """Add the shared model options to a sub-command's parser."""
    parser.add_argument(
        "--model",
        metavar="PATH",
        help=".keras or .h5 file, or bundled:detector / bundled:recognizer "
        "(default: the bundled face detector)",
    )
    parser.add_argument(
        "--unsafe", action="store_true", help="allow Lambda layers (runs the file's code)"
    )
    parser.add_argument(
        "--preprocess",
        type=preset,
        default="auto",
        metavar="|".join(PRESETS),
        help="how pixels are scaled for the model: 'auto' (default) uses what is stored with "
        "the model, else recognises keras.applications families, else guesses and says so; "
        "tf = -1..1, caffe = BGR minus the ImageNet mean, torch = ImageNet mean/std, 0-1, "
        "0-255 or none (raw 0..255)",
    )
    parser.add_argument(
        "--value-range",
        type=value_range,
        metavar="LOW,HIGH",
        help="a linear pixel scale fed to the model instead of --preprocess",
    )
    parser.add_argument(
        "--labels", type=Path, metavar="FILE", help="class names: .txt (one per line) or .json"
    )
    parser.add_argument(
        "--output",
        type=name_or_index,
        metavar="NAME_OR_INDEX",
        help="which model output is scored (default: the first)",
    )
    parser.add_argument(
        "--input",
        type=name_or_index,
        dest="image_input",
        metavar="NAME_OR_INDEX",
        help="which model input is the image (multi-input models)",
    )
    parser.add_argument(
        "--other-inputs",
        type=Path,
        metavar="FILE.npz",
        help="arrays for the other inputs, keyed by input name (default: zeros)",
    )


@dataclass(frozen=True)
class OpenedModel:
    """A loaded model and the options that say how it is fed and scored.

    Attributes:
        path: the model file.
        model: the Keras model.
        preprocess: the one preprocessing decision for it.
        labels: class names from ``--labels``, or None (the model's own, or generic).
        output: the output index chosen (``--output``, default 0); ``output_name`` its name.
        image_input: ``--input``; ``other_inputs``: the arrays of ``--other-inputs``.
    """

    path: Path
    model: object
    preprocess: Preprocessing
    labels: tuple[str, ...] | None
    output: int
    output_name: str
    image_input: int | str | None
    other_inputs: dict | None

    def inspector(self):
        """The ``Inspector`` of this model, with these labels and inputs."""
        from inspector.engine.extraction import Inspector

        inspector = Inspector(
            self.model, image_input=self.image_input, other_inputs=self.other_inputs
        )
        return inspector.with_labels(self.labels, self.output) if self.labels else inspector

    def probe(self, layers: list[str] | None):
        """A ``LayerProbe`` of ``layers`` fed with this preprocessing and these inputs."""
        from inspector.units.probe import LayerProbe

        return LayerProbe(
            self.model,
            layers,
            self.preprocess,
            image_input=self.image_input,
            other_inputs=self.other_inputs,
        )

    def record(self) -> dict:
        """What every JSON a command writes says of how the model was fed and scored."""
        return {**self.preprocess.record(), "output": self.output_name}


def model_path(given: str | Path | None, bundled: Mapping[str, Path] | None) -> Path:
    """The file ``--model`` names: a path, ``bundled:NAME``, or (None) the first
    bundled model, which is the default.

    Args:
        given: what the user typed, or None.
        bundled: name -> file of the networks the project ships (the default first);
            None or empty when the caller ships none.

    Raises:
        ModelLoadError: ``bundled:NAME`` with a name not in ``bundled``, or no model
            at all; the message lists the valid names.
    """
    bundled = dict(bundled or {})
    if given is None:
        if not bundled:
            raise ModelLoadError(
                "Expected --model PATH. Received: no --model given and no default model "
                "is installed."
            )
        return Path(next(iter(bundled.values())))
    text = str(given)
    if not text.startswith(BUNDLED_PREFIX):
        return Path(text)
    name = text[len(BUNDLED_PREFIX) :]
    if name not in bundled:
        valid = " or ".join(BUNDLED_PREFIX + known for known in bundled) or "a model file"
        raise ModelLoadError(f"Expected --model {valid}. Received: {text!r}.")
    return Path(bundled[name])


def open_model(args: argparse.Namespace, bundled: Mapping[str, Path] | None) -> OpenedModel:
    """Load the model the shared options name; files they name are read first, so a
    bad labels or inputs file fails before the (slow) model load.

    Args:
        args: the parsed shared options.
        bundled: name -> file of the shipped networks, the default first
            (``model_path``); None when there are none.

    Raises:
        ModelLoadError: no model or an unknown bundled name; LabelsError: unreadable
            labels; and the engine's errors for a bad preset, output or input name.
    """
    from inspector.engine.extraction import Inspector
    from inspector.engine.labels import load_labels
    from inspector.engine.model_inputs import load_other_inputs
    from inspector.engine.model_loading import load_model

    path = model_path(args.model, bundled)
    labels = load_labels(args.labels) if args.labels else None
    others = load_other_inputs(args.other_inputs) if args.other_inputs else None
    model = load_model(path, unsafe=args.unsafe)
    preprocess = decide_preprocessing(model, args.preprocess, args.value_range)
    inspector = Inspector(model, image_input=args.image_input, other_inputs=others)
    output = inspector.output_index(args.output)
    if labels is not None:
        try:
            inspector.with_labels(labels, output)  # the check the app makes too
        except LabelsError as error:
            raise LabelsError(f"{error} (in --labels)") from None
    return OpenedModel(
        Path(path),
        model,
        preprocess,
        labels,
        output,
        inspector.output_names[output],
        args.image_input,
        others,
    )
