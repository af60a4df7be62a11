"""Mining on Dask: the same result as one process, and one model load per worker."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.engine.errors import ClusterError
from inspector.engine.model_loading import load_model
from inspector.units.cluster import parse_scheduler
from inspector.units.probe import LayerProbe
from inspector.units.run import mine_units
from inspector.units.sources import ArraySource
from tests.inspector.units.planted import PLANTED, noise_images, paste, planted_model


@pytest.mark.parametrize("text", ["local:0", "local", "tcp://host", "http://h:1", "local:-2"])
def test_malformed_scheduler_is_refused(text):
    with pytest.raises(ClusterError, match="Expected --scheduler"):
        parse_scheduler(text)


def test_scheduler_forms():
    assert parse_scheduler("local:3") == ("local", 3)
    assert parse_scheduler("tcp://10.0.0.2:8786") == ("tcp", "tcp://10.0.0.2:8786")


@pytest.mark.slow
def test_local_cluster_equals_one_process_and_loads_the_model_once_per_worker(tmp_path):
    pytest.importorskip("distributed")
    from inspector.units.cluster import ProbeSpec, dask_client, dask_shard_map, worker_loads

    path = tmp_path / "planted.keras"
    planted_model().save(path)
    probe = LayerProbe(load_model(path))
    source = ArraySource(paste(noise_images(160), PLANTED))
    settings = dict(k=5, batch_size=16, shard_size=32, cache_dir=False)
    alone = mine_units(probe, source, **settings)
    with dask_client("local:2") as client:
        shard_map = dask_shard_map(client, ProbeSpec.of(path, probe), 5, 16, source)
        spread = mine_units(probe, source, shard_map=shard_map, **settings)
        loads = worker_loads(client)
    assert len(loads) == 2 and all(count <= 1 for count in loads.values())
    assert sum(loads.values()) >= 1  # 5 shards ran on at most 2 model loads
    for a, b in zip(alone.layers, spread.layers, strict=True):
        for field in ("scores", "images", "boxes", "mean", "fraction_active", "histogram"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.slow
def test_local_cluster_dissection_equals_one_process_and_loads_the_model_once(tmp_path):
    pytest.importorskip("distributed")
    from inspector.units.cluster import ProbeSpec, dask_client, dask_dissection_map, worker_loads
    from inspector.units.concepts import combine, synthetic_edges
    from inspector.units.dissection import Dissector
    from tests.inspector.units.planted import SIZE
    from tests.inspector.units.test_dissection import eye_model, face_concepts

    path = tmp_path / "eye.keras"
    eye_model().save(path)
    layers = ["detector", "pooled"]
    probe = LayerProbe(load_model(path), layers)
    dissector = Dissector(probe, batch_size=8, shard_batches=2)
    concepts = combine(synthetic_edges(SIZE, 1, per_kind=4), face_concepts())
    alone = dissector.dissect(concepts)
    sent_levels = []

    def recording(bind):
        """The cluster's map, noting the thresholds the host sends with each count job."""

        def bound(data, batch_size):
            run = bind(data, batch_size)

            def jobs_run(jobs):
                sent_levels.extend(task.levels for task, _, _ in jobs if task.kind != "top")
                return run(jobs)

            return jobs_run

        return bound

    with dask_client("local:2") as client:
        shard_map = recording(dask_dissection_map(client, ProbeSpec.of(path, probe)))
        spread = dissector.dissect(concepts, shard_map=shard_map)
        dissector.dissect(concepts, seed=3, shard_map=shard_map)  # the workers' models reused
        loads = worker_loads(client)
    assert len(loads) == 2 and all(count <= 1 for count in loads.values())
    assert sum(loads.values()) >= 1  # 2 dissections of 20 shard jobs each
    expected_levels = dissector.thresholds(concepts.images)
    assert sent_levels and all(
        np.array_equal(sent, expected)
        for levels in sent_levels
        for sent, expected in zip(levels, expected_levels, strict=True)
    )
    for a, b in zip(alone, spread, strict=True):
        np.testing.assert_array_equal(a.iou, b.iou)
        np.testing.assert_array_equal(a.scores, b.scores)
        assert (a.labels, a.groups, a.fractions) == (b.labels, b.groups, b.fractions)
        assert a.controls == b.controls and set(a.controls) == {
            "shuffled_masks",
            "masks_over_non_faces",
        }
