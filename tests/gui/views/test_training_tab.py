"""Training from the GUI: the job, its throttle and stop flag, the thread, the tab.

The job tests run ``run_training`` in this process with the tiny recorded net.
The thread and tab tests start the real training process (spawned, so each pays
for importing TensorFlow once) on the real ``train_face_model`` and the bundled
faces, or on the tiny net where only the plumbing is under test.
"""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from gui.training.job import (
    Outbox,
    RecordTail,
    TrainingProgress,
    TrainingRequest,
    plain,
    run_training,
)
from gui.training.supervisor import TrainingThread
from gui.views.training.tab import (
    TRAIN,
    TRAIN_LIVE,
    VALIDATION,
    TrainingTab,
    metric_key,
    new_run_dir,
)
from gui.widgets.curve_helpers import CurveGroup, is_log_y, loggable, make_plot
from inspector.recording.run_directory import load_run
from tests.gui.tiny_runs import LAYERS

TINY_TRAIN = "tests.gui.tiny_runs:tiny_train"
# Spawning the training process imports TensorFlow there: seconds on a busy 2-core box.
PROCESS_MS = 240_000


# --- the job, in this process ------------------------------------------------------------
def test_record_tail_returns_only_whole_new_lines(tmp_path):
    tail = RecordTail(tmp_path)
    assert tail.new_records() == []  # no records.jsonl yet
    path = tmp_path / "records.jsonl"
    path.write_bytes(b'{"kind": "start", "step": 0}\n{"kind": "layer_st')
    assert tail.new_records() == [{"kind": "start", "step": 0}]
    with open(path, "ab") as handle:
        handle.write(b'ats", "step": 1}\nnot json\n{"no_kind": 1}\n')
    assert tail.new_records() == [{"kind": "layer_stats", "step": 1}]
    assert tail.new_records() == []


def test_outbox_throttles_and_flushes_at_epoch_end(tmp_path):
    sent: list[TrainingProgress] = []
    outbox = Outbox(sent.append, tmp_path, min_interval_s=3600, read_probe=lambda s, e: None)
    for batch in range(5):
        outbox.add_batch({"batch": batch})
    assert [len(p.batches) for p in sent] == [1]  # the first goes at once, then an hour's wait
    (tmp_path / "records.jsonl").write_text(json.dumps({"kind": "layer_stats", "step": 4}) + "\n")
    outbox.add_epoch({"epoch": 1, "logs": {"loss": 0.5}})
    assert [len(p.batches) for p in sent] == [1, 4]
    assert sent[1].epochs == ({"epoch": 1, "logs": {"loss": 0.5}},)
    assert sent[1].records == ({"kind": "layer_stats", "step": 4},)
    outbox.flush(force=True)
    assert len(sent) == 2  # nothing new: nothing sent


def test_plain_copies_numpy_scalars_to_python():
    source = {"a": np.float32(0.5), "b": [np.int64(3), {"c": np.bool_(True)}]}
    copy = plain(source)
    assert copy == {"a": 0.5, "b": [3, {"c": True}]}
    assert type(copy["a"]) is float
    assert type(copy["b"][0]) is int
    assert copy["b"][1] is not source["b"][1]


def test_run_training_forwards_logs_records_and_probe_maps(tmp_path):
    messages = []
    request = TrainingRequest(tmp_path / "run", epochs=2)
    run_training(
        request, TINY_TRAIN, lambda *m: messages.append(m), threading.Event(), min_interval_s=0
    )
    kinds = [kind for kind, _ in messages]
    assert kinds[-1] == "succeeded"
    assert set(kinds[:-1]) == {"progress"}
    outcome = messages[-1][1]
    assert (outcome.cancelled, outcome.epochs_done) == (False, 2)
    progress = [payload for kind, payload in messages if kind == "progress"]
    batches = [b for p in progress for b in p.batches]
    assert len(batches) == 6  # 2 epochs of 3 steps, none lost to the throttle
    assert batches[-1]["position"] == pytest.approx(2.0)
    epochs = [e for p in progress for e in p.epochs]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[0]["logs"])
    run = load_run(request.run_dir)
    records = [r for p in progress for r in p.records]
    stats = [r for r in records if r["kind"] == "layer_stats"]
    assert [r["step"] for r in stats] == list(run.series(LAYERS[0]).steps)
    frames = [p.probe for p in progress if p.probe is not None]
    assert frames[-1].step == run.snapshot_steps[-1]
    last_maps = run.probe_activations_at(frames[-1].step)
    np.testing.assert_array_equal(frames[-1].activations["rgb_conv"], last_maps["rgb_conv"])


