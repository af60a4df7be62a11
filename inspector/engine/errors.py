"""The one exception family of layer-inspector.

Every message names what was expected and what was received, in the style of
Keras's own errors ("Expected ... Received: x=..."). The CLI turns an
``InspectorError`` into one line on stderr and exit code 2; the GUI turns it into
a message box and keeps its previous state.
"""

from __future__ import annotations


class InspectorError(Exception):
    """Base class for every error the tool reports to a user."""


class ModelLoadError(InspectorError):
    """A model file is missing, corrupt, of an unknown kind, or not a model."""


class UnsafeModelError(ModelLoadError):
    """A model file carries Python code (a lambda) and safe mode is on."""


class ImageLoadError(InspectorError):
    """An image is missing, truncated, too large, or not an image at all."""


class LayerNotFoundError(InspectorError):
    """A layer name that the model does not have."""


class TargetError(InspectorError):
    """A target class or model output that does not exist."""


class UnsupportedModelError(InspectorError):
    """A model whose structure the inspector cannot handle (e.g. several inputs)."""


class PreprocessingError(InspectorError):
    """An unknown preprocessing preset, or one that does not fit the model's input."""


class LabelsError(InspectorError):
    """A class-names file that is missing, unreadable or malformed."""


class DatasetError(InspectorError):
    """A dataset folder that is empty, has one class, or has no readable image."""


class RunDirectoryError(InspectorError):
    """A training run directory that is missing or unreadable."""


class AttributionError(InspectorError):
    """An unknown attribution method, a bad method option, or an unusable layer."""


class ExportError(InspectorError):
    """Writing plots or arrays to disk failed."""


class CancelledError(InspectorError):
    """A long job (trust metrics, ...) stopped because its caller asked it to."""


class ClusterError(InspectorError):
    """A Dask scheduler that cannot be reached, or a malformed --scheduler address."""
