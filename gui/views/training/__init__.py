"""Training tab and Weight updates: train the face model or the open model,
and replay a recorded run.
Each module paints frozen results; see ``gui.views``.
"""
