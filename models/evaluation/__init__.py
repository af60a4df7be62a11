"""Measuring the shipped networks: the detector's held-out and unseen-scene
figures (``detector``) and the recogniser's accuracy and unknown-person bar
(``recognizer``).
"""
