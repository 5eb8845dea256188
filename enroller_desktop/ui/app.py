"""Starting the application: QApplication, the database, the main window."""

from __future__ import annotations

import logging
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from enroller_desktop import __version__
from enroller_desktop.config import mask_url

log = logging.getLogger(__name__)

SMOKE_TIMEOUT_S = 30


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
        _ensure_a_run(db)
    window = MainWindow(db)
    window.show()
    if smoke:
        QTimer.singleShot(0, lambda: _smoke_then_quit(window, app))
    return app.exec()


def _ensure_a_run(db) -> None:
    """The smoke test opens a run's window: execute one if the database has none."""
    import sqlalchemy as sa

    from enroller_desktop.db.models import Campaign, EnrollerRun
    from enroller_desktop.engine import runs

    with db.read() as conn:
        if conn.execute(sa.select(EnrollerRun.id).limit(1)).first() is not None:
            return
        campaign_id = conn.execute(sa.select(Campaign.id).order_by(Campaign.id).limit(1)).scalar()
    if campaign_id is not None:
        runs.execute_run(db, runs.create_run(db, campaign_id=campaign_id))


def _smoke_then_quit(window, app: QApplication) -> None:
    from enroller_desktop.ui.run_window import RunWindow

    window.open_first_run()
    deadline = time.monotonic() + SMOKE_TIMEOUT_S

    def quit_when_open() -> None:
        if any(isinstance(w, RunWindow) and w.isVisible() for w in app.topLevelWidgets()):
            QTimer.singleShot(200, app.quit)
        elif time.monotonic() > deadline:
            log.error("smoke: no run window opened within %s s", SMOKE_TIMEOUT_S)
            app.exit(1)
        else:
            QTimer.singleShot(50, quit_when_open)

    quit_when_open()
