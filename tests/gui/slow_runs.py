"""Training stand-ins that are slow to stop, for the Cancel-latency tests.

``slow_to_finish_train`` trains the tiny recorded net (``tiny_runs.tiny_train``),
then spends a long time after ``fit`` returns, as the face model's training does
when it saves and evaluates the final model: a Cancel that waited for the child
to return would take that long.
"""

from __future__ import annotations

import time

from tests.gui.tiny_runs import tiny_train

AFTER_FIT_S = 60.0


def slow_to_finish_train(**kwargs):
    model = tiny_train(**kwargs)
    time.sleep(AFTER_FIT_S)
    return model
