"""The first thing an empty database shows: what the program is for, and the two
ways to start — load the demo data set, or connect to the dealership's database.

Loading runs on the thread pool (:mod:`enroller_desktop.ui.jobs`) with a progress
bar: the demo's data, then its run history executed by the real engine, so the
runs table opens on runs a person can open and read.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QThreadPool, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QCommandLinkButton,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from enroller_desktop.db.engine import Database
from enroller_desktop.ui import theme
from enroller_desktop.ui.jobs import Job, JobState, start


def load_demo(db: Database, state: JobState, *, customers: int | None = None) -> str:
    """The demo data set and its runs; a one-line summary of what was loaded."""
    from enroller_desktop import demo  # read when a demo is asked for: the window starts without it

    options = {} if customers is None else {"customers": customers}
    return demo.load_demo(db, progress=state.progress, **options)


class WelcomeView(QWidget):
    """Shown in the main window's central area while the database is empty."""

    demoLoaded = Signal(str)  # the summary of what was loaded
    connectRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcomeView")
        self.demo_customers: int | None = None  # None: the demo's own size (the tests ask for less)
        self._db: Database | None = None
        self._job: Job | None = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)

        self.logo = QLabel()
        self.logo.setPixmap(theme.app_icon().pixmap(96, 96))
        self.logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Welcome to Enroller Desktop")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        intro = QLabel(
            "Launch the enroller for a campaign, watch its runs, and see why each customer was "
            "or was not enrolled. This database has no organizations or campaigns yet."
        )
        intro.setWordWrap(True)
        intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.database_label = QLabel()
        self.database_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.database_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.database_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # quieter than the text

        self.demo_button = QCommandLinkButton(
            "Load demo data",
            "Five dealerships with campaigns, customers and runs, to try everything safely.",
        )
        self.demo_button.setAccessibleName("Load demo data")
        self.connect_button = QCommandLinkButton(
            "Connect to a database",
            "The dealership's PostgreSQL server by URL, or a SQLite file (File ▸ Open Database, Ctrl+O).",
        )
        self.connect_button.setAccessibleName("Connect to a database")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setAccessibleName("Demo loading progress")
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        column = QWidget()
        column.setMaximumWidth(560)
        inner = QVBoxLayout(column)
        inner.setSpacing(10)
        inner.addWidget(self.logo)
        inner.addWidget(title)
        inner.addWidget(intro)
        inner.addWidget(self.database_label)
        inner.addSpacing(12)
        inner.addWidget(self.demo_button)
        inner.addWidget(self.connect_button)
        inner.addWidget(self.progress)
        inner.addWidget(self.message)
        # Centred between stretches, not by alignment: an aligned widget is asked its
        # height for the whole view's width, so the wrapped descriptions of the
        # buttons got the height of one line fewer than they need and were cut off.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column, 100)
        row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)

        self.demo_button.clicked.connect(self.load_demo)
        self.connect_button.clicked.connect(self.connectRequested)
        self.setTabOrder(self.demo_button, self.connect_button)
        self._show_icons()

    def _show_icons(self) -> None:
        self.demo_button.setIcon(theme.icon("new-run"))
        self.connect_button.setIcon(theme.icon("connect"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._show_icons()  # drawn in the text colour: light on dark, dark on light
        super().changeEvent(event)

    def set_database(self, db: Database) -> None:
        self._db = db
        self.database_label.setText(db.display_url)
        self.message.clear()

    @property
    def loading(self) -> bool:
        return self._job is not None

    def load_demo(self) -> None:
        if self._db is None or self._job is not None:
            return
        db, customers = self._db, self.demo_customers
        job = Job(lambda state: load_demo(db, state, customers=customers), name="demo data")
        job.signals.progress.connect(self._progressed)
        job.signals.succeeded.connect(self.demoLoaded.emit)
        job.signals.failed.connect(self._failed)
        job.signals.finished.connect(self._finished)
        self._job = job
        self.demo_button.setEnabled(False)
        self.connect_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        self.message.setText("Loading the demo data…")
        start(job, self._pool)

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setValue(round(fraction * 1000))
        if message:
            self.message.setText(message)

    def _failed(self, message: str, _details: str) -> None:
        self.message.setText(f"The demo data could not be loaded: {message}")

    def _finished(self) -> None:
        self._job = None
        self.progress.hide()
        self.demo_button.setEnabled(True)
        self.connect_button.setEnabled(True)

    def shutdown(self) -> None:
        """Let a load in flight finish (closing the window): half a demo is never committed anyway."""
        if self._job is not None:
            self._job.cancel()
        self._pool.waitForDone()
