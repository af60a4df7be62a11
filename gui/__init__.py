"""The PyQt6 + pyqtgraph desktop app; it shows what ``inspector`` computes.

``app``: window, session, worker, launcher; ``views``: one module per tab or panel;
``widgets``: shared drawing helpers; ``training``: the training child process;
``export``: export actions. It may import ``inspector`` and ``models``.
"""
