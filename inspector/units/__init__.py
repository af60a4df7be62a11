"""Dataset-level unit analysis: what each channel detects across many images.

Top-k mining, unit gradients, feature visualisation and dissection, written as a
map over shards plus an associative merge. It may import ``inspector.engine`` and
``inspector.attribution``, never ``render``, ``cli`` or Qt.
"""
