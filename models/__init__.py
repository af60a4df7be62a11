"""The face CNN, its data, its training, and the shipped trained default model.

Imports here stay light (no TensorFlow) so that asking for the default paths is
instant; import ``models.training`` to train.
"""

from models.default_model import default_model_path, default_run_path

__all__ = ["default_model_path", "default_run_path"]
