"""The trust figures: curve panels and the randomisation grid, drawn with Pillow."""

from __future__ import annotations

import numpy as np

from inspector.render.trust_figures import CurveLine, curves_figure, randomization_figure


def line(label: str, slope: float, control: bool = False) -> CurveLine:
    x = np.linspace(0, 1, 11)
    return CurveLine(label, x, np.clip(1 - slope * x, 0, 1), 0.5, control)


def test_curves_figure_draws_every_line_in_its_colour():
    lines = [line("saliency", 2.0), line("random", 1.0, control=True)]
    figure = curves_figure(lines, lines, note="2 images")
    assert figure.mode == "RGB" and figure.size[0] > 800
    pixels = np.asarray(figure).reshape(-1, 3)
    # The first method's colour (Okabe-Ito blue) and the random control's grey both appear.
    assert ((pixels == (0, 114, 178)).all(axis=1)).sum() > 50
    assert ((pixels == (150, 150, 150)).all(axis=1)).sum() > 20


def test_randomization_figure_is_a_grid_of_methods_by_steps():
    maps = np.random.default_rng(0).random((4, 8, 8))
    rows = [("saliency", maps, "passes (rho +0.10)"), ("guided", maps, "FAILS (rho +0.90)")]
    cell = 40
    figure = randomization_figure(rows, ["top", "middle", "bottom"], cell=cell)
    width, height = figure.size
    assert width == 150 + 4 * (cell + 2)
    assert height > 2 * cell
    # A map with zeros shows the colormap's darkest colour, not a blank cell.
    blank = randomization_figure([("zero", np.zeros((4, 8, 8)), "")], ["a", "b", "c"], cell=cell)
    assert np.asarray(blank).min() < 30


def test_dashed_control_lines_finish_on_long_flat_curves():
    # A flat curve of many points once drove the dash walk into a float-rounding loop.
    x = np.linspace(0, 1, 41)
    flat = CurveLine("random", x, np.full(41, 0.93), 0.93, control=True)
    still = CurveLine("centre", np.zeros(5), np.zeros(5), 0.0, control=True)  # zero length
    figure = curves_figure([flat, still], [flat, still])
    assert ((np.asarray(figure).reshape(-1, 3) == (150, 150, 150)).all(axis=1)).sum() > 100


def test_thirteen_methods_never_share_a_line_style():
    from inspector.render.trust_figures import PALETTE, line_style

    looks = [line_style(i) for i in range(13)]
    assert len(set(looks)) == 13
    assert all(colour in PALETTE for colour, _ in looks)
