"""Keep native libraries' start-up chatter off the terminal.

TensorFlow's C++ runtime logs a few lines ("oneDNN custom operations are on",
"Could not find cuda drivers") straight to file descriptor 2 while it is
imported, before any log level applies. A command whose contract is "one line
on stderr" has to hold that descriptor shut during the import. This module
imports nothing from the rest of the package, so it can run before TensorFlow
is loaded.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send whatever is written to file descriptor 2 inside the block to a temp file.

    If the block raises, the captured text is written back to stderr first, so
    a failed import still shows why it failed.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real descriptor (e.g. embedded)
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            capture.seek(0)
            sys.stderr.write(capture.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow and find its devices with the native start-up lines suppressed.

    Listing the devices is what probes for CUDA ("failed call to cuInit" on a
    machine without a GPU); doing it here keeps that line quiet too.
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_native_stderr():
        import tensorflow

        tensorflow.config.list_physical_devices()
