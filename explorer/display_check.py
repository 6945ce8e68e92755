"""Can the window open on this desktop? Asked before Qt is imported, answered in one line.

Without a display, or without the system libraries its xcb plugin links (pip cannot install
them), Qt prints a misleading message ("Reinstalling the application may fix this problem") and
aborts the process (SIGABRT, status 134). This module asks the same questions first:

- Is there a display at all (DISPLAY, WAYLAND_DISPLAY, or a platform chosen in
  QT_QPA_PLATFORM)? If not: say so, and how to run headless.
- Does the platform plugin load? The dynamic loader is asked, not a list of guesses: the plugin
  (PySide6's ``plugins/platforms/libqxcb.so``) is opened with ctypes, as Qt would a moment
  later (so it costs little when it loads, against ~35 ms for ldd); only when that fails does
  ``ldd`` on it (following libQt6XcbQpa and every library below) name each library "not
  found". ``libxcb-cursor.so.0``, which Qt opens at run time rather than links, is opened
  too. The missing names become the one install command for this system (apt, dnf or pacman,
  from /etc/os-release).
- Does an X server answer on DISPLAY? A socket is opened to it.

Nothing here imports Qt. Linux only: elsewhere Qt brings what it needs.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import socket
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from explorer.system_packages import install_hint

RUN_HEADLESS = ("run it headless instead: --export FIGURE.png|.svg|.pdf and/or --export-data "
                "DATA.json|.csv|.npz, or --screenshot WINDOW.png")
XCB_RUNTIME_LIBRARIES = ("libxcb-cursor.so.0",)
"""Opened by Qt's xcb plugin when it starts (from Qt 6.5), so ldd cannot see them."""

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found\s*$", re.MULTILINE)
_LDD_SECONDS = 20


def display_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """None when the window can open; else one line saying why not and what to do."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:  # the person chose a platform: check only the one we know can fail like this
        first = chosen.split(";")[0].split(":")[0]
        return xcb_problem(env) if first == "xcb" else None
    x11, wayland = env.get("DISPLAY", "").strip(), env.get("WAYLAND_DISPLAY", "").strip()
    if not x11 and not wayland:
        return ("the window needs a display, and there is none (DISPLAY and WAYLAND_DISPLAY "
                f"are not set); {RUN_HEADLESS}")
    if wayland and not missing_libraries(plugin_path("wayland")):
        return None  # Qt takes Wayland when it can; its libraries load
    if x11:
        return xcb_problem(env)
    return plugin_problem("wayland", missing_libraries(plugin_path("wayland")))


def xcb_problem(environ: Mapping[str, str]) -> str | None:
    """What stops Qt's X11 (xcb) plugin here: missing libraries, or no X server answering."""
    plugin = plugin_path("xcb")  # None: PySide6 not installed yet, or not laid out as we know
    if plugin is not None:
        missing = missing_libraries(plugin) + missing_runtime_libraries(XCB_RUNTIME_LIBRARIES)
        if missing:
            return plugin_problem("X11 (xcb)", missing)
    if not environ.get("DISPLAY", "").strip():  # QT_QPA_PLATFORM=xcb on a machine without X
        return f"the window needs an X display, and DISPLAY is not set; {RUN_HEADLESS}"
    return x_server_problem(environ.get("DISPLAY", ""))


def plugin_problem(name: str, missing: Sequence[str]) -> str | None:
    if not missing:
        return None
    return (f"the window cannot open: Qt's {name} platform plugin needs system libraries that "
            f"are not installed ({', '.join(missing)}); {install_hint(missing)}; or "
            f"{RUN_HEADLESS}")


def plugin_path(platform: str) -> Path | None:
    """PySide6's platform plugin (``libqxcb.so``, ``libqwayland.so``), found without importing
    PySide6; None when PySide6 or the plugin is not there."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "Qt" / "plugins" / "platforms" / f"libq{platform}.so"
    return path if path.is_file() else None


def missing_libraries(library: Path | None) -> list[str]:
    """The shared libraries ``library`` needs (directly or below) that the loader cannot find,
    in ldd's order, each once. Without ldd, loading it tells the first one."""
    if library is None or _loads(library):
        return []
    try:
        listing = subprocess.run(["ldd", str(library)], capture_output=True, text=True,
                                 errors="replace", timeout=_LDD_SECONDS, check=False)
    except (OSError, subprocess.SubprocessError):
        return _first_missing_by_loading(library)
    return list(dict.fromkeys(_NOT_FOUND.findall(listing.stdout)))


def _loads(library: Path) -> bool:
    """Whether the loader opens ``library`` with everything it links (lazily bound, as Qt does
    with its plugins; the copy stays loaded for Qt to reuse)."""
    try:
        ctypes.CDLL(str(library), mode=os.RTLD_LAZY)
    except OSError:
        return False
    return True


def missing_runtime_libraries(sonames: Sequence[str]) -> list[str]:
    """The sonames the loader cannot open (each one is tried with ctypes, as Qt's dlopen)."""
    missing = []
    for soname in sonames:
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(soname)
    return missing


def _first_missing_by_loading(library: Path) -> list[str]:
    try:
        ctypes.CDLL(str(library))
    except OSError as error:  # "libxcb-icccm.so.4: cannot open shared object file: ..."
        name = str(error).split(":")[0].strip()
        return [name] if name and name != str(library) else []
    return []


def x_server_problem(display: str) -> str | None:
    """None when a socket opens to the X server of ``display`` (":0", "localhost:10.0")."""
    match = re.fullmatch(r"(?P<host>[^:]*):(?P<number>\d+)(\.\d+)?", display.strip())
    if match is None:
        return None  # a form we do not parse (e.g. a launchd path): leave it to Qt
    host, number = match["host"], int(match["number"])
    if _x_socket_answers(host, number):
        return None
    return (f"the window cannot open: no X server answers on DISPLAY={display} (start one, "
            f"or fix DISPLAY); {RUN_HEADLESS}")


def _x_socket_answers(host: str, number: int) -> bool:
    if host not in ("", "unix"):  # a TCP display, e.g. ssh -X's localhost:10
        try:
            socket.create_connection((host, 6000 + number), timeout=2.0).close()
            return True
        except OSError:
            return False
    path = f"/tmp/.X11-unix/X{number}"
    for address in (path, "\0" + path):  # the socket file, then Linux's abstract name
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(2.0)
                connection.connect(address)
                return True
        except OSError:
            continue
    return False


if __name__ == "__main__":  # `make run` asks before it installs anything (no third-party import)
    _problem = display_problem()
    if _problem is not None:
        sys.stderr.write(f"error: {_problem}\n")
        sys.exit(2)
