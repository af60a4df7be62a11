"""layer-inspector's Qt-free core: load models and images, inspect every layer.

The public names are loaded on first use. ``import inspector`` is therefore
cheap, and a GUI that only needs ``inspector.colormaps`` never waits for
TensorFlow. Whatever needs TensorFlow imports it through
``import_tensorflow_quietly`` first, so that its C++ start-up lines never reach
the terminal (a CLI error must stay one line on stderr).
"""

from __future__ import annotations

import importlib

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
from inspector.quiet import import_tensorflow_quietly

# Public name -> the module that defines it.
_LAZY = {
    "Attribution": "inspector.attribution",
    "compute_attribution": "inspector.attribution",
    "get_method": "inspector.attribution",
    "method_names": "inspector.attribution",
    "Inspector": "inspector.extraction",
    "PreparedImage": "inspector.image_loading",
    "load_image": "inspector.image_loading",
    "Inspection": "inspector.inspection",
    "LayerRecord": "inspector.inspection",
    "ReceptiveField": "inspector.inspection",
    "load_model": "inspector.model_loading",
    "save_model": "inspector.model_loading",
    "TrainingRecorder": "inspector.recorder",
    "TrainingRun": "inspector.run_directory",
    "load_run": "inspector.run_directory",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'inspector' has no attribute {name!r}")
    import_tensorflow_quietly()
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AttributionError",
    "DatasetError",
    "ExportError",
    "ImageLoadError",
    "InspectorError",
    "LayerNotFoundError",
    "ModelLoadError",
    "RunDirectoryError",
    "TargetError",
    "UnsafeModelError",
    "UnsupportedModelError",
    *_LAZY,
]