def test_run_training_stops_when_the_flag_is_set(tmp_path):
    stop = threading.Event()
    messages = []

    def send(kind, payload):
        messages.append((kind, payload))
        if kind == "progress" and payload.batches:
            stop.set()  # as Cancel does, from another thread

    run_training(TrainingRequest(tmp_path / "run", epochs=50), TINY_TRAIN, send, stop, 0)
    kind, outcome = messages[-1]
    assert kind == "succeeded"
    assert outcome.cancelled
    batches = [b for k, p in messages if k == "progress" for b in p.batches]
    assert len(batches) == 1  # stopped at the end of the batch that saw the flag
    assert outcome.epochs_done == 0  # the stopped epoch is not a whole one
    assert not [e for k, p in messages if k == "progress" for e in p.epochs]
    assert load_run(tmp_path / "run").finished


def test_run_training_turns_an_error_into_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    messages = []
    request = TrainingRequest(tmp_path / "run", data_dir=tmp_path / "empty", epochs=1)
    run_training(
        request,
        "models.training.loop:train_face_model",
        lambda *m: messages.append(m),
        threading.Event(),
    )
    assert len(messages) == 1
    kind, message = messages[0]
    assert kind == "failed"
    assert message.startswith("Expected one subfolder per class")
    assert "\n" not in message


# --- curve helpers and small pieces of the tab ----------------------------------------------
def test_curve_group_log_plot_drops_points_it_cannot_show(qtbot):
    plot = make_plot("t", x_label="step", y_label="ratio", log_y=True)
    qtbot.addWidget(plot)
    curves = CurveGroup(plot)
    curves.set_series("a", [0, 1, 2, 3], [0.0, 1e-3, np.nan, 1e-1])
    assert is_log_y(plot)
    x, y = curves.item("a").getOriginalDataset()
    np.testing.assert_array_equal(x, [1, 3])
    np.testing.assert_array_equal(y, [1e-3, 1e-1])
    assert loggable([1, 2], [-1.0, 2.0])[1].tolist() == [2.0]
    curves.ensure(["a", "b"])
    assert curves.names == ("a", "b")
    assert len(plot.getPlotItem().legend.items) == 2
    curves.clear()
    assert curves.names == ()
    assert len(plot.getPlotItem().legend.items) == 0


def test_metric_keys_and_run_dir_names(tmp_path):
    logs = {"loss": 1, "accuracy": 2, "val_loss": 3, "val_accuracy": 4}
    assert metric_key(logs, "acc", validation=False) == "accuracy"
    assert metric_key(logs, "loss", validation=True) == "val_loss"
    assert metric_key({"loss": 1}, "acc", validation=False) is None
    first = new_run_dir(tmp_path)
    first.mkdir()
    second = new_run_dir(tmp_path, taken=(tmp_path / "other",))
    assert second != first
    assert second.parent == tmp_path


# --- the thread and the tab, with the training process ---------------------------------------
@pytest.fixture
def tab(qtbot, tmp_path):
    widget = TrainingTab(runs_root=tmp_path / "runs")
    qtbot.addWidget(widget)
    yield widget
    assert widget.stop(60_000)


