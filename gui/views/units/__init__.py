"""Units tab: the unit view, its hierarchy chart, its painting and its export.
Each module paints frozen results; see ``gui.views``.
"""
