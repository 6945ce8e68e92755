"""The check that runs before the window: no display, a library Qt's platform plugin cannot load,
an X server that does not answer, each said in one line with what to do.

The loader is asked for real: a small shared library built here with gcc links another one that
is then deleted, and ``ldd`` (through :func:`missing_libraries`) must name it; sockets are real
listening sockets. Nothing needs a display or Xvfb.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.display_check import (
    display_problem,
    missing_libraries,
    plugin_path,
    x_server_problem,
)
from explorer.system_packages import PACKAGES, install_hint, package_manager

ROOT = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's loader")
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("ldd") is None,
                               reason="gcc and ldd build and inspect the test libraries")


def build_plugin_linking(folder: Path, soname: str) -> tuple[Path, Path]:
    """A shared library ``libfakeplugin.so`` that needs ``soname`` (built too, found through
    the plugin's RUNPATH); returns (plugin, the needed library).

    Each test builds its own in its own folder: a library the check opened stays loaded in
    this process, and a second look at the same file would find it there.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "needed.c").write_text("int needed_answer(void) { return 42; }\n")
    (folder / "plugin.c").write_text("int needed_answer(void);\n"
                                     "int plugin_answer(void) { return needed_answer(); }\n")
    needed = folder / soname
    subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", str(needed),
                    str(folder / "needed.c")], check=True)
    plugin = folder / "libfakeplugin.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugin), str(folder / "plugin.c"),
                    str(needed), f"-Wl,-rpath,{folder}"], check=True)
    return plugin, needed


@linux_only
@needs_gcc
def test_the_loader_names_a_library_that_is_gone(tmp_path):
    whole, _ = build_plugin_linking(tmp_path / "whole", "libaeprobe-present.so.3")
    assert missing_libraries(whole) == []  # everything loads
    broken, needed = build_plugin_linking(tmp_path / "broken", "libaeprobe-missing.so.3")
    needed.unlink()
    assert missing_libraries(broken) == ["libaeprobe-missing.so.3"]


@linux_only
@needs_gcc
def test_without_ldd_loading_names_the_first_missing_library(tmp_path, monkeypatch):
    plugin, needed = build_plugin_linking(tmp_path, "libaeprobe-gone.so.1")
    needed.unlink()
    monkeypatch.setenv("PATH", str(tmp_path))  # no ldd to be found
    assert missing_libraries(plugin) == ["libaeprobe-gone.so.1"]


@linux_only
def test_every_library_the_real_xcb_plugin_misses_here_has_a_package():
    plugin = plugin_path("xcb")
    assert plugin is not None and plugin.name == "libqxcb.so"
    missing = missing_libraries(plugin)
    assert all(soname in PACKAGES for soname in missing), missing


def os_release(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "os-release"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("release", "manager", "command"), [
    ('ID=debian\nVERSION_ID="12"\n', "apt", "sudo apt-get install libxcb-icccm4 libxcb-cursor0"),
    ('ID=ubuntu\nID_LIKE=debian\n', "apt", "sudo apt-get install libxcb-icccm4 libxcb-cursor0"),
    ('ID="linuxmint"\nID_LIKE="ubuntu debian"\n', "apt", "sudo apt-get install libxcb-icccm4"),
    ('ID=fedora\n', "dnf", "sudo dnf install xcb-util-wm xcb-util-cursor"),
    ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "dnf", "sudo dnf install xcb-util-wm"),
    ('ID=arch\n', "pacman", "sudo pacman -S --needed xcb-util-wm xcb-util-cursor"),
])
def test_the_install_line_fits_the_system(tmp_path, release, manager, command):
    path = os_release(tmp_path, release)
    assert package_manager(path) == manager
    assert command in install_hint(["libxcb-icccm.so.4", "libxcb-cursor.so.0"], path)


def test_an_unknown_system_or_library_still_gets_a_way_forward(tmp_path):
    unknown = os_release(tmp_path, "ID=plan9\n")
    assert "on Debian/Ubuntu: libxcb-keysyms1" in install_hint(["libxcb-keysyms.so.1"], unknown)
    debian = os_release(tmp_path, "ID=debian\n")
    assert "apt-file search libodd.so.7" in install_hint(["libodd.so.7"], debian)
    assert package_manager(tmp_path / "absent") is None


def test_no_display_says_how_to_run_headless():
    problem = display_problem({})
    assert problem is not None and "needs a display" in problem
    assert "--export" in problem and "--screenshot" in problem


def test_xcb_chosen_without_an_x_display_is_said():
    problem = display_problem({"QT_QPA_PLATFORM": "xcb"})
    assert problem is not None and ("DISPLAY is not set" in problem or "libxcb" in problem)


def test_a_chosen_platform_other_than_xcb_is_trusted():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_problem({"QT_QPA_PLATFORM": "vnc:size=800x600"}) is None


@linux_only
def test_a_display_nobody_serves_is_a_problem():
    # Either this machine lacks xcb's libraries or nothing listens on :4242; both are one line.
    problem = display_problem({"DISPLAY": ":4242"})
    assert problem is not None and "\n" not in problem and "the window cannot open" in problem


@linux_only
def test_an_x_server_socket_that_answers_is_no_problem():
    number = 4000 + os.getpid() % 1000
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(f"\0/tmp/.X11-unix/X{number}")  # Linux's abstract name: no file to clean
        server.listen(1)
        assert x_server_problem(f":{number}") is None
        assert x_server_problem(f"unix:{number}.0") is None
    assert "no X server answers on DISPLAY=:" in (x_server_problem(f":{number}") or "")


def test_a_tcp_x_server_is_reached_on_its_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        if port < 6000:
            pytest.skip("the system gave a port below X's 6000")
        assert x_server_problem(f"127.0.0.1:{port - 6000}") is None


def test_the_module_runs_before_anything_is_installed(tmp_path):
    """`make run` runs it with the system's Python before the venv exists: stdlib only."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-S", "-m", "explorer.display_check"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    if not sys.platform.startswith("linux"):
        assert result.returncode == 0
        return
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "needs a display" in result.stderr
