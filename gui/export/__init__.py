"""Export from the app: dialogs, and the actions that write views, folders, NPZ and reports.

The writes run on the worker it is given, through ``inspector.render``. It may
import ``inspector`` and ``gui.widgets``, never ``gui.app`` (type hints aside).
"""
