"""The PyQt6 + pyqtgraph desktop app; it shows what ``inspector`` computes.

``app``: window, session, controllers; ``jobs``: the worker and its jobs; ``views``:
one module per tab; ``widgets``: drawing helpers; ``training``: the child process;
``export``: export actions. It may import ``inspector`` and ``models``.
"""