@pytest.mark.slow  # the completed path is covered in process above; this adds the relay
def test_thread_relays_the_process_and_finishes(qtbot, tmp_path):
    thread = TrainingThread(TrainingRequest(tmp_path / "run", epochs=1), train=TINY_TRAIN)
    progress = []
    thread.progressed.connect(progress.append)
    try:
        with qtbot.waitSignal(thread.succeeded, timeout=PROCESS_MS) as done:
            thread.start()
        qtbot.waitUntil(thread.isFinished, timeout=30_000)
    finally:
        thread.stop(30_000)
    assert done.args[0].epochs_done == 1
    assert sum(len(p.batches) for p in progress) == 3
    frames = [p.probe for p in progress if p.probe is not None]
    assert frames
    assert not frames[-1].activations["rgb_conv"].flags.writeable  # frozen for the GUI


def test_thread_reports_a_train_function_it_cannot_send(qtbot, tmp_path):
    thread = TrainingThread(TrainingRequest(tmp_path / "run"), train=lambda **_: None)
    with qtbot.waitSignal(thread.failed, timeout=30_000) as failed:
        thread.start()
    assert failed.args[0].startswith("Could not start the training process: ")
    assert thread.wait(30_000)


def test_tab_trains_shows_live_curves_and_cancels(tab, qtbot):
    tab.resize(1200, 800)
    tab.show()  # on screen, so the plots' legends get their places
    qtbot.waitExposed(tab)
    tab.epochs_spin.setValue(40)
    tab.seed_spin.setValue(3)
    run_dir = tab.run_dir_edit.text()
    with qtbot.waitSignal(tab.training_started, timeout=5000):
        tab.start_button.click()
    assert tab.is_running
    assert not tab.start_button.isEnabled()
    assert tab.run_dir_edit.text() == run_dir  # the field shows the run being written
    assert not tab.run_dir_edit.isEnabled()

    def live_curves_shown():
        batch_points = tab.loss_curves.item(TRAIN_LIVE).getOriginalDataset()[0]
        return (
            batch_points is not None
            and len(batch_points) > 0
            and bool(tab.ratio_curves.names)
            and tab.probe_image.image is not None
        )

    qtbot.waitUntil(live_curves_shown, timeout=PROCESS_MS)
    assert is_log_y(tab.ratio_plot)
    # One curve per layer: the legend sits beside them, not over them.
    item = tab.ratio_plot.getPlotItem()
    area, legend = item.vb.sceneBoundingRect, item.legend.sceneBoundingRect
    qtbot.waitUntil(lambda: area().width() > 0 and legend().left() >= area().right() - 1)
    assert tab.loss_curves.names == (TRAIN_LIVE, TRAIN, VALIDATION)
    assert tab.probe_layer_combo.count() > 0
    # Cancel returns at once; the run stops at the end of its batch, well before 40 epochs.
    with qtbot.waitSignal(tab.training_finished, timeout=60_000) as finished:
        tab.cancel_button.click()
    outcome = finished.args[0]
    assert outcome.cancelled
    assert outcome.epochs_done < 40
    qtbot.waitUntil(lambda: not tab.is_running, timeout=30_000)
    assert tab.start_button.isEnabled()
    assert "Cancelled" in tab.status_label.text()
    assert tab.run_dir_edit.text() != run_dir  # the next run gets a fresh folder
    run = load_run(outcome.run_dir)
    assert str(outcome.run_dir) == run_dir
    assert run.config["seed"] == 3
    assert set(tab.ratio_curves.names) <= set(run.layer_names)


def test_tab_reports_a_dataset_error(tab, qtbot, tmp_path, monkeypatch):
    from gui.views.training import tab as training

    data = tmp_path / "faces"
    (data / "only_one_class").mkdir(parents=True)
    monkeypatch.setattr(
        training.QFileDialog, "getExistingDirectory", staticmethod(lambda *a: str(data))
    )
    tab.data_button.click()
    assert tab.data_dir == data
    with qtbot.waitSignal(tab.training_failed, timeout=PROCESS_MS) as failed:
        tab.start()
    message = failed.args[0]
    assert message.startswith("Expected at least two class subfolders")
    assert "\n" not in message
    qtbot.waitUntil(lambda: not tab.is_running, timeout=30_000)
    assert tab.start_button.isEnabled()
    assert message in tab.status_label.text()
    tab.bundled_button.click()
    assert tab.data_dir is None


