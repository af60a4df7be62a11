"""The mining cache: an exact round trip, resuming after an interruption, instant reruns."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.engine.errors import CancelledError
from inspector.units import cache
from inspector.units.mining import ShardMiner
from inspector.units.probe import LayerProbe
from inspector.units.run import mine_units
from inspector.units.sources import ArraySource
from tests.inspector.units.planted import PLANTED, noise_images, paste, planted_model
from tests.inspector.units.test_mining import _equal


@pytest.fixture(scope="module")
def probe():
    return LayerProbe(planted_model())


@pytest.fixture(scope="module")
def source():
    return ArraySource(paste(noise_images(64), PLANTED))


def test_state_round_trip_is_exact(probe, source, tmp_path):
    state = ShardMiner(probe, k=3, batch_size=8).mine(source, 8, 40)
    cache.write_state(state, tmp_path, "x")
    _equal(cache.read_state(tmp_path, "x"), state)
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_a_damaged_entry_is_mined_again(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    assert cache.read_state(tmp_path, "x") is None


def test_interrupted_run_resumes_from_its_last_shard(probe, source, tmp_path):
    calls = {"batches": 0}

    def cancel_in_third_shard() -> bool:
        calls["batches"] += 1
        return calls["batches"] > 4  # 2 batches per shard: stop inside shard 3

    settings = dict(k=4, batch_size=8, shard_size=16, cache_dir=tmp_path)
    with pytest.raises(CancelledError):
        mine_units(probe, source, cancelled=cancel_in_third_shard, **settings)
    folder = next((tmp_path / "units").iterdir())
    assert cache.finished_shards(folder) == [(0, 16), (16, 32)]
    assert cache.read_state(folder, "complete") is None

    reports = []
    resumed = mine_units(probe, source, progress=lambda d, t, _what: reports.append(d), **settings)
    assert reports[:2] == [32, 40]  # the two cached shards count at once, then batch by batch
    fresh = mine_units(
        probe, source, cache_dir=False, **{k: v for k, v in settings.items() if k != "cache_dir"}
    )
    for a, b in zip(resumed.layers, fresh.layers, strict=True):
        np.testing.assert_array_equal(a.images, b.images)
        np.testing.assert_array_equal(a.scores, b.scores)
        np.testing.assert_array_equal(a.mean, b.mean)
        np.testing.assert_array_equal(a.histogram, b.histogram)

    again = []
    mine_units(probe, source, progress=lambda d, t, _what: again.append((d, t)), **settings)
    assert again == [(64, 64)]  # answered from the complete entry, no batch mined


def test_the_key_changes_with_weights_data_and_settings(probe, source, tmp_path):
    settings = dict(k=4, batch_size=8, shard_size=32, cache_dir=tmp_path)
    mine_units(probe, source, **settings)
    mine_units(probe, source, **{**settings, "k": 5})
    mine_units(probe, ArraySource(source.images[:40]), **settings)
    other = planted_model(seed=1)
    mine_units(LayerProbe(other), source, **settings)
    assert len(list((tmp_path / "units").iterdir())) == 4


def test_the_key_changes_with_the_cache_format(monkeypatch):
    """A result cached when a field meant something else is never reused."""
    from inspector.units import cache

    parts = {"model": "m", "data": "d"}
    key = cache.cache_key(parts)
    assert cache.cache_key(dict(parts)) == key  # stable
    monkeypatch.setattr(cache, "FORMAT", cache.FORMAT - 1)
    assert cache.cache_key(parts) != key
