"""The public Python API works from a folder whose own ``models``/``gui`` shadow ours.

Many research repositories have top-level ``models/`` or ``gui/`` packages; in a
notebook started there, ``import models`` finds theirs. ``inspector`` must still
give the bundled networks and data, and leave the user's packages theirs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

HOSTILE = 'raise ImportError("this is the user\'s own {name} package")\n'

SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import inspector

    if {preload}:
        import models  # the user's own, imported before ours is asked for
        assert models.WHOSE == "user", models

    path = inspector.bundled_model_path()
    assert path.name == "face_cnn.keras" and path.is_file(), path
    assert inspector.bundled_model_path("recognizer").is_file()
    assert (inspector.bundled_run_path() / "config.json").is_file()

    faces = inspector.bundled_data("bundled-faces", (64, 64, 1))
    assert faces.images.shape == (500, 64, 64, 1) and faces.images.dtype == np.uint8
    assert faces.is_face.all()

    model = inspector.load_model(path)
    # raw 0..255 pixels: the bundled model rescales them itself
    result = inspector.Inspector(model).inspect(faces.images[0].astype("float32"))
    assert len(result.labels) == len(result.probabilities) == 2, result.labels
    assert len(result.layers) > 5

    # the user's package is theirs again after the call
    import models
    assert models.WHOSE == "user", models.__file__
    print("ok")
    """
)


@pytest.mark.parametrize("preload", [False, True], ids=["fresh", "user-models-imported"])
def test_public_api_survives_a_users_own_models_and_gui_packages(tmp_path, preload):
    for name in ("models", "gui"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("WHOSE = 'user'\n")
    # an import of our sub-modules through the user's package fails loudly
    (tmp_path / "models" / "datasets.py").write_text(HOSTILE.format(name="models"))
    (tmp_path / "models" / "default_model.py").write_text(HOSTILE.format(name="models"))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(preload=preload)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def test_bundled_names_a_wrong_network():
    import inspector

    with pytest.raises(ValueError, match="Expected a bundled network: detector, recognizer"):
        inspector.bundled_model_path("resnet")
