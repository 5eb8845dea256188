"""The main window: the Enroller Runs index (filled in by its own issue)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow

from enroller_desktop.db.engine import Database


class MainWindow(QMainWindow):
    def __init__(self, db: Database, parent=None):
        super().__init__(parent)
        self.db = db
        self.setWindowTitle(f"Enroller Runs — {db.display_url}")
        self.setCentralWidget(QLabel(""))
        self.statusBar().showMessage(f"Connected to {db.display_url}")
        self.resize(1280, 800)

    def open_first_run(self) -> None:
        """Open the newest run's detail window (for --smoke)."""
