"""The application: main window, session, the one model worker, and the launcher.

The launcher is the ``layer-inspector`` console entry point. ``app`` may import
every other part of ``gui``, ``models`` and ``inspector``; no other part of ``gui``
imports ``app``.
"""
