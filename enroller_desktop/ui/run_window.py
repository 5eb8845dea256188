"""The run detail window: one per run, opened from the main window."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow, QWidget

from enroller_desktop.db import detail_queries
from enroller_desktop.db.engine import Database

_open_windows: dict[tuple[int, int], RunWindow] = {}


class RunWindow(QMainWindow):
    def __init__(self, db: Database, run_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.run_id = run_id
        with db.read() as conn:
            summary = detail_queries.run_summary(conn, run_id)
        created = summary.created_at.isoformat(sep=" ", timespec="seconds")
        self.setWindowTitle(f"{summary.campaign_name} — run {run_id} of {created}")
        self.setCentralWidget(QLabel(f"Run {run_id}"))
        self.resize(1200, 760)


def show_run_window(db: Database, run_id: int, parent: QWidget | None = None) -> RunWindow:
    """Open the run's window, or raise and activate the one already open."""
    key = (id(db), run_id)
    window = _open_windows.get(key)
    if window is None:
        window = RunWindow(db, run_id, parent)
        _open_windows[key] = window
        window.destroyed.connect(lambda: _open_windows.pop(key, None))
    window.show()
    window.raise_()
    window.activateWindow()
    return window
