"""The headless commands ``inspect``, ``evaluate``, ``units`` and ``dissect``: each parses
its arguments, calls the core and writes its outputs atomically; any error becomes one
line on stderr and exit code 2. It may import every other part of ``inspector``, never
Qt, so the commands run without a display (the console is ``layer_inspector``).
"""
