"""What the window remembers between runs, in QSettings: geometry, dock and splitter layout, the
last vector file and the settings JSON.

Where it is stored: the platform's usual place for organisation "Attention Explorer", unless the
environment variable ``ATTENTION_EXPLORER_SETTINGS`` names an INI file (tests point it into a
temporary directory, so they never read or write the person's real settings).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

from core.settings import Settings, SettingsError

ENV_VAR = "ATTENTION_EXPLORER_SETTINGS"
ORGANISATION = "Attention Explorer"
APPLICATION = "Attention Explorer"
MAX_STORED_SETTINGS_CHARS = 1_000_000  # as a session file (core.files.session)


def open_qsettings(path: str | None = None) -> QSettings:
    """QSettings at ``path`` (INI), else at $ATTENTION_EXPLORER_SETTINGS, else the default."""
    path = path or os.environ.get(ENV_VAR)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    scope = QSettings.Scope.UserScope
    return QSettings(QSettings.Format.IniFormat, scope, ORGANISATION, APPLICATION)


class Store:
    """Typed access to the remembered values; a missing or broken value reads as None."""

    def __init__(self, path: str | None = None) -> None:
        self._qs = open_qsettings(path)
        self.settings_problem: str | None = None
        """Why the remembered settings were set aside by :meth:`settings`, for the status bar."""

    @property
    def file_name(self) -> str:
        return self._qs.fileName()

    # ------------------------------------------------------------------ settings
    def settings(self) -> Settings | None:
        """The saved settings, or None if there are none or they cannot be read any more (then
        `settings_problem` says why, naming the file)."""
        self.settings_problem = None
        text = self._qs.value("session/settings_json")
        if not isinstance(text, str) or not text:
            return None
        try:
            if len(text) > MAX_STORED_SETTINGS_CHARS:
                raise SettingsError(f"{len(text):,} characters; settings are a few thousand")
            return Settings.from_json(text)
        except SettingsError as error:
            # Written by another version or edited by hand: start from the defaults, and say so.
            self.settings_problem = (f"The remembered settings in {self.file_name} "
                                     f"(session/settings_json) were not used: {error}.")
            return None

    def save_settings(self, settings: Settings) -> None:
        self._qs.setValue("session/settings_json", settings.to_json())

    # ------------------------------------------------------------------ vectors
    def last_vectors(self) -> tuple[str | None, bool]:
        """The last vector file opened (None = the default set) and whether it was trusted."""
        path = self._qs.value("vectors/last_file")
        trusted = self._qs.value("vectors/trusted", False)
        ok = isinstance(path, str) and bool(path)
        return (path if ok else None), str(trusted).lower() == "true"

    def save_last_vectors(self, path: str | None, trusted: bool = False) -> None:
        self._qs.setValue("vectors/last_file", path or "")
        self._qs.setValue("vectors/trusted", bool(trusted))

    # ------------------------------------------------------------------ window layout
    def layout(self, name: str) -> QByteArray | None:
        """A saved ``saveGeometry``/``saveState`` blob by name, None if there is none."""
        value = self._qs.value(f"window/{name}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def save_layout(self, name: str, blob: QByteArray) -> None:
        self._qs.setValue(f"window/{name}", blob)

    def sync(self) -> None:
        self._qs.sync()

    def restore_window(self, window: QMainWindow, splitters: Mapping[str, QSplitter]) -> bool:
        """Put back ``window``'s geometry, docks and named splitters as last saved.

        Returns True when a splitter was restored (the window then keeps its sizes on show).
        """
        geometry = self.layout("geometry")
        if geometry is not None:
            window.restoreGeometry(geometry)
        dock_state = self.layout("state")
        if dock_state is not None:
            window.restoreState(dock_state)
        restored = False
        for name, splitter in splitters.items():
            blob = self.layout(name)
            if blob is not None:
                splitter.restoreState(blob)
                restored = True
        return restored

    def save_window(self, window: QMainWindow, splitters: Mapping[str, QSplitter],
                    settings: Settings) -> None:
        """Remember ``window``'s layout (see :meth:`restore_window`) and ``settings``."""
        self.save_layout("geometry", window.saveGeometry())
        self.save_layout("state", window.saveState())
        for name, splitter in splitters.items():
            self.save_layout(name, splitter.saveState())
        self.save_settings(settings)
        self.sync()
