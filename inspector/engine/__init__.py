"""The engine: load models (safe), labels and images (with preprocessing presets), walk
the graph, and inspect every layer: ``Inspector`` computes every activation and gradient
in one pass into a frozen ``Inspection``; receptive fields, the class head and the one
exception family live here too. It imports no other part of ``inspector`` and never Qt.
"""
