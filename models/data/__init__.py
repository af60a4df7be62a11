"""Bundled face data (ORL faces as one .npz, face-part annotations) and the scripts that make them.

The scripts run once, by hand, at development time; the app and training only read
the files they wrote. Nothing here imports TensorFlow or Qt.
"""
