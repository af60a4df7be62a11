"""Connects the Units view to the worker: requests, answers, caches, dialogs, export.

Answers are kept per (model, data set) and per layer, so switching channels,
layers or back to a data set already mined is instant; the core's disk cache
makes a first mining after a restart instant too. A newer request of a kind
supersedes the older one (``LongJobs``); an answer whose key no longer matches
what the view shows is kept for later but not painted.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal
from PyQt6.QtWidgets import QFileDialog

from gui.jobs.long_jobs import LongJobs
from gui.jobs.units_jobs import (
    BUNDLED_SETS,
    COMPARE_JOB,
    DEFAULT_DATA,
    DISSECT_JOB,
    JOBS,
    LAYER_JOB,
    MINE_JOB,
    VISUAL_JOB,
    VISUALIZE_BATCH,
    ConceptsProvider,
    ImagesProvider,
    NetworksProvider,
    bundled_concepts,
    bundled_images,
    bundled_networks,
    dissect,
    dissect_file,
    layer_crops,
    layer_visuals,
    mine,
    visual_order,
)
from gui.views.units import export as units_export

_CONV = ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")
EXPORT_FILTERS = {
    "sheet": "PNG image (*.png);;SVG drawing (*.svg)",
    "chart": "PNG image (*.png);;SVG drawing (*.svg)",
    "json": "JSON (*.json)",
}


def _resolved(path) -> str:
    """One name per model file, however it was opened (relative, absolute, a link)."""
    return str(Path(path).resolve())


def with_suffix(path: str, chosen_filter: str) -> str:
    """``path``, with the chosen filter's extension added if the user typed none
    ("sheet" + "SVG drawing (*.svg)" -> "sheet.svg"): the suffix picks the format."""
    match = re.search(r"\*(\.\w+)", chosen_filter or "")
    return path + match.group(1) if match and not Path(path).suffix else path


class UnitsController(QObject):
    """The Units view's controller.

    Args:
        session: the app's ``Session`` (its state and worker).
        view: the ``UnitsView``.
        feature_view, hierarchy_view: a channel or layer picked there is shown here.
        tabs: the window's tab widget (the view computes only while it is shown).
        show_error: ``(title, message)``: the window's message box.
        images: the bundled sets' provider, ``(name, shape)`` -> images and is_face
            (default: ``models.datasets.unit_data.bundled_unit_set``).
        concepts: the face concepts provider for dissection (None: edges only).
        networks: name -> file of the networks *Compare with* offers before they
            are dissected (default: the bundled ones).
        cache_dir: the mining cache root (None: the core's default).

    Signals:
        dissection_ready(object): the open model's ``DissectionReport``, or None
            when a new model has none yet (the Hierarchy view shows its concepts).
    """

    dissection_ready = pyqtSignal(object)

    def __init__(
        self,
        session,
        view,
        *,
        feature_view,
        hierarchy_view,
        tabs,
        show_error,
        images: ImagesProvider = bundled_images,
        concepts: ConceptsProvider | None = bundled_concepts,
        cache_dir: Path | None = None,
        networks: NetworksProvider = bundled_networks,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.session, self.view, self.show_error = session, view, show_error
        self.images, self.concepts, self.cache_dir = images, concepts, cache_dir
        self.networks = networks
        self._overlay_path: str | None = None  # the model file drawn dotted on the chart
        self.jobs = LongJobs(self.session, self)
        self.mined: dict[tuple, object] = {}
        self.details: dict[tuple, object] = {}
        self.dissections: dict[tuple, object] = {}
        self._model_key: tuple | None = None
        self._preprocess = None  # the open model's Preprocessing, as its inspection used
        self._asked_layer: tuple | None = None
        self._asked_visual: tuple | None = None
        self._mining = ""  # the data set being mined  # (data key, layer, channels) on the worker
        self._pending_kind: str | None = None  # Show me, waiting for the dissection
        # Show me's unit (data, layer, channel, words), waiting for its data to be mined.
        self._pending_unit: tuple | None = None
        self._note = ""  # what Show me said about the unit it chose, kept in the status
        view = self.view
        view.mine_requested.connect(self.request_mining)
        view.detail_requested.connect(self.request_detail)
        view.synthetic_requested.connect(self.request_synthetic)
        view.dissect_requested.connect(self.request_dissection)
        view.show_me_requested.connect(self.show_me)
        view.cancel_requested.connect(self.cancel)
        view.folder_requested.connect(self.choose_folder)
        view.export_requested.connect(self.export)
        view.compare_requested.connect(self.compare_with)
        feature_view.channel_selected.connect(view.select_unit)
        hierarchy_view.layer_selected.connect(view.select_layer)
        tabs.currentChanged.connect(lambda _: view.set_active(tabs.currentWidget() is view))
        view.active = tabs.currentWidget() is view
        self.jobs.progressed.connect(lambda _k, d, t, w: view.show_progress(d, t, w))
        self.session.state_changed.connect(self.set_state)
        self.session.worker.finished.connect(self._on_finished)
        self.session.worker.failed.connect(self._on_failed)

    # --- requests ----------------------------------------------------------------------
    def set_state(self, state) -> None:
        """A new model resets the view (a new image of the same model changes nothing)."""
        request = state.request
        # The preset is part of the key: another input scaling is another model input,
        # so its units are mined afresh (the Units tab feeds what the status bar says).
        preprocess = state.inspection.preprocess
        key = (str(request.model_path), bool(request.unsafe), getattr(preprocess, "preset", ""))
        if key == self._model_key:
            return
        self.cancel()
        self._model_key, self._preprocess = key, preprocess
        layers = {
            r.name: int(r.output_shape[-1])
            for r in state.inspection.layers
            if r.class_name in _CONV and len(r.output_shape) == 3
        }
        self.view.set_model(layers)
        if self._overlay_path == _resolved(key[0]):  # the model overlaid is now the one open
            self._overlay_path = None
            self.view.set_overlay(None)
        self._fill_compare()
        self._show_cached(self.view.data())
        self.dissection_ready.emit(self.dissections.get(key))

    def _data_key(self, data: str) -> tuple:
        return (*self._model_key, data)

    def _show_cached(self, data: str) -> bool:
        mined = self.mined.get(self._data_key(data))
        if mined is None:
            return False
        self.view.show_mined(mined)
        for (key, _layer), detail in self.details.items():
            if key == mined.key:
                self.view.show_detail(detail)
        if self._model_key in self.dissections:
            self.view.show_dissection(self.dissections[self._model_key])
        return True

    def request_mining(self, data: str) -> None:
        if self._model_key is None or not data:
            return
        if self._show_cached(data):
            self._select_pending()
            return
        self._note = ""
        self._mining = data
        key, images, cache_dir = self._data_key(data), self.images, self.cache_dir
        self.view.set_running(True, f"Mining {BUNDLED_SETS.get(data, data).lower()}…")
        self.jobs.cancel(LAYER_JOB)
        preprocess = self._preprocess
        self.jobs.submit(
            MINE_JOB, lambda c, ctl: mine(c, ctl, key, data, images, cache_dir, preprocess)
        )

    def request_detail(self, layer: str) -> None:
        """Top crops of ``layer``: the chosen channel's alone first (on screen at
        once), then every channel's; visualisations follow (``_visualise_next``)."""
        mined = self.view.mined
        if mined is None:
            return
        ask = (mined.key, layer)
        known = self.details.get(ask)
        if known is not None and known.cropped is None:
            self.view.show_detail(known)
            return
        if self._asked_layer == ask and self.jobs.is_running(LAYER_JOB):
            return  # already on its way (every repaint asks again)
        self._asked_layer = ask
        chosen = [self.view.channel()] if known is None and layer == self.view.layer() else None
        images = self.images
        self.view.set_running(True, f"Top crops and their gradients of {layer}…")
        self.jobs.submit(
            LAYER_JOB, lambda c, ctl: layer_crops(c, ctl, ask, mined, layer, images, chosen)
        )

    def request_synthetic(self, layer: str, channel: int) -> None:
        """The view shows ``channel`` without its synthetic image: compute it first."""
        self.view.synthetic_stopped = False
        self._visualise_next()

    def _visualise_next(self) -> None:
        """Submit the next visualisation batch of the shown layer: the chosen channel
        alone if it is missing (on screen fastest), else its nearest missing
        neighbours, ``VISUALIZE_BATCH`` at a time; nothing while the tab is hidden."""
        view, mined = self.view, self.view.mined
        if mined is None or not view.active or view.synthetic_stopped:
            return
        layer, channel = view.layer(), view.channel()
        detail = self.details.get((mined.key, layer))
        if detail is None:
            return
        total = mined.result.layer(layer).channels
        missing = visual_order(total, channel, detail.visuals.channels)
        if not missing:
            ready = self._note or f"{layer}: crops and visualisations ready."
            view.set_running(self._any_running(), ready)
            return
        batch = missing[:1] if missing[0] == channel else missing[:VISUALIZE_BATCH]
        ask = (mined.key, layer, tuple(batch))
        asked = self._asked_visual
        same_layer = asked is not None and asked[:2] == ask[:2]
        if (
            self.jobs.is_running(VISUAL_JOB)
            and same_layer
            and (asked == ask or channel in asked[2])
        ):
            return  # on its way, or the running batch holds the chosen channel
        self._asked_visual = ask
        done = total - len(missing)
        view.set_running(
            True, f"Synthetic images of {layer}: {done} of {total} done, channel {batch[0]} next…"
        )
        self.jobs.submit(
            VISUAL_JOB,
            lambda c, ctl: (ask, layer_visuals(c, ctl, mined, layer, np.asarray(batch))),
        )

    def request_dissection(self) -> None:
        if self._model_key is None:
            return
        model_key, concepts, preprocess = self._model_key, self.concepts, self._preprocess
        self.view.set_running(True, "Dissecting every conv layer…")
        self.jobs.submit(
            DISSECT_JOB, lambda c, ctl: dissect(c, ctl, model_key, concepts, preprocess)
        )

    def compare_with(self, path: str | None) -> None:
        """Overlay the model file ``path`` on the chart, dissecting it first if this
        session has not; None removes the overlay."""
        path = None if path is None else _resolved(path)
        self._overlay_path = path
        self.view.select_compare(path)
        if path is None:
            self.view.set_overlay(None)
            return
        report = self._dissection_of(path)
        if report is not None:
            self._show_overlay(report, path)
            return
        concepts = self.concepts
        self.view.set_running(True, f"Dissecting {Path(path).name} to compare…")
        self.jobs.submit(COMPARE_JOB, lambda _c, ctl: dissect_file(ctl, path, concepts))

    def _show_overlay(self, report, path: str) -> None:
        """Draw ``report`` dotted, or say why not: the chart matches layers by name, and
        another architecture may share none."""
        mine = set(self.view.conv_layers())
        shared = mine & {s.layer for s in report.selectivity.layers}
        name = Path(path).name
        if not shared:
            self._overlay_path = None
            self.view.select_compare(None)
            self.view.set_overlay(None)
            self.view.status_label.setText(
                f"{name} shares no layer names with this model: nothing to overlay."
            )
            return
        self.view.select_compare(path)
        self.view.set_overlay(report, Path(path).stem)
        self.view.status_label.setText(
            f"{name} drawn dotted on the chart ({len(shared)} of {len(mine)} layers in common)."
        )

    def _dissection_of(self, path: str):
        """This session's dissection (with the selectivity measures) of model file ``path``."""
        for key, report in self.dissections.items():
            if _resolved(key[0]) == path and report.selectivity is not None:
                return report
        return None

    def _fill_compare(self) -> None:
        """*Compare with*: every other model dissected this session, then the bundled
        networks not dissected yet (choosing one dissects it)."""
        current = _resolved(self._model_key[0]) if self._model_key else None
        choices, seen = [], {current}
        for key, report in self.dissections.items():
            path = _resolved(key[0])
            if path not in seen and report.selectivity is not None:
                seen.add(path)
                choices.append((Path(path).stem, path))
        for name, path in self.networks().items():
            path = _resolved(path)
            if path not in seen:
                seen.add(path)
                choices.append((f"bundled {name} (dissects it first)", path))
        self.view.set_compare_choices(choices)

    def show_me(self, kind: str) -> None:
        """Jump to the strongest unit of ``kind``: measure every unit first if that has
        not been done for this model, then mine the data set that shows it best (the
        face photos for a face part, the faces and natural photos otherwise)."""
        report = self.dissections.get(self._model_key)
        if report is None:
            self._pending_kind = kind
            if not self.jobs.is_running(DISSECT_JOB):
                self.request_dissection()
            return
        found = report.exemplars.get(kind, ())
        if not found:
            self.view.status_label.setText(
                f"No {kind} unit to show: the selectivity measures need the bundled face "
                "photos, which do not fit this model's input."
            )
            return
        best = found[0]
        data = "bundled-faces" if kind not in ("edge", "face") else DEFAULT_DATA
        self._pending_unit = (data, best.layer, best.channel, best.text)
        self.view.select_data(data)
        self.request_mining(data)

    def _select_pending(self) -> None:
        """Select the unit Show me chose once its data set is the one shown."""
        pending, mined = self._pending_unit, self.view.mined
        if pending is not None and mined is not None and mined.data == pending[0]:
            self._pending_unit = None
            self.view.select_unit(pending[1], pending[2])
            self._note = pending[3]
            self.view.status_label.setText(self._note)

    def cancel(self) -> None:
        running = [k for k in JOBS if self.jobs.is_running(k)]
        for kind in running:
            self.jobs.cancel(kind)
        self._asked_layer = self._asked_visual = None
        self._pending_kind = self._pending_unit = None
        self.view.synthetic_stopped = True  # no new batch until a channel is chosen again
        if running:
            self.view.set_running(False, "Cancelled.")
            self.view.repaint_unit()  # "computing…" becomes "stopped"

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.view, "Mine a folder of images")
        if folder:
            self.view.add_folder(folder)
        else:  # back to the data set that was shown
            self.view.data_combo.setCurrentIndex(0)

    # --- answers -----------------------------------------------------------------------
    def _on_finished(self, kind: str, request_id: int, result: object) -> None:
        if kind not in JOBS or not self.jobs.finished(kind, request_id):
            return
        self.view.set_running(self._any_running())
        if kind == MINE_JOB:
            self.mined[result.key] = result
            if result.key == self._data_key(self.view.data()):
                self.view.show_mined(result)
                self._select_pending()
        elif kind == LAYER_JOB:
            known = self.details.get(result.key)
            detail = known.with_crops(result) if known is not None else result
            self.details[result.key] = detail
            if self.view.mined is not None and result.key[0] == self.view.mined.key:
                self.view.show_detail(detail)
            self.view.status_label.setText(self._note or f"{result.layer}: top crops ready.")
            self._asked_layer = None
            self._visualise_next()  # the chosen channel's synthetic image first ...
            if detail.cropped is not None:  # ... then every channel's crops
                self.request_detail(result.layer)
        elif kind == VISUAL_JOB:
            (data_key, layer, _batch), visuals = result
            self._asked_visual = None
            detail = self.details.get((data_key, layer))
            if detail is not None:
                detail = self.details[(data_key, layer)] = detail.with_visuals(visuals)
                if self.view.mined is not None and data_key == self.view.mined.key:
                    self.view.show_detail(detail)
            self._visualise_next()
        elif kind == COMPARE_JOB:
            self.dissections[result.model_key] = result
            self._fill_compare()
            if _resolved(result.model_key[0]) == self._overlay_path:
                self._show_overlay(result, self._overlay_path)
        else:
            self.dissections[result.model_key] = result
            self._fill_compare()
            self.view.status_label.setText(
                f"Dissected {len(result.layers)} layers on {result.concepts}."
            )
            if result.model_key == self._model_key:
                self.view.show_dissection(result)
                self.dissection_ready.emit(result)
                kind, self._pending_kind = self._pending_kind, None
                if kind is not None:
                    self.show_me(kind)

    def _on_failed(self, kind: str, request_id: int, message: str) -> None:
        if kind in JOBS and self.jobs.finished(kind, request_id):
            if kind == COMPARE_JOB:  # the chart keeps what it showed
                self._overlay_path = None
                self.view.set_compare_choices([])
                self._fill_compare()
            if kind == MINE_JOB and self._mining not in BUNDLED_SETS:
                # "Nothing was changed": the picker goes back to what is shown
                self.view.forget_folder(self._mining)
            self.view.set_running(self._any_running(), f"Failed: {message}")
            self._pending_kind = self._pending_unit = None
            self.show_error("Units", message)

    def _any_running(self) -> bool:
        return any(self.jobs.is_running(k) for k in JOBS)

    # --- export --------------------------------------------------------------------------
    def export(self, what: str) -> None:
        view = self.view
        detail = view.details.get(view.layer())
        if what == "chart" and view.dissection is None:
            self.show_error(
                "Nothing to export",
                "Expected a dissection. Received: none yet; press Dissect first.",
            )
            return
        if what != "chart" and (view.mined is None or (what == "sheet" and detail is None)):
            self.show_error(
                "Nothing to export",
                "Expected mined units of this layer. Received: none yet; press Mine first.",
            )
            return
        path, chosen = QFileDialog.getSaveFileName(self.view, "Save", "", EXPORT_FILTERS[what])
        if not path:
            return
        path = with_suffix(path, chosen)
        try:
            self._write(what, Path(path), detail)
        except Exception as error:  # an OSError or the exporter's ExportError: one message
            self.show_error("Export failed", f"Could not write {path}: {error}")
            return
        view.status_label.setText(f"Saved {path}")

    def _write(self, what: str, path: Path, detail) -> None:
        view = self.view
        if what == "sheet":
            units_export.save_picture(
                path, units_export.layer_sheet(view.mined, detail, view.dissection)
            )
        elif what == "json":
            document = units_export.units_document(view.mined, self._model_key[0], view.dissection)
            units_export.save_json(path, document)
        else:
            from gui.export.actions import export_view_image

            export_view_image(view.chart, path)
