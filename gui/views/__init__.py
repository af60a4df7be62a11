"""One module per tab or panel of the window; each paints the frozen results it is given
and emits requests that a controller (``gui.app``) runs on the worker. It may import
``gui.widgets``, ``gui.training`` and the answers of ``gui.jobs`` (never its worker,
engine cache or long jobs, not even for type hints), ``models`` and ``inspector``.
"""
