"""The one interface every attribution method implements, and the registry.

An attribution method turns one ``Inspection`` (an image, a target class and
every layer's activation and gradient) into a heatmap at the input resolution.
Methods that need only gradients the inspection already holds read them from it;
the others run extra batched passes through the ``Inspector``.

Adding a method is one new module in this package, whose class is decorated
with ``@register``, plus one import line in ``inspector/attribution/__init__.py``.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from inspector.engine.errors import AttributionError
from inspector.engine.inspection import read_only
from inspector.engine.progress import Progress, report

if TYPE_CHECKING:
    from inspector.engine.extraction import Inspector
    from inspector.engine.inspection import Inspection


@dataclass(frozen=True)
class Attribution:
    """One attribution map for one image and one target.

    Attributes:
        method: registry name of the method, e.g. ``"gradcam"``.
        title: human-readable name, e.g. ``"Grad-CAM"``.
        heatmap: float32 ``(H, W)`` at the input image's resolution, read-only.
            Its value range depends on the method (each method's docstring says).
        signed: True when the sign is meaningful (evidence for vs. against the
            target); False when the map is non-negative by construction.
        layer: the layer the map was computed from (Grad-CAM, Grad-CAM++), else None.
        citation: the paper, short form, e.g. ``"Selvaraju et al., ICCV 2017"``.
        details: numbers a method reports beside its map, read-only; e.g.
            Integrated Gradients' completeness check (``attribution_sum`` against
            ``score_difference``). Empty for most methods.
    """

    method: str
    title: str
    heatmap: np.ndarray
    signed: bool
    layer: str | None
    citation: str
    details: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A private copy, so freezing it never freezes the caller's array.
        heatmap = np.array(self.heatmap, dtype=np.float32)
        if heatmap.ndim != 2:
            raise ValueError(f"Expected a (H, W) heatmap. Received: shape={heatmap.shape}.")
        # Frozen dataclass: the only way to normalise a field after construction.
        object.__setattr__(self, "heatmap", read_only(heatmap))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


class AttributionMethod(abc.ABC):
    """Base class of the attribution methods: options in, one ``attribute`` verb.

    Subclasses declare ``name``, ``title``, ``citation`` and ``defaults`` (every
    option they accept with its default value). Options become attributes of the
    instance, e.g. ``IntegratedGradients(steps=64).steps == 64``.

    Args:
        **options: method options (``steps``, ``samples``, ``layer``, ...); an
            option the method does not know raises ``AttributionError``.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    citation: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}
    # Set for one call by ``compute_attribution``: ``inspector.engine.progress``'s
    # progress(passes done, passes in total, "passes of <name>") after each batch; the
    # caller's callable may raise ``CancelledError``.
    progress: Progress | None = None

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.defaults))
        if unknown:
            known = ", ".join(sorted(self.defaults)) or "none"
            raise AttributionError(
                f"Expected options of the {self.name!r} method among: {known}. "
                f"Received: unknown option(s) {', '.join(unknown)}."
            )
        for key, value in {**self.defaults, **options}.items():
            setattr(self, key, value)
        self.check_options()

    def check_options(self) -> None:
        """Raise ``AttributionError`` for an option value the method cannot use.

        Subclasses that add checks call ``super().check_options()`` first.
        """
        if "batch_size" in self.defaults:
            check_positive_int(self, "batch_size")

    def passes(self, inspection: Inspection) -> int:
        """How many images this method runs through the model beyond the inspection
        itself (forward or forward+backward passes): 0 for the methods that read the
        inspection's own gradients. What ``inspect``'s default budget counts."""
        return 0

    def report(self, done: int, total: int) -> None:
        """Tell the caller ``done`` of ``total`` passes are finished (a no-op without one)."""
        report(self.progress, done, total, f"passes of {self.name}")

    @property
    def options(self) -> dict[str, Any]:
        """The options in effect, defaults included."""
        return {key: getattr(self, key) for key in self.defaults}

    @abc.abstractmethod
    def attribute(self, inspection: Inspection, inspector: Inspector) -> Attribution:
        """Compute the map for ``inspection.target`` on ``inspection.output_index``.

        Args:
            inspection: the result of ``inspector.inspect`` for one image.
            inspector: the inspector that made it, for methods that need extra passes.

        Returns:
            An ``Attribution`` whose heatmap is float32 ``(H, W)`` at input size.
        """

    def _result(
        self,
        heatmap: np.ndarray,
        signed: bool,
        layer: str | None = None,
        details: Mapping[str, float] | None = None,
    ):
        return Attribution(
            self.name, self.title, heatmap, signed, layer, self.citation, details or {}
        )

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({options})"


def check_positive_int(method: AttributionMethod, option: str, minimum: int = 1) -> None:
    """Raise ``AttributionError`` unless ``method.<option>`` is an int >= ``minimum``."""
    value = getattr(method, option)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise AttributionError(
            f"Expected {option} to be an integer >= {minimum} for the {method.name!r} "
            f"method. Received: {option}={value!r}."
        )


REGISTRY: dict[str, type[AttributionMethod]] = {}


def register(cls: type[AttributionMethod]) -> type[AttributionMethod]:
    """Class decorator that adds an attribution method to ``REGISTRY`` by its name."""
    if cls.name in REGISTRY and REGISTRY[cls.name] is not cls:
        raise ValueError(
            f"Expected a new attribution method name. Received: {cls.name!r}, "
            f"already registered by {REGISTRY[cls.name].__name__}."
        )
    REGISTRY[cls.name] = cls
    return cls
