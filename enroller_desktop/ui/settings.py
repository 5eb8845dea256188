"""The window's remembered settings: typed, with every default in one dict.

Values live in a QSettings store (the platform's usual place; tests pass one on
a file of their own). A key that is not in :data:`DEFAULTS` is refused, so a
typo fails at once instead of silently reading a default forever. Lists and
dicts are kept as JSON text, which every QSettings backend round-trips exactly.

A database password is never a setting: it goes to the system keyring
(:mod:`enroller_desktop.ui.databases`) or nowhere.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

DEFAULTS: dict[str, Any] = {
    # How many runs this window executes at once on its thread pool.
    "runs/max_concurrent": 2,
    # Whether this window executes the database's due scheduled runs, as a worker
    # does (off for a machine that leaves them to a server's worker).
    "runs/execute_due": True,
    # How often visible unfinished runs and new runs are looked up.
    "runs/poll_interval_ms": 2000,
    # The filter dock, as the user left it.
    "filters/date_preset": "all",  # today, last_7_days, last_30_days, all, custom
    "filters/created_from": "",  # ISO dates, for the custom range
    "filters/created_to": "",
    "filters/organization_id": 0,  # 0: all
    "filters/campaign_id": 0,
    "filters/purposes": [],  # stored words left unticked (new values appear ticked)
    "filters/statuses": [],
    # The runs table: sort, and the header's order, widths and hidden columns.
    "table/sort_key": "created_at",
    "table/sort_descending": True,
    "table/header_state": QByteArray(),
    "window/geometry": QByteArray(),
    "window/state": QByteArray(),
    # Whose clock times are read on: organization, computer or utc (enroller_desktop.times.ZoneChoice).
    "view/time_zone": "organization",
    # A CSV holds times as shown instead of ISO 8601 UTC (RULES §8's default).
    "export/times_as_shown": False,
    # A run's detail window: the size and place of the last one closed.
    "run_window/geometry": QByteArray(),
    # Databases opened before, newest first, without passwords.
    "databases/recent": [],
    # The database the main window showed when it closed, without its password:
    # opened again at the next launch that names none.
    "databases/last": "",
}


class Settings:
    """Typed access to :data:`DEFAULTS`' keys over a QSettings store."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else QSettings()

    def get(self, key: str) -> Any:
        default = _default(key)
        raw = self._store.value(key)
        if raw is None:
            return _copy(default)
        try:
            return _decode(raw, default)
        except (TypeError, ValueError):
            return _copy(default)  # a damaged value must not stop the window opening

    def set(self, key: str, value: Any) -> None:
        default = _default(key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise TypeError(f"setting {key} takes a bool")
        elif not isinstance(value, type(default)):
            raise TypeError(f"setting {key} takes {type(default).__name__}, not {type(value).__name__}")
        self._store.setValue(key, json.dumps(value) if isinstance(default, (list, dict)) else value)

    def sync(self) -> None:
        self._store.sync()


def _default(key: str) -> Any:
    try:
        return DEFAULTS[key]
    except KeyError:
        raise KeyError(f"unknown setting {key!r}") from None


def _copy(default: Any) -> Any:
    if isinstance(default, (list, dict)):
        return json.loads(json.dumps(default))
    if isinstance(default, QByteArray):
        return QByteArray(default)
    return default


def _decode(raw: Any, default: Any) -> Any:
    # INI files give text back for everything: convert by the default's type.
    if isinstance(default, bool):
        return raw if isinstance(raw, bool) else str(raw).lower() in ("true", "1")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, str):
        return str(raw)
    if isinstance(default, QByteArray):
        return raw if isinstance(raw, QByteArray) else QByteArray(raw)
    if isinstance(default, (list, dict)):
        value = json.loads(raw)
        if not isinstance(value, type(default)):
            raise ValueError("wrong type")
        return value
    raise TypeError(type(default))
