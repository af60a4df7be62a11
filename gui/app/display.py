"""Whether the desktop app can open a window here, asked before Qt is touched.

Without a display, ``QApplication`` on Linux aborts the process from C++ with
"could not connect to display" and a list of xcb plugins, which sends users
hunting for missing libraries. The console (``layer_inspector.console``) asks
``missing_display`` first and prints one line instead. Nothing here imports Qt or TensorFlow.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Mapping

# Qt platforms that draw without a windowing system (tests, screenshots, VNC, framebuffers).
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "linuxfb", "eglfs", "vkkhrdisplay")
NO_DISPLAY_MESSAGE = (
    "layer-inspector: the desktop app needs a display, and none was found "
    "(DISPLAY and WAYLAND_DISPLAY are not set). The command line needs none: "
    "run `layer-inspector inspect IMAGE --out DIR` (see `layer-inspector inspect --help`)."
)


def missing_display(environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """The one-line reason the app cannot open a window, or None if it can.

    Args:
        environ: the process environment (``os.environ``).
        platform: ``sys.platform``; only Linux and the BSDs need an X11 or
            Wayland server (Windows and macOS always have their own).

    Returns:
        ``NO_DISPLAY_MESSAGE`` when no display is reachable, else None.
    """
    if not platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    requested = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if requested in HEADLESS_PLATFORMS:
        return None
    if environ.get("WAYLAND_DISPLAY"):
        return None
    display = environ.get("DISPLAY")
    if not display:
        return NO_DISPLAY_MESSAGE
    if requested not in ("", "xcb") or x_server_answers(display):
        return None
    return (
        f"layer-inspector: the desktop app needs a display. Expected an X server at "
        f"DISPLAY={display} to answer. Received: no answer (is Xvfb or the X server "
        "running?). The command line needs none: run `layer-inspector inspect IMAGE --out DIR`."
    )


def x_server_answers(display: str, timeout: float = 1.0) -> bool:
    """Whether an X server accepts a connection at ``display`` (``:N``, ``host:N``,
    ``unix:N``), tried before Qt: Qt aborts the process (exit 134) when none does,
    blaming a missing library. An unparsable value is left to Qt."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return True
    try:
        if host in ("", "unix") or host.startswith("/"):
            path = host if host.startswith("/") else f"/tmp/.X11-unix/X{number}"
            with socket.socket(socket.AF_UNIX) as unix:
                unix.settimeout(timeout)
                unix.connect(path)
        else:
            socket.create_connection((host, 6000 + int(number)), timeout=timeout).close()
    except OSError:
        return False
    return True
