"""How well the recogniser knows the 40 ORL people, and when it should say "unknown".

A closed-set softmax always names one of its 40 people, however strange the
face. The "unknown person" threshold is calibrated on people it never saw, the
100 LFW faces (``models.datasets.recognizer_data.lfw_unknown_faces``): it is the top
probability at the equal error rate between strangers accepted and known people
(the 80 held-out ORL photos) rejected. Both rates are reported beside it, since
the threshold says how often the recogniser is fooled, not that it never is.
"""

from __future__ import annotations

import keras
import numpy as np

from models.datasets.recognizer_data import lfw_unknown_faces, recognizer_data

REQUIRED_ACCURACY = 0.90


def probabilities(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """float64 ``(N, 40)``: the softmax of raw 0..255 images."""
    return np.asarray(model.predict(images.astype(np.float32), verbose=0), np.float64)


def unknown_threshold(known: np.ndarray, strangers: np.ndarray) -> float:
    """The top probability at which the share of ``strangers`` at or above it (accepted
    by mistake) equals the share of ``known`` below it (rejected by mistake): the equal
    error rate, found among the observed values.

    Args:
        known, strangers: float ``(N,)`` top probabilities.
    """
    candidates = np.unique(np.concatenate([known, strangers]))
    gaps = [abs(np.mean(strangers >= t) - np.mean(known < t)) for t in candidates]
    return float(candidates[int(np.argmin(gaps))])


def wilson_interval(successes: int, count: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion (Wilson, JASA 1927): on 80
    held-out photos one error moves the accuracy by 1.25 points."""
    if count == 0:
        return (0.0, 1.0)
    p = successes / count
    centre = (p + z * z / (2 * count)) / (1 + z * z / count)
    half = z * np.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return (float(centre - half), float(centre + half))


def held_apart_rates(known: np.ndarray, right: np.ndarray, strangers: np.ndarray) -> dict:
    """The threshold's rates on faces it was not calibrated on: two folds, each
    calibrated on one half of the strangers and the known photos and scored on the
    other half, the rates averaged (the shipped threshold sees all of them, so its
    own rates are a little optimistic)."""
    rng = np.random.default_rng(0)
    halves_s = np.array_split(rng.permutation(len(strangers)), 2)
    halves_k = np.array_split(rng.permutation(len(known)), 2)
    caught, accepted = [], []
    for fit, test in ((0, 1), (1, 0)):
        t = unknown_threshold(known[halves_k[fit]], strangers[halves_s[fit]])
        caught.append(np.mean(strangers[halves_s[test]] < t))
        k = halves_k[test]
        accepted.append(np.mean((known[k] >= t) & right[k]))
    return {
        "strangers_called_unknown": float(np.mean(caught)),
        "known_accepted_and_right": float(np.mean(accepted)),
    }


def recognizer_report(model: keras.Model) -> dict:
    """The figures ``make_default --task recognizer`` ships and docs/face-model.md states.

    Returns:
        ``held_out_accuracy`` (top-1 on the 80 held-out photos of the 40 people,
        every one of whose other photos was trained on) with its 95 % Wilson
        interval, ``top5``, the counts, and ``unknown``: the calibrated
        ``threshold`` with ``strangers_called_unknown`` and
        ``known_accepted_and_right`` at it, the same two rates on faces held apart
        from the calibration (``held_apart``), and each set's median top probability.
    """
    data = recognizer_data(int(model.inputs[0].shape[1]))
    held = probabilities(model, data.held_out.images)
    labels = np.asarray(data.held_out.labels)
    right = held.argmax(axis=1) == labels
    top5 = np.mean([label in np.argsort(-row)[:5] for row, label in zip(held, labels, strict=True)])
    strangers = probabilities(model, lfw_unknown_faces(int(model.inputs[0].shape[1]))).max(axis=1)
    known = held.max(axis=1)
    threshold = unknown_threshold(known, strangers)
    return {
        "held_out_accuracy": float(right.mean()),
        "held_out_interval_95": wilson_interval(int(right.sum()), len(labels)),
        "held_out_images": len(labels),
        "people": len(data.class_names),
        "top5": float(top5),
        "unknown": {
            "threshold": threshold,
            "strangers_called_unknown": float(np.mean(strangers < threshold)),
            "known_accepted_and_right": float(np.mean((known >= threshold) & right)),
            "strangers_median_top_probability": float(np.median(strangers)),
            "known_median_top_probability": float(np.median(known)),
            "calibration": "equal error rate: the 100 LFW faces (people never seen) "
            "against the 80 held-out ORL photos",
            "held_apart": held_apart_rates(known, right, strangers),
        },
    }
