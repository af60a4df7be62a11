"""Dataset-level unit analysis: what each channel detects across many images.

Top-k mining, unit gradients, feature visualisation and dissection, written as a
map over shards plus an associative merge. It may import ``inspector.engine`` and
``inspector.attribution``, never ``render``, ``cli`` or Qt.
"""

from inspector.units.concepts import ConceptSet, combine, synthetic_edges
from inspector.units.dissection import Dissector, LayerDissection
from inspector.units.feature_visualization import FeatureVisualizer, Visualizations
from inspector.units.probe import LayerProbe
from inspector.units.results import LayerUnits, UnitsResult
from inspector.units.run import mine_units
from inspector.units.sources import ArraySource, DatasetSource, FolderSource, ImageSource
from inspector.units.unit_gradients import TopCrops, UnitGradients, top_crops

__all__ = [
    "ArraySource",
    "ConceptSet",
    "DatasetSource",
    "Dissector",
    "FeatureVisualizer",
    "FolderSource",
    "ImageSource",
    "LayerDissection",
    "LayerProbe",
    "LayerUnits",
    "TopCrops",
    "UnitGradients",
    "UnitsResult",
    "Visualizations",
    "combine",
    "mine_units",
    "synthetic_edges",
    "top_crops",
]
