"""The Units view's worker jobs and their frozen answers.

Five jobs, each on the app's one worker with progress and Cancel
(``gui.jobs.long_jobs``):

* ``"units/mine"``: top-k mining of every conv layer over the chosen data set (a
  bundled set by name, or a folder: ``inspector.units.sources.open_source``, the
  one reading of ``--data``; ``inspector.units.run.mine_units``, whose on-disk
  cache makes a second run, or the app reopening, answer at once);
* ``"units/layer"``: for one layer, every channel's top crops with the unit's
  gradient on them (``top_crops``), on screen as soon as they are done;
* ``"units/visual"``: feature visualisations (``FeatureVisualizer``) of a few
  channels: the chosen channel alone first, then its neighbours a batch at a
  time (``visual_order``), never the whole layer up front. A channel's image
  does not depend on its batch, so the order changes nothing but the wait;
* ``"units/dissect"``: Network Dissection of every conv layer (``Dissector``),
  on the synthetic oriented edges plus the face concepts when the app has them,
  then the three selectivity measures of the model and of its random-init copies
  (``measure_selectivity``), which need the face concepts;
* ``"units/compare"``: the same dissection of another model file (a bundled
  network), which the hierarchy chart overlays on the open model's.

TensorFlow, ``inspector`` and ``models`` are imported inside the jobs only: the
window is built before TensorFlow loads.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gui.jobs.long_jobs import JobControl
from inspector.defaults import BATCH_SIZE, TOP_K

if TYPE_CHECKING:
    from inspector.units.dissection import LayerDissection
    from inspector.units.feature_visualization import Visualizations
    from inspector.units.results import UnitsResult
    from inspector.units.selectivity_report import SelectivityReport
    from inspector.units.unit_gradients import TopCrops

MINE_JOB, LAYER_JOB, DISSECT_JOB = "units/mine", "units/layer", "units/dissect"
COMPARE_JOB = "units/compare"  # the dissection of another model, for the chart's overlay
VISUAL_JOB = "units/visual"  # feature visualisations of a few channels of one layer
JOBS = (MINE_JOB, LAYER_JOB, DISSECT_JOB, COMPARE_JOB, VISUAL_JOB)
# The Data picker's bundled sets, the default first (models.datasets.unit_data.BUNDLED_SETS).
BUNDLED_SETS = {
    "bundled-natural": "Face photos and natural photos",
    "bundled-faces": "Face photos only (500)",
    "bundled": "Everything bundled (synthetic too)",
}
DEFAULT_DATA = "bundled-natural"
VISUALIZE_BATCH = 16  # channels per compiled ascent: one progress report each

# (set name, (H, W, C)) -> uint8 images and is_face (inspector.units.sources.BundledProvider);
# and (H, W, C) -> ConceptSet.
# Both take ``progress=`` too: a bundled set's first build says its steps.
ImagesProvider = Callable[..., object]
ConceptsProvider = Callable[..., object]
# () -> name -> model file: the networks *Compare with* offers before they are dissected.
NetworksProvider = Callable[[], dict]

# Worker-side only: the probe (one traced pass over the conv layers) and the
# tools built on it, per loaded model; weak keys free them with the model.
_tools: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class MinedUnits:
    """Top-k mining of every conv layer: ``key`` = (model, data), ``data``: its name.

    ``is_face``: bool ``(N,)`` per listing index where the set knows it (the bundled
    sets), else None.
    """

    key: tuple
    data: str
    result: UnitsResult
    is_face: np.ndarray | None = None

    def faces_in_top(self, layer: str, channel: int) -> tuple[int, int] | None:
        """(faces, images) among the channel's top images, or None if unknown."""
        if self.is_face is None:
            return None
        top = self.result.layer(layer).images[channel]
        present = top[top >= 0]
        return int(self.is_face[present].sum()), len(present)


