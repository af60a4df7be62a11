"""Class names: from a file the user gives, or the bundled 1000 ImageNet names.

``load_labels`` reads what users have: a text file with one name per line, a JSON
list, a JSON object ``{"0": "cat", ...}``, or Keras's ``imagenet_class_index.json``
form ``{"0": ["n01440764", "tench"], ...}``. The ImageNet names ship with the
package (``data/imagenet_classes.json``; see ``data/SOURCE.md`` for their origin).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from inspector.engine.errors import LabelsError

IMAGENET_CLASSES = 1000
_IMAGENET_FILE = Path(__file__).with_name("data") / "imagenet_classes.json"


@functools.cache
def imagenet_labels() -> tuple[str, ...]:
    """The 1000 ImageNet-1k class names in class-index order (0 = "tench")."""
    names = json.loads(_IMAGENET_FILE.read_text(encoding="utf-8"))
    return tuple(str(name) for name in names)


def checked_labels(labels, classes: int, output: str) -> tuple[str, ...]:
    """``labels`` as a tuple when there is one per class of ``output``.

    Raises:
        LabelsError: another count, with both numbers and the output's name.
    """
    labels = tuple(labels)
    if len(labels) != classes:
        raise LabelsError(
            f"Expected {classes} class names for output {output!r}. Received: {len(labels)} names."
        )
    return labels


def load_labels(path: str | Path) -> tuple[str, ...]:
    """Class names from a ``.txt`` (one per line) or ``.json`` (list or object) file.

    Args:
        path: the file. Blank lines of a text file are ignored; an object's keys
            must be the class indices ``0..n-1``; a value that is a list (Keras's
            ``[wnid, name]``) gives its last item.

    Returns:
        The names, index 0 first.

    Raises:
        LabelsError: a missing, unreadable, empty or malformed file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LabelsError(
            f"Expected a readable labels file (.txt or .json). Received: {str(path)!r} "
            f"({type(error).__name__}: {error})."
        ) from None
    if path.suffix.lower() == ".json":
        names = _from_json(text, path)
    else:
        names = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not names:
        raise LabelsError(
            f"Expected at least one class name. Received: {path.name!r}, which holds none."
        )
    return names


def _from_json(text: str, path: Path) -> tuple[str, ...]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise LabelsError(
            f"Expected a JSON list or object of class names. Received: {path.name!r}, "
            f"which is not valid JSON ({error})."
        ) from None
    if isinstance(value, dict) and isinstance(value.get("labels"), list):
        value = value["labels"]  # the sidecar form {"labels": [...], "preprocess": ...}
    if isinstance(value, list):
        return tuple(_name(item, path) for item in value)
    if isinstance(value, dict):
        try:
            indexed = {int(key): item for key, item in value.items()}
        except ValueError:
            indexed = {}
        if sorted(indexed) == list(range(len(value))):
            return tuple(_name(indexed[i], path) for i in range(len(value)))
    raise LabelsError(
        "Expected a JSON list of names or an object keyed by class index 0..n-1. "
        f"Received: {path.name!r} holding {type(value).__name__} {str(value)[:80]!r}."
    )


def _name(item, path: Path) -> str:
    if isinstance(item, list) and item:
        item = item[-1]
    if isinstance(item, (str, int, float)):
        return str(item)
    raise LabelsError(
        f"Expected each class name to be a string. Received: {item!r} in {path.name!r}."
    )