def test_stop_joins_a_running_training(tab, qtbot):
    tab._train = TINY_TRAIN
    tab.epochs_spin.setValue(10_000)
    with qtbot.waitSignal(tab.training_started):
        tab.start()
    qtbot.waitUntil(lambda: bool(tab.ratio_curves.names), timeout=PROCESS_MS)
    assert tab.stop(60_000)  # what the main window's closeEvent calls
    assert not tab.is_running


def test_a_run_counts_until_its_end_is_handled(tab, qtbot):
    """The thread's finished signal is queued: between the thread's end and its
    handling, the tab must still say "running" (buttons and ``is_running`` agree),
    and Start must not begin a run that the old run's late signal would reset."""
    tab._train = TINY_TRAIN
    tab.epochs_spin.setValue(10_000)
    with qtbot.waitSignal(tab.training_started):
        tab.start()
    qtbot.waitUntil(lambda: bool(tab.ratio_curves.names), timeout=PROCESS_MS)
    thread = tab._thread
    thread.request_stop()
    assert thread.wait(60_000)  # joined without handing control to the event loop
    assert not thread.isRunning()
    assert tab.is_running and not tab.start_button.isEnabled()
    assert not tab.start()  # refused: the old run's end is not handled yet
    qtbot.waitUntil(lambda: tab.start_button.isEnabled(), timeout=30_000)
    assert not tab.is_running


# --- Cancel is prompt -------------------------------------------------------------------
CANCEL_LIMIT_S = 2.0


def _cancel_latency(tab, qtbot) -> tuple[float, object]:
    """Seconds from the Cancel click to the tab's finished signal, and the outcome."""
    import time

    finished = []
    tab.training_finished.connect(lambda outcome: finished.append((time.monotonic(), outcome)))
    clicked = time.monotonic()
    tab.cancel_button.click()
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    return finished[0][0] - clicked, finished[0][1]


def test_cancel_takes_effect_promptly_even_when_the_child_is_slow_to_finish(tab, qtbot):
    tab._train = "tests.gui.slow_runs:slow_to_finish_train"
    tab.epochs_spin.setValue(2)  # fit is over in a moment; then the child dawdles
    with qtbot.waitSignal(tab.training_started, timeout=5000):
        tab.start()
    qtbot.waitUntil(
        lambda: len(tab.loss_curves.names) > 0 and _epochs_shown(tab) >= 2, timeout=240_000
    )
    latency, outcome = _cancel_latency(tab, qtbot)
    assert latency < CANCEL_LIMIT_S, f"Cancel took {latency:.2f} s"
    assert outcome.cancelled
    qtbot.waitUntil(lambda: not tab.is_running, timeout=10_000)
    run = load_run(outcome.run_dir)  # nothing lost: the run still loads
    assert run.snapshot_steps and set(LAYERS) <= set(run.layer_names)


def test_cancel_before_the_first_batch_is_prompt_and_writes_nothing_half(tab, qtbot):
    tab._train = TINY_TRAIN
    with qtbot.waitSignal(tab.training_started, timeout=5000):
        tab.start()  # the child is still importing TensorFlow
    latency, outcome = _cancel_latency(tab, qtbot)
    assert latency < CANCEL_LIMIT_S, f"Cancel took {latency:.2f} s"
    assert outcome.cancelled and outcome.epochs_done == 0
    qtbot.waitUntil(lambda: not tab.is_running, timeout=10_000)
    assert "Cancelled" in tab.status_label.text()


def _epochs_shown(tab) -> int:
    points = tab.loss_curves.item(TRAIN).getOriginalDataset()[0]
    return 0 if points is None else len(points)
