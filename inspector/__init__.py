"""layer-inspector's Qt-free core: load models and images, inspect every layer."""

from inspector.errors import (
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
    "load_image",
]
