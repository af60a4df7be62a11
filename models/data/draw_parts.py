"""Draw 50 bundled faces with their part boxes, to check the part file by eye.

``python -m models.data.draw_parts [OUT.png]`` (default ``models/data/face_parts_sheet.png``):
25 ORL photos (one per person, then more) and 25 LFW faces, each as the model sees
it (the framing crop resized to 64x64, shown 2x), with the eye boxes in green, the
nose in yellow, the mouth in magenta and the five landmarks as dots. A face whose
parts come from the template, not MTCNN, gets a red frame.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from models.datasets.face_sources import face_images

SHEET_FILE = Path(__file__).resolve().parent / "face_parts_sheet.png"
COLOURS = ("lime", "lime", "yellow", "magenta")
SCALE, COLUMNS = 2, 10


def draw_sheet(out: Path) -> Path:
    faces = face_images()
    orl = np.flatnonzero(faces.source == "orl")
    lfw = np.flatnonzero(faces.source == "lfw")
    template = [i for i in lfw if faces.methods[i] == "template"]
    chosen = [
        *orl[::16][:25],
        *template,
        *[i for i in lfw[::4] if i not in template][: 25 - len(template)],
    ]
    size = faces.images.shape[1] * SCALE
    sheet = Image.new(
        "RGB", (COLUMNS * (size + 4), -(-len(chosen) // COLUMNS) * (size + 4)), "grey"
    )
    for slot, index in enumerate(chosen):
        tile = Image.fromarray(faces.images[index, ..., 0]).convert("RGB")
        tile = tile.resize((size, size), Image.Resampling.NEAREST)
        draw = ImageDraw.Draw(tile)
        for box, colour in zip(faces.part_boxes[index], COLOURS, strict=True):
            draw.rectangle([float(v) * SCALE for v in box], outline=colour)
        for x, y in faces.landmarks[index]:
            draw.ellipse([x * SCALE - 2, y * SCALE - 2, x * SCALE + 2, y * SCALE + 2], fill="cyan")
        if faces.methods[index] == "template":
            draw.rectangle([0, 0, size - 1, size - 1], outline="red", width=3)
        row, column = divmod(slot, COLUMNS)
        sheet.paste(tile, (column * (size + 4) + 2, row * (size + 4) + 2))
    sheet.save(out)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else SHEET_FILE
    print(f"Wrote {draw_sheet(target)}.")