@dataclass(frozen=True)
class LayerDetail:
    """One layer's top crops with unit gradients, and the visualisations of the
    channels done so far (any subset, sorted by channel).

    ``cropped`` names the channels whose crops were computed (None: every one): the
    chosen channel's come first, the layer's right after.
    """

    key: tuple
    layer: str
    crops: TopCrops
    visuals: Visualizations
    cropped: tuple[int, ...] | None = None

    def has_crops(self, channel: int) -> bool:
        return self.cropped is None or channel in self.cropped

    def with_crops(self, full: LayerDetail) -> LayerDetail:
        """This detail with every channel's crops from ``full``, its visuals kept."""
        from dataclasses import replace

        return replace(self, crops=full.crops, cropped=full.cropped)

    def visual(self, channel: int) -> tuple[np.ndarray, float] | None:
        """``(image (H, W, C), activation)`` of ``channel``, or None if not done yet."""
        found = np.flatnonzero(self.visuals.channels == channel)
        if not len(found):
            return None
        return self.visuals.images[found[0]], float(self.visuals.activations[found[0]])

    def with_visuals(self, more: Visualizations) -> LayerDetail:
        """This detail with ``more`` channels' visualisations merged in."""
        from dataclasses import replace

        from inspector.units.feature_visualization import Visualizations

        new = ~np.isin(more.channels, self.visuals.channels)
        if not new.any():
            return self
        parts = [self.visuals] if len(self.visuals.channels) else []
        channels = np.concatenate([p.channels for p in parts] + [more.channels[new]])
        images = np.concatenate([p.images for p in parts] + [more.images[new]])
        acts = np.concatenate([p.activations for p in parts] + [more.activations[new]])
        order = np.argsort(channels, kind="stable")
        merged = Visualizations(self.layer, channels[order], images[order], acts[order])
        return replace(self, visuals=merged)


def visual_order(channels: int, chosen: int, done) -> list[int]:
    """Channels still to visualise, the chosen one first, then by distance from it."""
    finished = set(int(c) for c in done)
    order = sorted(range(channels), key=lambda c: (abs(c - chosen), c))
    return [c for c in order if c not in finished]


@dataclass(frozen=True)
class DissectionReport:
    """Network Dissection labels of every conv layer; ``concepts`` says which masks.

    ``scored`` names the concept groups that had masks: without the face masks
    (a model they do not fit) part and face were not measured, which is not the
    same as measured zero, and the views say so. ``selectivity``: the three
    selectivity measures against the random-init copies, with the hierarchy
    verdict (None without the face concepts); ``exemplars``: its strongest unit of
    each kind (``inspector.units.exemplars.strongest_units``).
    """

    model_key: tuple
    layers: tuple[LayerDissection, ...]
    concepts: str
    scored: tuple[str, ...] = ("edge", "part", "face")
    selectivity: SelectivityReport | None = None
    exemplars: dict = field(default_factory=dict)

    def layer(self, name: str) -> LayerDissection | None:
        return next((d for d in self.layers if d.layer == name), None)


class _Tools:
    """The probe of a model, fed with the app's preprocessing, and the gradient and
    visualisation tools on it."""

    def __init__(self, model, preprocess) -> None:
        from inspector.units.feature_visualization import FeatureVisualizer
        from inspector.units.probe import LayerProbe
        from inspector.units.unit_gradients import UnitGradients

        self.probe = LayerProbe(model, preprocess=preprocess)
        self.gradients = UnitGradients(self.probe)
        self.visualizer = FeatureVisualizer(self.probe)
        self.sources: dict[tuple, object] = {}  # mining key -> the source mined


def _tools_of(model, preprocess) -> _Tools:
    """The tools of ``model`` fed through ``preprocess`` (the same ``Preprocessing``
    the app's inspection of that model used, so the Units tab mines what the status
    bar says), built once per model and preset."""
    if preprocess is None:  # an inspection of an array given as is
        from inspector.engine.preprocessing import decide_preprocessing

        preprocess = decide_preprocessing(model)
    by_preset = _tools.setdefault(model, {})
    tools = by_preset.get(preprocess.preset)
    if tools is None:
        tools = by_preset[preprocess.preset] = _Tools(model, preprocess)
    return tools


def bundled_images(name: str, shape: tuple[int, int, int], progress=None):
    """A bundled mining set by name (``models.datasets.unit_data.bundled_unit_set``)."""
    from models.datasets.unit_data import bundled_unit_set

    return bundled_unit_set(name, shape, progress)


def bundled_networks() -> dict[str, Path]:
    """name -> file of every bundled network that is installed (``models.default_model``)."""
    from models.default_model import bundled_models

    return {name: path for name, path in bundled_models().items() if path.is_file()}


def bundled_concepts(shape: tuple[int, int, int], progress=None):
    """Eye, nose, mouth and face masks on the bundled faces (``models.datasets.unit_data``)."""
    from models.datasets.unit_data import bundled_face_concepts

    return bundled_face_concepts(shape, progress)


def _new_source(tools: _Tools, data: str, provider: ImagesProvider, progress=None):
    """A fresh source (a folder is listed again: its files may have changed)."""
    from inspector.units.sources import open_source

    probe = tools.probe
    return open_source(data, probe.input_shape, probe.preprocess, provider, progress)


