"""layer-inspector's Qt-free core: load models and images, inspect every layer."""

# TensorFlow's C++ start-up lines go straight to fd 2; import it quietly first,
# so that a CLI error stays one line on stderr.
from inspector.quiet import import_tensorflow_quietly

import_tensorflow_quietly()

from inspector.attribution import (  # noqa: E402
    Attribution,
    compute_attribution,
    get_method,
    method_names,
)
from inspector.errors import (  # noqa: E402
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
from inspector.extraction import Inspector  # noqa: E402
from inspector.image_loading import PreparedImage, load_image  # noqa: E402
from inspector.inspection import Inspection, LayerRecord, ReceptiveField  # noqa: E402
from inspector.model_loading import load_model, save_model  # noqa: E402

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
    "load_model",
    "method_names",
    "save_model",
]
