"""The data sets built from the raw files in ``models/data``: faces and their parts,
non-faces and unseen scenes, the cached bundled sets, a user's folder, the
recogniser's split and the named mining sets of *Units* (``unit_data``).
"""
