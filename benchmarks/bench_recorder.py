"""Benchmark: ``model.fit`` with ``TrainingRecorder`` at its defaults vs without.

Same model, same data, same process: the face CNN trained exactly as
``layer-inspector train`` trains it (bundled LFW subset, augmentation pipeline,
default epochs), once plainly and once with the recorder the train command
attaches (recorder defaults; 4 probe images, a 16-image gradient batch) writing
to a fresh run directory. Each fit builds a fresh model from the same seed, so
both sides pay Keras's own tracing, as a real training run does, and the
recorder pays for tracing its functions. Fits alternate (plain, recorded,
plain, ...) so machine noise hits both; we report medians. The floor is the
plain fit.

Run: python benchmarks/bench_recorder.py [--repeats 5] [--epochs 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras

from models.datasets.bundled_data import bundled_face_data
from models.face_cnn import build_face_cnn, loss_for
from models.training.augmentation import steps_per_epoch, training_batches
from models.training.loop import (
    BATCH_SIZE,
    DEFAULT_EPOCHS,
    LEARNING_RATE,
    MIN_IMAGES_PER_EPOCH,
    make_recorder,
)


class HookTimer(keras.callbacks.Callback):
    """Wraps a recorder and adds up the wall time spent inside its hooks."""

    HOOKS = (
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_epoch_end",
        "on_train_end",
    )

    def __init__(self, recorder: keras.callbacks.Callback) -> None:
        super().__init__()
        self.recorder, self.seconds = recorder, 0.0
        for name in self.HOOKS:
            setattr(self, name, self._timed(getattr(recorder, name)))

    def _timed(self, hook):
        def call(*args, **kwargs):
            started = time.perf_counter()
            hook(*args, **kwargs)
            self.seconds += time.perf_counter() - started

        return call

    def set_model(self, model) -> None:
        super().set_model(model)
        self.recorder.set_model(model)

    def set_params(self, params) -> None:
        super().set_params(params)
        self.recorder.set_params(params)


def timed_fit(data, epochs: int, callbacks) -> float:
    """Seconds for one fit of a freshly built, seeded face CNN."""
    keras.utils.set_random_seed(0)
    model = build_face_cnn(data.class_names)
    model.compile(
        keras.optimizers.Adam(LEARNING_RATE), loss_for(data.class_names), metrics=["accuracy"]
    )
    repeats = max(1, round(MIN_IMAGES_PER_EPOCH / len(data.train)))
    batches = training_batches(
        data.train, seed=0, batch_size=BATCH_SIZE, first_epoch=0, epochs=epochs, repeats=repeats
    )
    started = time.perf_counter()
    model.fit(
        batches,
        steps_per_epoch=steps_per_epoch(len(data.train), BATCH_SIZE, repeats),
        epochs=epochs,
        shuffle=False,
        validation_data=(data.held_out.as_model_input(), data.held_out.labels),
        callbacks=callbacks,
        verbose=0,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    args = parser.parse_args()
    data = bundled_face_data()
    plain, recorded, in_hooks = [], [], []
    with tempfile.TemporaryDirectory() as scratch:
        timed_fit(data, 1, [make_recorder(Path(scratch) / "warm", data, {})])  # load libraries
        for index in range(args.repeats):
            plain.append(timed_fit(data, args.epochs, []))
            run_dir = Path(scratch) / f"run{index}"
            timer = HookTimer(make_recorder(run_dir, data, {}))
            recorded.append(timed_fit(data, args.epochs, [timer]))
            in_hooks.append(timer.seconds)
        files = [f for f in (Path(scratch) / "run0").rglob("*") if f.is_file()]
        run_megabytes = sum(f.stat().st_size for f in files) / 1e6
    repeats = max(1, round(MIN_IMAGES_PER_EPOCH / len(data.train)))
    steps = steps_per_epoch(len(data.train), BATCH_SIZE, repeats)
    floor, measured = statistics.median(plain), statistics.median(recorded)
    print(f"face CNN, bundled data: {args.epochs} epochs x {steps} steps, {args.repeats} repeats")
    print(f"fit without recorder (floor): median {floor:.3f} s  all {_fmt(plain)}")
    print(f"fit with TrainingRecorder:    median {measured:.3f} s  all {_fmt(recorded)}")
    hooks = statistics.median(in_hooks)
    print(f"time inside the recorder's hooks: median {hooks:.3f} s  all {_fmt(in_hooks)}")
    print(f"run directory written: {run_megabytes:.2f} MB in {len(files)} files")
    fastest = min(recorded) / min(plain)
    print(f"ratio of the fastest fits (least disturbed by other load): {fastest:.3f}x")
    print(
        f"ratio hook time / plain fit: 1 + {hooks / floor:.3f} (median plain fit), "
        f"1 + {hooks / min(plain):.3f} (fastest plain fit)"
    )
    print(f"ratio recorded / plain: {measured / floor:.3f}x (goal <= 1.15x)")


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.2f}" for v in values) + "]"


if __name__ == "__main__":
    main()
