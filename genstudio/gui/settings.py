"""What the app remembers between launches, in one small wrapper around ``QSettings``.

Window geometry and dock layout, the last folders used in file dialogs and the run panel's last
settings. The organisation name comes from the ``GENSTUDIO_SETTINGS_ORG`` environment variable
when it is set (the tests set it, so they never touch a user's settings), else "GenStudio".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["AppSettings", "organisation", "default_runs_folder"]

APP_NAME = "GenStudio"


def organisation() -> str:
    """The QSettings organisation name (``$GENSTUDIO_SETTINGS_ORG`` or "GenStudio")."""
    return os.environ.get("GENSTUDIO_SETTINGS_ORG") or "GenStudio"


def default_runs_folder() -> Path:
    """Where new run folders go unless the user picked another parent: ``~/GenStudio runs``."""
    return Path.home() / "GenStudio runs"


class AppSettings:
    """Typed getters and setters over one ``QSettings`` store.

    Parameters
    ----------
    settings : QSettings, optional
        The store to use; by default an INI-format user store named after :func:`organisation`.
    """

    def __init__(self, settings: QSettings | None = None) -> None:
        self._s = settings or QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                        organisation(), APP_NAME)

    # ------------------------------------------------------------------ window
    def window_geometry(self) -> QByteArray | None:
        """The main window's saved geometry, or None on a first launch."""
        return self._bytes("window/geometry")

    def window_state(self) -> QByteArray | None:
        """The main window's saved dock / toolbar state, or None."""
        return self._bytes("window/state")

    def set_window(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember ``saveGeometry()`` and ``saveState()`` of the main window."""
        self._s.setValue("window/geometry", geometry)
        self._s.setValue("window/state", state)

    # ------------------------------------------------------------------ folders
    def last_folder(self, purpose: str) -> str:
        """The last folder used for ``purpose`` ("runs", "open", "data"), or the home folder."""
        value = self._s.value(f"folders/{purpose}", "")
        if isinstance(value, str) and value and Path(value).is_dir():
            return value
        return str(Path.home())

    def set_last_folder(self, purpose: str, folder: str | os.PathLike) -> None:
        """Remember ``folder`` for ``purpose``."""
        self._s.setValue(f"folders/{purpose}", str(folder))

    def runs_parent(self) -> Path:
        """The parent folder for new run folders: the last one used, else ``~/GenStudio runs``."""
        value = self._s.value("folders/runs_parent", "")
        if isinstance(value, str) and value and Path(value).is_dir():
            return Path(value)
        return default_runs_folder()

    def set_runs_parent(self, folder: str | os.PathLike) -> None:
        self._s.setValue("folders/runs_parent", str(folder))

    # ------------------------------------------------------------------ run panel
    def run_panel(self) -> dict[str, Any]:
        """The run panel's last settings (a plain dict; empty on a first launch or if unreadable)."""
        text = self._s.value("run_panel/fields", "")
        try:
            data = json.loads(text) if isinstance(text, str) and text else {}
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def set_run_panel(self, fields: dict[str, Any]) -> None:
        """Remember the run panel's fields (stored as JSON so types survive every backend)."""
        self._s.setValue("run_panel/fields", json.dumps(fields))

    # ------------------------------------------------------------------ hints
    def hint_dismissed(self, key: str) -> bool:
        """Whether the person closed the "try this" hint called ``key``."""
        return str(self._s.value(f"hints/{key}", "")).lower() in ("1", "true")

    def set_hint_dismissed(self, key: str, dismissed: bool = True) -> None:
        self._s.setValue(f"hints/{key}", "1" if dismissed else "0")

    # ------------------------------------------------------------------ misc
    def sync(self) -> None:
        """Write pending changes to disk now."""
        self._s.sync()

    def clear(self) -> None:
        """Forget everything (tests use this)."""
        self._s.clear()
        self._s.sync()

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._s.value(key)
        if isinstance(value, QByteArray) and not value.isEmpty():
            return value
        if isinstance(value, (bytes, bytearray)) and value:
            return QByteArray(bytes(value))
        return None
