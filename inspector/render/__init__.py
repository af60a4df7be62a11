"""Rendering and export: colormaps, figures, the one-page report, folder exports.

Turns engine and attribution results into pictures and files (PNG, PDF, NPZ,
JSON). It may import ``inspector.engine`` and ``inspector.attribution``, never Qt;
``colormaps`` needs NumPy alone, so the GUI can use it before TensorFlow loads.
"""
