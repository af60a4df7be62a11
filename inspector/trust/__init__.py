"""Trust: how far an explanation can be believed, measured.

Deletion and insertion curves, randomisation sanity checks and their controls.
It may import ``inspector.engine`` and ``inspector.attribution``, never
``render``, ``cli`` or Qt.
"""
