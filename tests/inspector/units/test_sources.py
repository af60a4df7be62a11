"""The batch reader: order, errors raised where they are consumed, no thread left behind."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from inspector.engine.errors import DatasetError
from inspector.units.sources import ArraySource, batches


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "layer-inspector-reader"]


def test_batches_cover_the_range_in_order_as_float32():
    source = ArraySource(np.arange(10 * 2 * 2 * 1, dtype=np.uint8).reshape(10, 2, 2, 1))
    got = list(batches(source, 3, 10, 3))
    assert [idx.tolist() for _, idx in got] == [[3, 4, 5], [6, 7, 8], [9]]
    assert all(images.dtype == np.float32 for images, _ in got)
    np.testing.assert_array_equal(np.concatenate([im for im, _ in got]), source.images[3:10])
    assert not _readers()


class _Broken(ArraySource):
    def read(self, start, stop):
        if start >= 4:
            raise DatasetError("Expected readable images. Received: a broken one.")
        return super().read(start, stop)


def test_a_reading_error_is_raised_in_the_consumer_and_the_reader_ends():
    source = _Broken(np.zeros((8, 2, 2, 1), np.float32))
    seen = []
    with pytest.raises(DatasetError, match="broken"):
        for _, indices in batches(source, 0, 8, 2):
            seen.extend(indices.tolist())
    assert seen == [0, 1, 2, 3]
    assert not _readers()


def test_closing_early_stops_and_joins_the_reader():
    source = ArraySource(np.zeros((400, 2, 2, 1), np.float32))
    iterator = batches(source, 0, 400, 1)
    next(iterator)
    assert _readers()  # it is reading ahead, blocked on the full queue
    iterator.close()
    assert not _readers()
