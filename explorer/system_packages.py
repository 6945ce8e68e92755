"""Missing shared libraries -> the one command that installs them on this Linux system.

The package manager is chosen from /etc/os-release (ID, then ID_LIKE): apt for Debian and
Ubuntu and their relatives, dnf for Fedora and the Red Hat family, pacman for Arch. The table
covers what Qt's xcb and Wayland plugins link beyond a minimal system; a library outside it is
named with the command that finds its package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

OS_RELEASE = Path("/etc/os-release")

# soname: (Debian/Ubuntu, Fedora/RHEL, Arch)
PACKAGES: dict[str, tuple[str, str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil",
                                "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libSM.so.6": ("libsm6", "libSM", "libsm"),
    "libICE.so.6": ("libice6", "libICE", "libice"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl", "libglvnd"),
    "libGLX.so.0": ("libglx0", "libglvnd-glx", "libglvnd"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libwayland-client.so.0": ("libwayland-client0", "libwayland-client", "wayland"),
    "libwayland-cursor.so.0": ("libwayland-cursor0", "libwayland-cursor", "wayland"),
    "libwayland-egl.so.1": ("libwayland-egl1", "libwayland-egl", "wayland"),
}
# The xcb extension libraries: one Debian package each, all in libxcb elsewhere.
for _ext, _soname in (("shape", "libxcb-shape.so.0"), ("randr", "libxcb-randr.so.0"),
                      ("xfixes", "libxcb-xfixes.so.0"), ("shm", "libxcb-shm.so.0"),
                      ("render", "libxcb-render.so.0"), ("xinput", "libxcb-xinput.so.0"),
                      ("glx", "libxcb-glx.so.0"), ("xinerama", "libxcb-xinerama.so.0"),
                      ("xkb", "libxcb-xkb.so.1"), ("sync", "libxcb-sync.so.1")):
    _number = _soname.rsplit(".", 1)[-1]
    PACKAGES[_soname] = (f"libxcb-{_ext}{_number}", "libxcb", "libxcb")

MANAGERS = {  # name: (column of PACKAGES, install command, how to find an unknown soname)
    "apt": (0, "sudo apt-get install", "apt-file search {}"),
    "dnf": (1, "sudo dnf install", "dnf provides '*/{}'"),
    "pacman": (2, "sudo pacman -S --needed", "pacman -F {}"),
}
_FAMILIES = {
    "apt": {"debian", "ubuntu", "linuxmint", "pop", "raspbian", "elementary", "kali", "neon"},
    "dnf": {"fedora", "rhel", "centos", "rocky", "almalinux", "ol", "amzn"},
    "pacman": {"arch", "manjaro", "endeavouros", "garuda"},
}


def package_manager(os_release: Path = OS_RELEASE) -> str | None:
    """"apt", "dnf" or "pacman" for this system (ID first, then ID_LIKE); None if unknown."""
    fields = read_os_release(os_release)
    ids = [fields.get("ID", "")] + fields.get("ID_LIKE", "").split()
    for distro in ids:
        for manager, family in _FAMILIES.items():
            if distro.lower() in family:
                return manager
    return None


def read_os_release(path: Path = OS_RELEASE) -> dict[str, str]:
    """KEY=value lines of an os-release file (quotes removed); empty when unreadable."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            fields[key.strip()] = value.strip().strip("'\"")
    return fields


def install_hint(missing: Sequence[str], os_release: Path = OS_RELEASE) -> str:
    """E.g. "install them with: sudo apt-get install libxcb-icccm4 libxcb-keysyms1"."""
    manager = package_manager(os_release)
    if manager is None:  # say the Debian names: the commonest, and they name the project
        names = [PACKAGES[s][0] for s in missing if s in PACKAGES]
        known = f" (on Debian/Ubuntu: {' '.join(dict.fromkeys(names))})" if names else ""
        return f"install the packages of your system that provide them{known}"
    column, install, search = MANAGERS[manager]
    packages = list(dict.fromkeys(PACKAGES[s][column] for s in missing if s in PACKAGES))
    unknown = [s for s in missing if s not in PACKAGES]
    parts = [f"install them with: {install} {' '.join(packages)}"] if packages else []
    parts += [f"find the package of {s} with: {search.format(s)}" for s in unknown]
    return "; ".join(parts)
