"""The live run's worker job: export every frozen frame like a still.

Each frozen frame was saved as a lossless PNG with the request that answered
it (model settings and the frame's crop). It is inspected again from that PNG,
with the same box, so the result equals what was on screen, and written by the
export that File > Export uses. Nothing of a live run is held in memory
but the PNG paths and their requests.
"""

from __future__ import annotations

from pathlib import Path

from gui.jobs.long_jobs import JobControl


def export_frozen_frames(context, control: JobControl, frames, folder: Path) -> Path:
    """Write ``folder/<frame>/`` for each ``(png, request)`` of ``frames``.

    Raises:
        CancelledError: the user cancelled (the frames done so far stay, each complete).
    """
    from inspector.engine.image_loading import load_image
    from inspector.engine.progress import check_cancelled
    from inspector.render.exporting import export_inspection

    for done, (png, request) in enumerate(frames):
        check_cancelled(control.cancelled, "the export of the frozen frames")
        control.progress(done, len(frames), png.name)
        prepared = load_image(png, context.model, crop=request.crop, preprocess=request.preprocess)
        inspection = context.inspector.inspect(
            prepared, target=request.target, output=request.output
        )
        export_inspection(inspection, Path(folder) / png.stem)
    control.progress(len(frames), len(frames), "done")
    return Path(folder)
