"""Attribution methods behind one interface and a registry.

Every method turns an ``Inspection`` into an ``Attribution`` (a heatmap at the
input resolution). A new method is one module in this package with a class
decorated by ``@register``, plus one import line below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from inspector.attribution.base import (
    REGISTRY,
    Attribution,
    AttributionError,
    AttributionMethod,
    register,
)
from inspector.engine.progress import Progress

# One line per method: importing the module registers its class.
from inspector.attribution import saliency  # noqa: F401  isort: skip
from inspector.attribution import gradient_x_input  # noqa: F401  isort: skip
from inspector.attribution import smoothgrad  # noqa: F401  isort: skip
from inspector.attribution import integrated_gradients  # noqa: F401  isort: skip
from inspector.attribution import gradcam  # noqa: F401  isort: skip
from inspector.attribution import gradcam_plus_plus  # noqa: F401  isort: skip
from inspector.attribution import occlusion  # noqa: F401  isort: skip
from inspector.attribution import guided_backprop  # noqa: F401  isort: skip
from inspector.attribution import deconvnet  # noqa: F401  isort: skip
from inspector.attribution import layercam  # noqa: F401  isort: skip
from inspector.attribution import scorecam  # noqa: F401  isort: skip
from inspector.attribution import rise  # noqa: F401  isort: skip
from inspector.attribution import vargrad  # noqa: F401  isort: skip

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection

__all__ = [
    "PASS_BUDGET",
    "REGISTRY",
    "Attribution",
    "AttributionError",
    "AttributionMethod",
    "compute_attribution",
    "default_methods",
    "get_method",
    "method_names",
    "register",
]


def method_names() -> tuple[str, ...]:
    """Registry names of every attribution method, in registration order."""
    return tuple(REGISTRY)


def get_method(name: str, **options: Any) -> AttributionMethod:
    """An instance of the method registered as ``name``, configured with ``options``.

    Raises:
        AttributionError: ``name`` is not registered, or an option is unknown or bad.
    """
    if name not in REGISTRY:
        raise AttributionError(
            f"Expected one of the attribution methods: {', '.join(method_names())}. "
            f"Received: method={name!r}."
        )
    return REGISTRY[name](**options)


def compute_attribution(
    name: str,
    inspection: Inspection,
    inspector: Inspector,
    progress: Progress | None = None,
    **options: Any,
) -> Attribution:
    """Compute the ``name`` attribution map for ``inspection``.

    Args:
        name: a registry name, e.g. ``"gradcam"`` (see ``method_names()``).
        inspection: the result of ``inspector.inspect`` for one image.
        inspector: the inspector that produced ``inspection``.
        progress: ``inspector.engine.progress``'s callable, with (passes done, passes
            in total, what) after each batch of a method that runs the model; it may
            raise ``CancelledError`` to stop.
        **options: method options, e.g. ``steps=128`` or ``layer="conv2d_1"``.

    Returns:
        An ``Attribution`` whose heatmap is float32 ``(H, W)`` at input size.
    """
    method = get_method(name, **options)
    method.progress = progress
    return method.attribute(inspection, inspector)


PASS_BUDGET = 20  # extra model passes a method may cost and still run by default


def default_methods(inspection: Inspection) -> tuple[list[str], dict[str, int]]:
    """``inspect``'s default: every method that costs at most ``PASS_BUDGET`` extra
    passes on this model and image (the ones that read the inspection's own
    gradients cost none), and the others with their cost in passes.

    Returns:
        ``(names that run, {name: passes} of those left out)``, registry order.
    """
    chosen, left = [], {}
    for name in method_names():
        try:
            cost = get_method(name).passes(inspection)
        except AttributionError:  # e.g. no CAM layer: the method would say so itself
            cost = 0
        if cost <= PASS_BUDGET:
            chosen.append(name)
        else:
            left[name] = cost
    return chosen, left
