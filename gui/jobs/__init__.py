"""The floor under views, export and app: the one model worker thread, the engine
cache, every job function that runs on the worker, and the frozen, Qt-free answers
they return. It imports ``inspector`` and ``models``, never a view, the export or the
app; views never import its machinery (worker, engine cache, long jobs).
"""
