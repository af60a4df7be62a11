"""layer-inspector's Qt-free core: load models and images, inspect every layer."""

from inspector.attribution import Attribution, compute_attribution, get_method, method_names
from inspector.errors import (
    AttributionError,
    DatasetError,
    ExportError,
    ImageLoadError,
    InspectorError,
    LayerNotFoundError,
    ModelLoadError,
    RunDirectoryError,
    TargetError,
    UnsafeModelError,
    UnsupportedModelError,
)
from inspector.extraction import Inspector
from inspector.image_loading import PreparedImage, load_image
from inspector.inspection import Inspection, LayerRecord, ReceptiveField

__all__ = [
    "Attribution",
    "AttributionError",
    "DatasetError",
    "ExportError",
    "ImageLoadError",
    "Inspection",
    "Inspector",
    "InspectorError",
    "LayerNotFoundError",
    "LayerRecord",
    "ModelLoadError",
    "PreparedImage",
    "ReceptiveField",
    "RunDirectoryError",
    "TargetError",
    "UnsafeModelError",
    "UnsupportedModelError",
    "compute_attribution",
    "get_method",
    "load_image",
    "method_names",
]
