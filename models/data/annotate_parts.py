"""Write ``models/data/face_parts.json``: eyes, nose and mouth of every bundled face.

``python -m models.data.annotate_parts`` (needs the ``annotate`` extra: ``pip install
-e ".[annotate]"``, which brings MTCNN; nothing at run time needs it).

For each face, MTCNN (Zhang et al., IEEE Signal Processing Letters 2016) looks for
five landmarks on copies upsampled by each factor in turn (its smallest face is
about 20 px, and the LFW patches are 25 px), and the most confident detection
centred in the image is kept, mapped back to raw pixels. A face it misses gets the
"template": the mean landmarks (relative to the image) of the same source's faces
it found, and is marked ``"method": "template"``.

For the ORL photos the file also records the box that the app's own face detector
(``inspector.engine.face_crop.detect_face``, the LBP cascade) finds, so that training crops
can frame faces the way ``inspect --crop auto`` frames a photo.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from PIL import Image

from inspector.engine.face_crop import detect_face
from models.datasets.face_parts import LANDMARK_NAMES, PART_FILE, part_boxes

ORL_FACTORS = (2, 3, 1)
LFW_FACTORS = (6, 4, 8)
MIN_CONFIDENCE = 0.9


def find_landmarks(detector, image: np.ndarray, factors) -> tuple[np.ndarray | None, str, float]:
    """The five landmarks of the face in a grey uint8 image, in its pixels, or None."""
    height, width = image.shape
    for factor in factors:
        big = Image.fromarray(image).resize(
            (width * factor, height * factor), Image.Resampling.BICUBIC
        )
        found = detector.detect_faces(np.stack([np.asarray(big)] * 3, axis=-1))
        centred = [
            hit
            for hit in found
            if hit["confidence"] >= MIN_CONFIDENCE and _centred(hit["box"], factor, width, height)
        ]
        if centred:
            best = max(centred, key=lambda hit: hit["confidence"])
            # MTCNN returns integer pixel centres of the upsampled copy.
            points = np.asarray([best["keypoints"][n] for n in LANDMARK_NAMES], np.float64)
            return (points + 0.5) / factor, f"mtcnn_x{factor}", float(best["confidence"])
    return None, "template", 0.0


def _centred(box, factor: int, width: int, height: int) -> bool:
    x, y, w, h = (value / factor for value in box)
    return width / 4 < x + w / 2 < 3 * width / 4 and height / 4 < y + h / 2 < 3 * height / 4


def annotate(images: list[np.ndarray], factors, detector) -> list[dict]:
    """One entry per image; misses are filled with the template afterwards."""
    entries = []
    for image in images:
        points, method, confidence = find_landmarks(detector, image, factors)
        entries.append({"method": method, "confidence": round(confidence, 4), "points": points})
    found = [
        e["points"] / images[i].shape[::-1]
        for i, e in enumerate(entries)
        if e["method"] != "template"
    ]
    template = np.mean(found, axis=0)
    for image, entry in zip(images, entries, strict=True):
        points = entry.pop("points")
        if points is None:
            points = template * image.shape[::-1]
        entry["landmarks"] = np.round(points, 2).tolist()
        entry["boxes"] = np.round(part_boxes(points), 2).tolist()
    return entries


def main() -> int:
    from mtcnn import MTCNN
    from skimage.data import lfw_subset

    orl = np.load(PART_FILE.parent / "orl_faces.npz", allow_pickle=False)
    lfw = [np.clip(np.rint(p * 255), 0, 255).astype(np.uint8) for p in lfw_subset()[:100]]
    detector = MTCNN()
    orl_entries = annotate(list(orl["images"]), ORL_FACTORS, detector)
    for entry, image, subject, photo in zip(
        orl_entries, orl["images"], orl["subject"], orl["photo"], strict=True
    ):
        box = detect_face(image)
        entry.update(subject=int(subject), photo=int(photo), cascade_box=box and list(box))
    lfw_entries = annotate(lfw, LFW_FACTORS, detector)
    for index, entry in enumerate(lfw_entries):
        entry["index"] = index
    document = {
        "about": (
            "Face parts of the bundled faces; see models/datasets/face_parts.py. Pixels of the raw "
            "images (ORL 92x112, LFW subset 25x25); left/right are the image's."
        ),
        "landmark_names": list(LANDMARK_NAMES),
        "part_names": ["left_eye", "right_eye", "nose", "mouth"],
        "orl": orl_entries,
        "lfw": lfw_entries,
    }
    PART_FILE.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    for name, entries in (("ORL", orl_entries), ("LFW", lfw_entries)):
        missed = sum(e["method"] == "template" for e in entries)
        print(
            f"{name}: {len(entries) - missed} of {len(entries)} found by MTCNN, {missed} template."
        )
    cascade = sum(e["cascade_box"] is not None for e in orl_entries)
    print(f"ORL: the LBP cascade finds {cascade} of {len(orl_entries)}. Wrote {PART_FILE}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
