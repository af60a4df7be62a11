"""Every per-channel statistic mining needs from one batch, in ONE read of each value.

For each image b and channel c of a layer's activation ``(B, h, w, C)`` the
loop below keeps the maximum over positions and the first position holding it,
the float64 sum, and adds each value to its fixed histogram bin
(``topk_state.bin_tables``: two lookups on the value's bits, exact).

Why a compiled loop and not TensorFlow ops: each TF reduction is a separate
pass over the batch's activations (argmax, the gather of the maxima, the sum,
the bin index, ``Bincount``), and a MobileNetV2 batch of 32 holds 0.9 GB of
them, so mining cost 5.7 ns of CPU per activation against 2.6-3.3 ns for the
forward pass itself. This loop reads each value once while it is in cache and
costs about 1.3 ns (``benchmarks/bench_units.py --parts ablation``). Numba
compiles it on first use in a process (about a second); the compiled code is
never cached on disk.

The activations are read where TensorFlow left them (``np.from_dlpack``: no
copy; ``Tensor.numpy()`` copied 0.9 GB per batch and cost more than the loop).
Images are split over threads; the loop holds no GIL, and each thread writes
its own images' rows and its own histogram, so the result does not depend on
the split.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from inspector.units.topk_state import HIST_BINS, KEY_SHIFT, bin_tables


@numba.njit(nogil=True, boundscheck=False, cache=False)
def _scan(values, bits, start, stop, first, edge, maxima, where, sums, histogram):
    """Images ``[start, stop)`` of ``values`` float32 ``(B, P, C)`` (``bits``: the same
    memory as int32). Writes rows of ``maxima`` float32 ``(B, C)``, ``where`` int32
    ``(B, C)`` (first position of the maximum) and ``sums`` float64 ``(B, C)``; adds
    into ``histogram`` int64 ``(HIST_BINS, C)``.

    The maximum starts at -inf and only a strictly greater value replaces it, so
    the earliest position wins ties and a NaN never becomes the maximum.
    """
    positions, channels = values.shape[1], values.shape[2]
    for b in range(start, stop):
        high, at, total = maxima[b], where[b], sums[b]
        for c in range(channels):
            high[c] = -np.inf
            at[c] = 0
            total[c] = 0.0
        for p in range(positions):
            row, row_bits = values[b, p], bits[b, p]
            # Two loops over the same cached row: the first vectorises, the
            # second is the histogram's scatter, which cannot.
            for c in range(channels):
                v = row[c]
                if v > high[c]:
                    high[c] = v
                    at[c] = p
                total[c] += v
            for c in range(channels):
                x = row_bits[c]
                key = (x >> KEY_SHIFT) & ((1 << (32 - KEY_SHIFT)) - 1)
                histogram[first[key] + (1 if x >= edge[key] else 0), c] += 1


@functools.cache
def _tables() -> tuple[np.ndarray, np.ndarray]:
    return bin_tables()


def _cores() -> int:
    """Cores this process may run on (``sched_getaffinity`` is Linux-only)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def batch_statistics(activations: list, threads: int | None = None) -> list[tuple]:
    """Statistics of every layer of one batch.

    Args:
        activations: per layer, a ``(B, h, w, C)`` float32 array or CPU tensor
            (anything ``np.from_dlpack`` reads); all share the batch size B.
        threads: how many threads share the images (None: every available core);
            never more than B.

    Returns:
        Per layer ``(maxima, where, sums, histogram)``: float32 ``(B, C)`` maximum
        over positions, int32 ``(B, C)`` its first flat position ``row * w + col``,
        float64 ``(B, C)`` sum over positions, int64 ``(C, HIST_BINS)`` positions
        per fixed bin over the whole batch.
    """
    arrays = [np.from_dlpack(a) for a in activations]
    arrays = [a.reshape(a.shape[0], -1, a.shape[-1]) for a in arrays]  # (B, P, C) views
    images = arrays[0].shape[0]
    outputs = [
        (
            np.empty((images, a.shape[2]), np.float32),
            np.empty((images, a.shape[2]), np.int32),
            np.empty((images, a.shape[2]), np.float64),
        )
        for a in arrays
    ]
    first, edge = _tables()
    threads = max(1, min(images, threads or _cores()))

    def part(index: int) -> list[np.ndarray]:
        start, stop = images * index // threads, images * (index + 1) // threads
        counts = []
        for a, (maxima, where, sums) in zip(arrays, outputs, strict=True):
            histogram = np.zeros((HIST_BINS, a.shape[2]), np.int64)
            _scan(a, a.view(np.int32), start, stop, first, edge, maxima, where, sums, histogram)
            counts.append(histogram)
        return counts

    if threads == 1:
        histograms = part(0)
    else:
        # A pool per batch (about 0.1 ms): no thread outlives the call, so a cancel
        # or an error leaves none behind.
        with ThreadPoolExecutor(threads) as pool:
            parts = list(pool.map(part, range(threads)))
        histograms = [sum(layer) for layer in zip(*parts, strict=True)]
    return [
        (maxima, where, sums, counts.T)
        for (maxima, where, sums), counts in zip(outputs, histograms, strict=True)
    ]
