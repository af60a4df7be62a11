"""The left dock's panels: the model's layer tree, the input and its crop, and
the prediction.
Each module paints frozen results; see ``gui.views``.
"""
