"""layer-inspector's Qt-free core for any Keras 3 model; ``engine`` is its base.

Public names load on first use, so ``import inspector`` stays cheap and the GUI
never waits for TensorFlow; whatever needs TensorFlow imports it quietly first
(a CLI error must stay one line on stderr). Never imports ``models``, ``gui`` or Qt.
"""

from __future__ import annotations

import importlib

from inspector.bundled import bundled_data, bundled_model_path, bundled_run_path
from inspector.engine.errors import (
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
from inspector.engine.quiet import import_tensorflow_quietly

# Public name -> the module that defines it.
_LAZY = {
    "Attribution": "inspector.attribution",
    "compute_attribution": "inspector.attribution",
    "get_method": "inspector.attribution",
    "method_names": "inspector.attribution",
    "Inspector": "inspector.engine.extraction",
    "PreparedImage": "inspector.engine.image_loading",
    "load_image": "inspector.engine.image_loading",
    "Inspection": "inspector.engine.inspection",
    "LayerRecord": "inspector.engine.inspection",
    "ReceptiveField": "inspector.engine.inspection",
    "load_model": "inspector.engine.model_loading",
    "save_model": "inspector.engine.model_loading",
    "TrainingRecorder": "inspector.recording.recorder",
    "TrainingRun": "inspector.recording.run_directory",
    "load_run": "inspector.recording.run_directory",
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
    "bundled_data",
    "bundled_model_path",
    "bundled_run_path",
    *_LAZY,
]
