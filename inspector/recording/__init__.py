"""Recording training: the ``TrainingRecorder`` Keras callback and the run directory.

The run directory is append-only JSON Lines plus atomically renamed ``.npz``
snapshots; ``load_run`` reads it back as a frozen ``TrainingRun``. It may import
``inspector.engine``, never Qt.
"""
