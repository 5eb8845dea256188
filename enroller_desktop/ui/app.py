"""Starting the application: QApplication, the database, the main window."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from enroller_desktop import __version__
from enroller_desktop.config import mask_url

log = logging.getLogger(__name__)


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Enroller Desktop")
    app.setOrganizationName("EnrollerDesktop")
    app.setApplicationVersion(__version__)
    return app


def run_app(url: str, *, smoke: bool = False) -> int:
    """Open the main window on ``url``; with ``smoke``, load a small demo into an
    empty database, open a run's detail window, and quit with 0."""
    from enroller_desktop.db.engine import open_database
    from enroller_desktop.ui.main_window import MainWindow

    app = make_application()
    db = open_database(url)
    log.info("window opened on %s", mask_url(url))
    if smoke:
        from enroller_desktop import demo

        if demo.is_empty(db):
            demo.load_demo(db, customers=300, seed=1)
    window = MainWindow(db)
    window.show()
    if smoke:
        QTimer.singleShot(0, lambda: _smoke_then_quit(window, app))
    return app.exec()


def _smoke_then_quit(window, app: QApplication) -> None:
    window.open_first_run()
    QTimer.singleShot(200, app.quit)
