"""The detector chart overlays a second model: its lines dotted, broken where it has
no layer of that name (never drawn as zero)."""

from __future__ import annotations

import numpy as np

from inspector.render.hierarchy_charts import GROUP_COLOURS, Series, detector_chart

LAYERS = ["a", "b", "c", "d"]
ZERO = {"edge": 0.0, "part": 0.0, "face": 0.0}


def coloured(image, group: str) -> np.ndarray:
    """bool mask of the pixels drawn in ``group``'s colour."""
    return np.all(np.asarray(image) == GROUP_COLOURS[group], axis=-1)


def chart(series) -> np.ndarray:
    return np.asarray(detector_chart(LAYERS, series, width=600, plot_h=240))


def test_two_dissections_draw_two_lines_and_the_second_one_dotted():
    first = [{**ZERO, "face": v} for v in (0.0, 0.2, 0.4, 0.6)]
    second = [{**ZERO, "face": v} for v in (0.6, 0.4, 0.2, 0.0)]
    alone = coloured(chart([Series("detector", first)]), "face")
    both = coloured(
        chart([Series("detector", first), Series("recognizer", second, "dotted")]), "face"
    )
    added = both & ~alone
    assert added.sum() > 100  # the second network's line is drawn
    # Dotted: along its length the line is broken, so fewer pixels than the solid one.
    assert added.sum() < alone.sum()


def test_a_layer_the_second_model_lacks_breaks_its_line_instead_of_reading_zero():
    first = [{**ZERO, "face": 0.5} for _ in LAYERS]
    full = [{**ZERO, "face": 0.5} for _ in LAYERS]
    gapped = [{**ZERO, "face": 0.5}, {**ZERO, "face": 0.5}, {}, {}]
    zeros = [{**ZERO, "face": 0.5}, {**ZERO, "face": 0.5}, ZERO, ZERO]

    def face_pixels(second):
        image = chart([Series("m", first, "dashed"), Series("n", second, "dotted")])
        return coloured(image, "face").sum()

    # Missing layers draw nothing there: fewer face pixels than the full line, and not
    # the extra segment down to zero that a 0.0 would draw.
    assert face_pixels(gapped) < face_pixels(full)
    assert face_pixels(gapped) < face_pixels(zeros)
