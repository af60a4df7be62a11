"""The ``layer-inspector`` command: the front door that wires the headless commands
(``inspector.cli``), the face models' ``train`` and bundled networks (``models``) and
the desktop app (``gui``) into one console script. It sits above all three packages;
nothing imports it.
"""
