"""One module per tab or panel of the window; each paints the frozen results it is given.

A view never calls TensorFlow on the GUI thread: it emits a request that the window
runs on the worker. It may import ``gui.widgets``, ``gui.training``, ``models`` and
``inspector`` (TensorFlow-free at import time), never ``gui.app`` (type hints aside).
"""
