"""Starting the application: QApplication, its look and its error dialog, the
database, the main window.

Which database: the one named for this launch (``--db`` or ``ENROLLER_DB_URL``),
else the one the window showed when it last closed, else the default file (RULES
§7). A last database that cannot be opened any more (a file moved away, a server
down, a password the keyring no longer holds) gives way to the default with a
message saying why, never to a crash, and a moved SQLite file is never recreated
empty at its old path.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy.engine import make_url

from enroller_desktop import __version__
from enroller_desktop.config import ENV_DB_URL, default_db_url, mask_url
from enroller_desktop.db.engine import Database, open_database
from enroller_desktop.errors import DatabaseError, one_line
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


def startup_database(given: str | None, settings) -> tuple[Database, str | None]:
    """The database to open (see the module's doc) and, when the last one used
    could not be opened, a message saying so."""
    if given is not None:
        return open_database(given), None
    default = default_db_url()
    last = settings.get("databases/last")
    if not last or last == default:
        return open_database(default), None
    try:
        return open_database(_openable(last)), None
    except Exception as exc:  # noqa: BLE001 - whatever stops it, the default opens instead
        reason = one_line(exc)
        log.warning("last database %s not opened: %s", mask_url(last), reason)
        return open_database(default), f"The last database used could not be opened, so the default one is shown. {reason}"


def _openable(last: str) -> str:
    """The last URL with its password from the keyring (a server that wants one
    and has none in the keyring says so when it refuses); a file that is gone raises."""
    from enroller_desktop.ui import databases

    parsed = make_url(last)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        if not Path(parsed.database).is_file():
            raise DatabaseError(f"The file {parsed.database} no longer exists.")
    if databases.needs_password(last):
        return databases.with_password(last, databases.stored_password(last))
    return last


def run_app(url: str | None, *, smoke: bool = False, palette: str = "system", demo_if_empty: bool = False) -> int:
    """Open the main window on ``url`` (None: the last database used, see the
    module's doc); with ``smoke``, load a small demo into an empty database (the
    default one unless ``url`` names another), open a run's detail window, and
    quit with 0; with ``demo_if_empty``, the window loads the demo into an empty
    database itself, once shown (:mod:`enroller_desktop.ui.first_launch`)."""
    from enroller_desktop.ui.settings import Settings

    app = make_application(palette=palette)
    window = open_main_window(url, Settings(), smoke=smoke)
    log.info("Qt platform: %s", app.platformName())
    if demo_if_empty and not smoke:
        from enroller_desktop.ui.first_launch import load_demo_when_empty

        load_demo_when_empty(window)
    if smoke:
        QTimer.singleShot(0, lambda: _smoke_then_quit(window, app))
    return app.exec()


def open_main_window(url: str | None, settings, *, smoke: bool = False):
    """The main window shown on the database to open (see :func:`run_app`), with
    a message when the last database used could not be opened."""
    from enroller_desktop.ui.main_window import MainWindow

    if smoke:  # never the user's own last database: the smoke test may load a demo into it
        db, problem = open_database(url or default_db_url()), None
    else:
        try:
            db, problem = startup_database(url, settings)
        except Exception as exc:
            cannot_open(url, exc)
            raise  # and the command line prints its one line, for a terminal if there is one
    log.info("window opened on %s", db.display_url)
    if smoke:
        from enroller_desktop import demo

        if demo.is_empty(db):
            demo.load_demo(db, customers=300, seed=1, runs=False)  # _ensure_a_run executes the one it opens
        _ensure_a_run(db)
    window = MainWindow(db, settings=settings)
    window.show()
    if problem:
        window.warn("Last database not opened", problem)
    # Python's full garbage collection walks every object and stops every thread
    # meanwhile: over the hundreds of thousands that Qt, SQLAlchemy and pyqtgraph
    # leave at start-up, one took 380 ms during a 200,000-customer run, and the
    # window froze for as long (bench/ui_stall.py). Those objects live as long as
    # the program: set them aside, so a collection walks only what came after.
    gc.freeze()
    return window


def cannot_open(url: str | None, exc: Exception) -> None:
    """Say in a message box that the database named for this launch cannot be
    opened: started from a desktop launcher, nobody reads the terminal's line.
    Nothing else is opened instead: a window on another database than the one
    asked for could be taken for it."""
    from PySide6.QtWidgets import QMessageBox

    reason = one_line(exc)
    box = QMessageBox(QMessageBox.Icon.Critical, "Cannot open the database", reason)
    box.setObjectName("cannotOpenDatabase")
    box.setInformativeText(f"Check the database named to the launcher (--db or {ENV_DB_URL}), then start again.")
    box.exec()


def _ensure_a_run(db) -> None:
    """The smoke test opens a run's window: execute one if the database has none."""
    from enroller_desktop.db import choice_queries, index_queries
    from enroller_desktop.engine import runs

    with db.read() as conn:
        if index_queries.count_runs(conn, index_queries.RunFilter()):
            return
        campaigns = choice_queries.campaign_choices(conn)
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
    from enroller_desktop.engine.contacts import worker_processes_answer
    from enroller_desktop.ui.run_window import RunWindow

    if not worker_processes_answer():
        log.error("smoke: a worker process judged differently from this one")
        app.exit(1)
        return
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
