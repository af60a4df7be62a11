"""The defaults the command line and the app share, in one place.

Both sides read them from here (``units --top-k``, the Units tab's mining,
``evaluate --steps``, the Trust tab's curves), so a default can never differ
between the two. Plain numbers: this module imports nothing.
"""

TOP_K = 9  # top images kept per unit: the 3x3 grid the Deep Visualization Toolbox showed
BATCH_SIZE = 64  # images per compiled call in mining, dissection and the selectivity measures
CURVE_STEPS = 20  # deletion/insertion steps: the resolution of Petsiuk et al.'s (2018) figures
