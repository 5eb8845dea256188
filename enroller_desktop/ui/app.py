"""Starting the application: QApplication, its look and its error dialog, the
database, the main window."""

from __future__ import annotations

import logging
import sys
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from enroller_desktop import __version__
from enroller_desktop.config import mask_url
from enroller_desktop.logs import setup_logging

log = logging.getLogger(__name__)

SMOKE_TIMEOUT_S = 30


def make_application(argv: list[str] | None = None, *, palette: str = "system") -> QApplication:
    """The QApplication: named (which places QSettings), with its icon, a palette that
    follows the system (or ``palette``), and every unexpected exception shown and logged."""
    from enroller_desktop.ui import theme
    from enroller_desktop.ui.error_dialog import ErrorReporter

    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Enroller Desktop")
    app.setOrganizationName("EnrollerDesktop")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("enroller-desktop")  # Wayland finds the icon through the .desktop file
    app.setWindowIcon(theme.app_icon())
    theme.Appearance(app, palette)
    log_file = setup_logging()  # already set up by the command line: this finds its file
    ErrorReporter(app, log_file=str(log_file) if log_file else None).install()
    return app


def run_app(url: str, *, smoke: bool = False, palette: str = "system") -> int:
    """Open the main window on ``url``; with ``smoke``, load a small demo into an
    empty database, open a run's detail window, and quit with 0."""
    from enroller_desktop.db.engine import open_database
    from enroller_desktop.ui.main_window import MainWindow

    app = make_application(palette=palette)
    db = open_database(url)
    log.info("window opened on %s", mask_url(url))
    if smoke:
        from enroller_desktop import demo

        if demo.is_empty(db):
            demo.load_demo(db, customers=300, seed=1, runs=False)  # _ensure_a_run executes the one it opens
        _ensure_a_run(db)
    window = MainWindow(db)
    window.show()
    if smoke:
        QTimer.singleShot(0, lambda: _smoke_then_quit(window, app))
    return app.exec()


def _ensure_a_run(db) -> None:
    """The smoke test opens a run's window: execute one if the database has none."""
    from enroller_desktop.db import run_queries
    from enroller_desktop.engine import runs

    with db.read() as conn:
        if run_queries.count_runs(conn, run_queries.RunFilter()):
            return
        campaigns = run_queries.campaign_choices(conn)
    if campaigns:
        runs.execute_run(db, runs.create_run(db, campaign_id=campaigns[0].id))


def _smoke_then_quit(window, app: QApplication) -> None:
    """Quit with 0 once a run window shows; with 1 at the first unexpected exception
    (headless, nobody would close its dialog) or when no run window shows in time."""
    from enroller_desktop.ui.error_dialog import ErrorReporter

    reporter = app.findChild(ErrorReporter)
    reporter.caught.connect(lambda *_: app.exit(1))
    if reporter.caught_count:
        app.exit(1)
        return
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
