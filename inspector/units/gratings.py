"""Sinusoidal gratings: the probes of orientation selectivity.

The classic probe of an edge or bar detector (Hubel & Wiesel; Ringach, Shapley
& Hawken, J. Neurosci. 2002) is a full-contrast sinusoidal grating swept over
orientation, spatial frequency and phase. Here:

* ``ORIENTATIONS = 8`` directions of the wave vector, 0 to 157.5 degrees in
  steps of 22.5 (orientation is axial: 180 degrees is 0 again);
* ``CYCLES = (4, 8, 16)`` cycles across the image side (periods of 16, 8 and
  4 px on a 64 px input: from about an eye's width down to the finest grating
  a 3x3 first layer can still tell apart);
* ``PHASES = 4`` phases 90 degrees apart, so a unit's response does not depend
  on where a bar happens to fall under its field.

Images are ``0.5 + 0.5 cos(2 pi f (x cos t + y sin t) + phase)`` in [0, 1],
mean grey, the model's value range applied on use. These probes are scored on
their own and never mixed into another measure's quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inspector.engine.inspection import read_only

ORIENTATIONS = 8
CYCLES = (4, 8, 16)
PHASES = 4


@dataclass(frozen=True)
class Gratings:
    """The probe images and what each one is.

    Attributes:
        images: float32 ``(N, H, W, C)`` in [0, 1], N = orientations * frequencies * phases,
            ordered orientation-major, then frequency, then phase.
        angles: float64 ``(orientations,)`` radians of each orientation.
        cycles: the cycles per image side of each frequency.
        phases: how many phases per orientation and frequency.
    """

    images: np.ndarray
    angles: np.ndarray
    cycles: tuple[int, ...]
    phases: int

    @property
    def grid(self) -> tuple[int, int, int]:
        """``(orientations, frequencies, phases)``: how ``images`` folds."""
        return len(self.angles), len(self.cycles), self.phases


def gratings(
    size: int,
    channels: int,
    orientations: int = ORIENTATIONS,
    cycles: tuple[int, ...] = CYCLES,
    phases: int = PHASES,
) -> Gratings:
    """Full-contrast sinusoidal gratings on a ``size`` x ``size`` image of ``channels``."""
    rows, cols = np.mgrid[0:size, 0:size] + 0.5 - size / 2
    angles = np.arange(orientations) * np.pi / orientations
    out = np.empty((orientations, len(cycles), phases, size, size), np.float32)
    for o, theta in enumerate(angles):
        along = cols * np.cos(theta) + rows * np.sin(theta)
        for f, count in enumerate(cycles):
            for p in range(phases):
                wave = np.cos(2 * np.pi * count * along / size + 2 * np.pi * p / phases)
                out[o, f, p] = 0.5 + 0.5 * wave
    images = np.repeat(out.reshape(-1, size, size)[..., None], channels, axis=-1)
    return Gratings(read_only(images), read_only(angles), tuple(cycles), phases)
