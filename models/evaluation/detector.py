"""How good the face model is: held-out accuracy by kind, calibration, samples, false positives.

Everything here is rebuilt from the data alone (the fixed split, the rendered
scenes, the sample images), so a test can check the figures docs/face-model.md states.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import keras
import numpy as np

from models.datasets.face_data import FaceDataset

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "sample_images"
# (file, crop as in `inspect --crop`, expected label). The camera box is the
# field, buildings and tower right of the man: no face in it.
SAMPLE_VERDICTS = (
    ("grace_hopper.jpg", "auto", "face"),
    ("astronaut.jpg", "auto", "face"),
    ("chelsea_cat.jpg", "auto", "not_face"),
    ("coffee.jpg", "auto", "not_face"),
    ("rocket.jpg", "auto", "not_face"),
    ("camera.png", (330, 130, 512, 312), "not_face"),
)
UNSEEN_COUNT, UNSEEN_SEED = 200, 7


def face_probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """P(face) for raw 0..255 images ``(N, S, S, 1)``: float64 ``(N,)`` in [0, 1]."""
    scores = model.predict(np.asarray(images, np.float32), verbose=0, batch_size=256)
    return scores[:, 0].astype(np.float64)


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, bins: int = 10
) -> float:
    """Expected calibration error of a binary classifier (Naeini et al., AAAI 2015).

    ECE = sum_b (n_b / N) |accuracy_b - confidence_b| over ``bins`` equal-width
    bins of the confidence max(p, 1 - p) in [0.5, 1], as Guo et al. (ICML 2017)
    report it.

    Args:
        probabilities: ``(N,)`` P(class 1) in [0, 1].
        labels: ``(N,)`` 0 or 1.

    Returns:
        ECE in [0, 1].
    """
    probabilities = np.asarray(probabilities, np.float64)
    labels = np.asarray(labels)
    confidence = np.maximum(probabilities, 1 - probabilities)
    correct = (probabilities > 0.5).astype(int) == labels
    edges = np.linspace(0.5, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            total += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(total)


def held_out_report(model: keras.Model, data: FaceDataset) -> dict:
    """Held-out figures: faces and non-faces apart, per person and per kind, and ECE.

    Returns:
        A JSON-ready dict: ``faces`` and ``non_faces`` accuracy, ``all``, ``ece``,
        ``worst_person`` (ORL held-out person with the lowest face accuracy),
        ``by_kind`` accuracy per group family, ``negative_probability`` quantiles,
        and the counts.
    """
    held = data.held_out
    p = face_probabilities(model, held.images)
    labels = np.asarray(held.labels)
    correct = (p > 0.5).astype(int) == labels
    groups = data.held_out_groups or ("",) * len(labels)
    by_kind, by_person = defaultdict(list), defaultdict(list)
    for group, right in zip(groups, correct, strict=True):
        parts = group.split("/")
        by_kind["/".join(parts[:2])].append(right)
        if group.startswith("face/orl/"):
            by_person[parts[2]].append(right)
    negatives = p[labels == 0]
    people = {person: float(np.mean(v)) for person, v in sorted(by_person.items())}
    return {
        "faces": float(correct[labels == 1].mean()),
        "non_faces": float(correct[labels == 0].mean()),
        "all": float(correct.mean()),
        "face_count": int((labels == 1).sum()),
        "non_face_count": int((labels == 0).sum()),
        "ece": expected_calibration_error(p, labels),
        "by_person": people,
        "worst_person": min(people.items(), key=lambda item: item[1]) if people else None,
        "by_kind": {kind: float(np.mean(v)) for kind, v in sorted(by_kind.items())},
        "negative_probability": {
            "median": float(np.median(negatives)),
            "p99": float(np.quantile(negatives, 0.99)),
            "max": float(negatives.max()),
        },
    }


def unseen_false_positive_rate(model: keras.Model, count: int = UNSEEN_COUNT) -> dict:
    """False positives on rendered face-free scenes (``models.datasets.unseen_scenes``)."""
    from models.datasets.unseen_scenes import rendered_scenes

    size = model.inputs[0].shape[1]
    p = face_probabilities(model, rendered_scenes(count, size, UNSEEN_SEED)[..., None])
    return {"count": count, "false_positive_rate": float((p > 0.5).mean()), "max": float(p.max())}


def jittered_held_out_faces(model: keras.Model, copies: int = 5, seed: int = 11) -> dict:
    """Held-out ORL people's faces cut as users crop (scale, shift, tilt, flip, blur).

    The held-out set itself has each face once, framed exactly; this asks the same
    of ``copies`` jittered crops per photo (the training jitter, another seed).
    """
    from models.datasets.bundled_data import held_out_people
    from models.datasets.face_parts import bundled_parts
    from models.datasets.face_sources import frame_boxes, orl_faces
    from models.training.crop_augmentation import jittered_crops

    photos, subject, _ = orl_faces()
    held = np.isin(subject, held_out_people())
    frames = frame_boxes(bundled_parts("orl").landmarks)[held]
    size = model.inputs[0].shape[1]
    crops = jittered_crops(photos[held], frames, copies, size, seed, keep_first=False)
    p = face_probabilities(model, crops[..., None])
    return {"count": len(crops), "accuracy": float((p > 0.5).mean())}


def sample_verdicts(model: keras.Model) -> list[dict]:
    """The app's sample images through the crop path of ``layer-inspector inspect``.

    Returns:
        One dict per sample: ``file``, ``crop`` (the box used), ``expected``,
        ``predicted`` and ``p_face``.
    """
    from inspector.engine.crop_policy import choose_crop
    from inspector.engine.image_loading import open_image, prepare_image

    verdicts = []
    size = tuple(model.inputs[0].shape[1:3])
    for name, crop, expected in SAMPLE_VERDICTS:
        path = SAMPLES_DIR / name
        picture = open_image(path)
        user = None if crop == "auto" else crop
        box = choose_crop(np.asarray(picture.convert("RGB")), size, box=user).loader_box
        prepared = prepare_image(picture, path, model, crop=box)
        p = float(face_probabilities(model, np.asarray(prepared.pixels)[None])[0])
        verdicts.append(
            {
                "file": name,
                "crop": None if box is None else list(box),
                "expected": expected,
                "predicted": "face" if p > 0.5 else "not_face",
                "p_face": p,
            }
        )
    return verdicts
