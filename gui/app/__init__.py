"""The application: main window, session, and the controllers between views and jobs
(each gets its collaborators, never the window). ``app`` may import every other part
of ``gui``, ``models`` and ``inspector``; no other part of ``gui`` imports ``app``.
"""
