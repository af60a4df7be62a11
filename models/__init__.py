"""The bundled face networks: ``face_cnn`` (architecture), ``default_model`` (where
they live), ``settings``, ``data/`` (raw files), ``datasets/``, ``training/`` and
``evaluation/``. Imports here stay light (no TensorFlow).
"""

from models.default_model import default_model_path, default_run_path

__all__ = ["default_model_path", "default_run_path"]
