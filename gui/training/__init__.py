"""Training from the app: the child process that trains, and its ``QThread`` supervisor.

Training runs in a child process, so TensorFlow never stalls the event loop.
It may import ``inspector`` and ``models``, nothing else of ``gui``.
"""
