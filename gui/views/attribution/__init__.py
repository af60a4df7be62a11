"""Attribution tab: one method's map, the Compare grid, the method options.
Each module paints frozen results; see ``gui.views``.
"""
