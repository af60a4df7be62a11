"""Building blocks the views share: image items, colour mapping, curves, mosaics.

Plain Qt and pyqtgraph helpers. They import only ``inspector.render.colormaps``
(NumPy only) and nothing else of ``gui``.
"""
