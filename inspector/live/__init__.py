"""Live input: frames from a camera or a video on a reader thread that keeps only
the newest (``frames``), and a face tracker cheap enough to run on every frame
(``tracker``). Qt-free; the app's *File > Live* and ``app --live`` use both.
"""