def mine(
    context, control: JobControl, key, data: str, provider, cache_dir, preprocess
) -> MinedUnits:
    """The mining job: every conv layer over ``data``, cached on disk by the core."""
    from inspector.engine.errors import DatasetError
    from inspector.units.run import mine_units

    control.progress(0, 0, "reading the data set")
    tools = _tools_of(context.model, preprocess)
    source = _new_source(tools, data, provider, control.progress)
    result = mine_units(
        tools.probe,
        source,
        k=TOP_K,
        batch_size=BATCH_SIZE,
        cache_dir=cache_dir,
        progress=control.progress,
        cancelled=control.cancelled,
    )
    if result.images == 0:
        raise DatasetError(
            f"Expected at least one readable image. Received: {len(source)} files, none readable."
        )
    # The layer jobs read their crops from the very listing that was mined.
    tools.sources[key] = source
    return MinedUnits(key, data, result, getattr(source, "is_face", None))


def layer_crops(
    context, control: JobControl, key, mined: MinedUnits, layer: str, provider, channels=None
):
    """The layer job: top crops and their unit gradients of ``channels`` (None:
    every channel), with no visualisation yet (``layer_visuals`` adds them)."""
    from inspector.units.feature_visualization import Visualizations
    from inspector.units.unit_gradients import top_crops

    # The probe the layer was mined with: the same preprocessing, whatever changed since.
    tools = _tools_of(context.model, mined.result.preprocess)
    units = mined.result.layer(layer)
    control.progress(0, 1, "top crops and their gradients")
    source = tools.sources.get(mined.key)
    if source is None:  # the model was reloaded since it was mined: list the data again
        source = tools.sources[mined.key] = _new_source(tools, mined.data, provider)
    crops = top_crops(units, source, tools.gradients, BATCH_SIZE, channels=channels)
    none = Visualizations(
        layer, np.zeros(0, np.int32), np.zeros((0, 1, 1, 1), np.float32), np.zeros(0, np.float32)
    )
    cropped = None if channels is None else tuple(int(c) for c in channels)
    return LayerDetail(key, layer, crops, none, cropped)


def layer_visuals(context, control: JobControl, mined: MinedUnits, layer: str, channels):
    """The visual job: feature visualisations of ``channels`` (int ``(N,)``) of
    ``layer``, all in one compiled batch, with progress in ascent steps."""
    tools = _tools_of(context.model, mined.result.preprocess)
    chosen = np.asarray(channels, np.int32)
    return tools.visualizer.visualize(
        layer, chosen, len(chosen), cancelled=control.cancelled, progress=control.progress
    )


def dissect(
    context, control: JobControl, model_key, concepts_provider, preprocess
) -> DissectionReport:
    """The dissection job of the open model (``dissect_probe``)."""
    tools = _tools_of(context.model, preprocess)
    return dissect_probe(tools, control, model_key, concepts_provider)


def dissect_file(control: JobControl, path, concepts_provider) -> DissectionReport:
    """The dissection of a model file that is not the open one (the chart's *Compare
    with*), fed as its own file says (``decide_preprocessing``), keyed as the
    session keys it once opened: (path, unsafe False, preset)."""
    from inspector.engine.model_loading import load_model
    from inspector.engine.preprocessing import decide_preprocessing

    control.progress(0, 0, f"loading {Path(path).name}")
    model = load_model(path)
    preprocess = decide_preprocessing(model)
    key = (str(path), False, preprocess.preset)
    return dissect_probe(_tools_of(model, preprocess), control, key, concepts_provider)


def dissect_probe(tools: _Tools, control: JobControl, model_key, concepts_provider):
    """Edges always, face parts and faces when a provider is given; then the
    selectivity measures (model and random-init copies) on the face concepts."""
    from inspector.engine.errors import DatasetError
    from inspector.units.concepts import combine, synthetic_edges
    from inspector.units.dissection import Dissector
    from inspector.units.exemplars import strongest_units
    from inspector.units.selectivity_report import measure_selectivity

    shape = tools.probe.input_shape
    control.progress(0, 0, "building the concept masks")
    edges = concepts = synthetic_edges(shape[0], shape[2])
    label = "oriented edges only (no face-part masks installed)"
    faces = None
    if concepts_provider is not None:
        try:
            faces = concepts_provider(shape, progress=control.progress)
            concepts = combine(edges, faces)
            label = "oriented edges, face parts and faces"
        except (DatasetError, ValueError) as error:  # a shape the face masks do not fit
            label = f"oriented edges only (face masks do not fit: {error})"
    layers = Dissector(tools.probe).dissect(
        concepts,
        cancelled=control.cancelled,
        progress=control.progress,
    )
    scored = tuple(g for g in ("edge", "part", "face") if g in concepts.groups.values())
    selectivity = None
    if faces is not None:
        selectivity = measure_selectivity(
            tools.probe,
            faces,
            progress=control.progress,
            cancelled=control.cancelled,
        )
    exemplars = strongest_units(selectivity) if selectivity is not None else {}
    return DissectionReport(model_key, tuple(layers), label, scored, selectivity, exemplars)
