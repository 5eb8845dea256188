"""Find a customer (Ctrl+F in the main window) and read their story.

The search dialog asks as you type, in SQL, within the organization chosen
above it (a search never crosses organizations the user did not choose; an
exact customer id is the one exception, since it names one customer). The
customer window shows who they are with the engine's contact verdicts, flags,
tags, vehicles and CASL standing today; every campaign of their organization
with whether they are enrolled now, the last run that considered them and in
words why they were not enrolled there (double-click: that run's window with its
Potentials filtered to this customer); and their whole history, lazily, with
Export (Ctrl+E) on each table.

A customer belongs to one organization, so every time of the window is read on
one clock: the organization's zone, this computer's or UTC, as View ▸ Time Zone
chooses (as the run window does), with the exact UTC time in each tooltip. The
history tables are made once the organization's zone is read with the story.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from enroller_desktop import explain, export, run_detail, tables
from enroller_desktop.db import customer_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.times import ShownTimes
from enroller_desktop.ui import time_format
from enroller_desktop.ui.background import Tasks
from enroller_desktop.ui.exporting import ExportProgress, add_export_and_close_shortcuts, choose_export_path
from enroller_desktop.ui.settings import Settings
from enroller_desktop.ui.table_models import PagedTableModel

SEARCH_DELAY_MS = 120


def _table(columns: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class CustomerSearch(QDialog):
    """Search as you type; Enter or a double-click opens the customer."""

    results_shown = Signal()

    def __init__(self, db: Database, parent: QWidget | None = None, *, settings: Settings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find a Customer")
        self.db = db
        self.settings = settings
        self._tasks = Tasks(self, threads=1)
        self._asked = 0
        self.found: list[customer_queries.Found] = []
        self.organization = QComboBox()
        self.text = QLineEdit()
        self.text.setPlaceholderText("Name, email, phone or mobile (any formatting), or customer id")
        self.text.setClearButtonEnabled(True)
        self.results = _table(["Id", "First Name", "Last Name", "Email", "Phone", "Mobile"])
        self.results.doubleClicked.connect(lambda index: self.open_customer(index.row()))
        self.status = QLabel("")
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Organization"))
        row.addWidget(self.organization, 1)
        layout.addLayout(row)
        layout.addWidget(self.text)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(SEARCH_DELAY_MS)
        self._delay.timeout.connect(self.search)
        self.text.textChanged.connect(self._delay.start)
        self.text.returnPressed.connect(lambda: self.open_customer(max(self.results.currentRow(), 0)))
        self.organization.currentIndexChanged.connect(self._delay.start)
        self.resize(820, 480)
        self._tasks.run(lambda state: self._organizations(), self._show_organizations, name="organizations")

    def _organizations(self):
        with self.db.read() as conn:
            return customer_queries.organization_choices(conn)

    def _show_organizations(self, rows) -> None:
        for row in rows:
            self.organization.addItem(f"{row.name} ({row.country})", row.id)
        self.search()

    def search(self) -> None:
        self._delay.stop()
        self._asked += 1
        asked, text, organization_id, db = self._asked, self.text.text(), self.organization.currentData(), self.db

        def find(state):
            with db.read() as conn:
                return asked, customer_queries.search_customers(conn, text, organization_id)

        self._tasks.run(find, self._show)

    def _show(self, result) -> None:
        asked, found = result
        if asked != self._asked:
            return  # an answer to text typed over since
        self.found = found
        self.results.setRowCount(len(found))
        for row, f in enumerate(found):
            for column, value in enumerate((f.id, f.first_name, f.last_name, f.email, f.phone, f.mobile)):
                self.results.setItem(row, column, QTableWidgetItem("" if value is None else str(value)))
        if found:
            self.results.selectRow(0)
        self.status.setText(f"{len(found)} match{'es' if len(found) != 1 else ''}" if self.text.text().strip() else "")
        self.results_shown.emit()

    def open_customer(self, row: int):
        if not 0 <= row < len(self.found):
            return None
        window = show_customer_window(self.db, self.found[row].id, self.parent(), settings=self.settings)
        self.accept()
        return window


def _history_tables():
    def column(key, title, fields=None, show=tables.format_text, **kw):
        return tables.Column(key, title, (key,) if fields is None else fields, show, **kw)

    vehicle = column("vehicle", "Vehicle", ("year", "make", "model"), tables.format_vehicle, free_text=True)
    checks = [column(c.value, title, show=tables.CHECK_TEXT.__getitem__, kind="check", categorical=True)
              for c, title in zip(run_detail.Check, ("Valid Email", "Valid Phone", "Valid Message", "Deleted", "Unique Event",
                                                     "Already in Queue", "CASL", "Opt Out All", "Marketing Exclusion"))]
    potentials = tables.Table("customer-potentials", "Potentials", (
        column("run_id", "Run", show=tables.plain_count, kind="number"),
        column("run_created_at", "Run Created At", show=tables.csv_time, kind="time"),
        column("campaign_name", "Campaign", free_text=True),
        column("run_purpose", "Purpose", show=tables.format_label, categorical=True),
        vehicle,
        column("event_key", "Event Key", free_text=True),
        column("status", "Status", show=tables.format_label, kind="status", categorical=True),
        column("is_valid", "Is Valid", show=tables.VALID_TEXT.__getitem__, kind="status", categorical=True),
        *checks,
    ))
    enrollments = tables.Table("customer-campaign-customers", "Campaign Customers", (
        column("campaign_name", "Campaign", free_text=True),
        vehicle,
        column("event_key", "Event Key", free_text=True),
        column("run_id", "Run", show=tables.plain_count, kind="number"),
        column("purpose", "Purpose", show=tables.format_label, kind="status", categorical=True),
        column("status", "Status", show=tables.format_label, kind="status", categorical=True),
        column("enrolled_at", "Enrolled At", show=tables.csv_time, kind="time"),
        column("expiration", "Expiration", show=tables.format_label, kind="status", categorical=True),
        column("expired_at", "Expired At", show=tables.csv_time, kind="time"),
        column("last_attempt_at", "Last Attempt Time", show=tables.csv_time, kind="time"),
        column("last_attempt_disposition", "Last Attempt Disposition", free_text=True),
        column("appointment_at", "Appointment", show=tables.csv_time, kind="time"),
    ))
    return potentials, enrollments


POTENTIAL_HISTORY, ENROLLMENT_HISTORY = _history_tables()


class CustomerWindow(QMainWindow):
    loaded = Signal()

    def __init__(self, db: Database, customer_id: int, parent: QWidget | None = None, *,
                 settings: Settings | None = None) -> None:
        """``settings`` (the main window's) say whose clock times are read on and
        how a CSV holds them."""
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.db, self.customer_id, self.settings = db, customer_id, settings
        self.story: dict | None = None
        self.times: ShownTimes = time_format.current(settings).for_zone(None)
        self.potentials_model: PagedTableModel | None = None
        self.enrollments_model: PagedTableModel | None = None
        self._tasks = Tasks(self, threads=1)
        self._export_folder = Path.home()
        self.setWindowTitle(f"Customer {customer_id}")
        self.who = QLabel("Reading…")
        self.who.setTextFormat(Qt.TextFormat.PlainText)
        self.who.setWordWrap(True)
        self.who.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.campaigns = _table(["Campaign", "Enrolled Now", "Last Run", "Outcome", "Why Not Enrolled (per vehicle)"])
        self.campaigns.setWordWrap(True)
        self.campaigns.setToolTip("Double-click: the last run's window, its Potentials filtered to this customer")
        self.campaigns.cellDoubleClicked.connect(lambda row, _c: self.open_last_run(row))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.campaigns, "Campaigns")
        self.potentials_view, self.enrollments_view = QTableView(), QTableView()
        for view, title in ((self.potentials_view, "Potentials (every run)"), (self.enrollments_view, "Campaign Customers")):
            view.verticalHeader().hide()
            view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
            view.setAlternatingRowColors(True)
            view.setWordWrap(False)
            self.tabs.addTab(view, title)
        export_button = QPushButton("Export…")
        export_button.setToolTip("Export the table shown to CSV (Ctrl+E)")
        export_button.clicked.connect(self.export_current)
        central = QWidget()
        layout = QVBoxLayout(central)
        top = QHBoxLayout()
        top.addWidget(self.who, 1)
        top.addWidget(export_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.zone_label = QLabel()
        self.statusBar().addWidget(self.zone_label)
        self.export_status = ExportProgress(self)
        add_export_and_close_shortcuts(self, self.export_current)
        time_format.changes.changed.connect(self._zone_chosen)
        self.resize(1200, 720)
        self._tasks.run(lambda state: explain.customer_story(db, customer_id), self._show,
                        lambda message: self.who.setText(f"Cannot read customer {customer_id}: {message}"))

    def _show(self, story: dict) -> None:
        self.story = story
        self.times = time_format.current(self.settings).for_zone(story["organization_timezone"])
        self._show_history()
        name = " ".join(p for p in (story["first_name"], story["last_name"]) if p) or f"Customer {story['id']}"
        self.setWindowTitle(f"{name} — customer {story['id']} of {story['organization']}")
        v = story["verdicts"]
        lines = [
            f"{name} · customer {story['id']} · {story['organization']} ({story['country']})",
            f"Email: {story['email'] or '—'} ({v['email']})    Phone: {story['phone'] or '—'} ({v['phone']})    "
            f"Mobile: {story['mobile'] or '—'} (SMS {v['sms']})",
            f"Flags: {', '.join(story['flags']) or 'none'}    Tags: {', '.join(story['tags']) or 'none'}",
            f"Vehicles: {', '.join(x['vehicle'] for x in story['vehicles']) or 'none'}",
        ]
        if story["casl"] is not None:
            lines.append(f"CASL today: {'; '.join(story['casl'])}")
        self.who.setText("\n".join(lines))
        self._show_campaigns()
        self.loaded.emit()

    def _show_campaigns(self) -> None:
        rows = self.story["campaigns"]
        times = self.times
        self.campaigns.setRowCount(len(rows))
        for row, c in enumerate(rows):
            since = [_stored_time(e["since"]) for e in c["enrolled"]]
            enrolled = "; ".join(f"{e['status'].replace('_', ' ')} · {e['vehicle']} · {e['event_key'] or 'no event key'} · since {times(at)}"
                                 for e, at in zip(c["enrolled"], since)) or "no"
            last_at = _stored_time(c["last_run_at"])
            last = f"run {c['last_run_id']} · {times(last_at)}" if c["last_run_id"] else "none considered them"
            reasons = "\n".join(f"{r['vehicle']}: {r['reason'] or 'enrolled'}" for r in c["reasons"])
            tips = ("", "\n".join(f"since {times.tooltip(at)}" for at in since if at), times.tooltip(last_at), "", "")
            for column, (text, tip) in enumerate(zip((c["campaign"], enrolled, last, c["last_outcome"] or "", reasons), tips)):
                item = QTableWidgetItem(text)
                if tip:
                    item.setToolTip(tip)
                self.campaigns.setItem(row, column, item)
        self.campaigns.resizeColumnsToContents()
        self.campaigns.resizeRowsToContents()
        zone = self.times.zone
        self.zone_label.setText(f"Times in {zone.key}" + (" (fallback)" if zone.problem else ""))
        problem = f"; the organization {zone.problem}, so they are shown in UTC" if zone.problem else ""
        self.zone_label.setToolTip(f"Every time of this customer is shown in {zone.key}{problem}.\n"
                                   "View ▸ Time Zone in the main window chooses whose clock")

    def _show_history(self) -> None:
        """The history tables, on the window's clock (made at the first story, formatted anew after)."""
        times = self.times
        if self.potentials_model is None:
            listing = dict(run_id=0, customer_id=self.customer_id)
            self.potentials_model = PagedTableModel(self.db, POTENTIAL_HISTORY.for_screen(times),
                                                    customer_queries.CustomerPotentialListing(**listing), self, times=times)
            self.enrollments_model = PagedTableModel(self.db, ENROLLMENT_HISTORY.for_screen(times),
                                                     customer_queries.CustomerEnrollmentListing(**listing), self, times=times)
            for view, model in ((self.potentials_view, self.potentials_model), (self.enrollments_view, self.enrollments_model)):
                view.setModel(model)
                model.page_loaded.connect(lambda page, view=view: page == 0 and view.resizeColumnsToContents(),
                                          Qt.ConnectionType.SingleShotConnection)
        else:
            self.potentials_model.set_table(POTENTIAL_HISTORY.for_screen(times), times)
            self.enrollments_model.set_table(ENROLLMENT_HISTORY.for_screen(times), times)

    def _zone_chosen(self, _choice) -> None:
        """View ▸ Time Zone changed: every time of the window on the new clock."""
        if self.story is None:
            return
        self.times = time_format.current(self.settings).for_zone(self.story["organization_timezone"])
        self._show_history()
        self._show_campaigns()

    def open_last_run(self, row: int):
        from enroller_desktop.ui.run_window import show_run_window

        if self.story is None or not 0 <= row < len(self.story["campaigns"]):
            return None
        run_id = self.story["campaigns"][row]["last_run_id"]
        if run_id is None:
            self.statusBar().showMessage("No run has considered this customer for that campaign", 5000)
            return None
        window = show_run_window(self.db, run_id, self.parent(), settings=self.settings)
        story = self.story
        show_customer_in_run(window, self.customer_id, " ".join(p for p in (story["first_name"], story["last_name"]) if p))
        return window

    def current_model(self) -> PagedTableModel | None:
        return {1: self.potentials_model, 2: self.enrollments_model}.get(self.tabs.currentIndex())

    def export_current(self) -> None:
        model = self.current_model()
        if model is None:
            self.statusBar().showMessage("Choose the Potentials or Campaign Customers tab to export it", 5000)
            return
        if self.export_status.refused():
            return
        target = choose_export_path(self, self._export_folder / f"customer-{self.customer_id}-{model.table.name}.csv", self.settings)
        if target:
            self.start_export(model, target.path, times_as_shown=target.times_as_shown)

    def start_export(self, model: PagedTableModel, path: str, *, times_as_shown: bool = False) -> None:
        self._export_folder = Path(path).expanduser().parent
        # The CSV's table, not the screen's: plain digits, and ISO UTC times unless asked (RULES §8).
        table = POTENTIAL_HISTORY if model is self.potentials_model else ENROLLMENT_HISTORY
        table = table.for_csv(self.times if times_as_shown else None)
        db, source = self.db, tables.TableSource(table, listing=model.listing)
        self.export_status.start(lambda state: export.export_source(db, source, path, progress=state.progress, cancel=state),
                                 model.table.title, path)


def _stored_time(iso: str | None) -> dt.datetime | None:
    """A time of the story (ISO 8601, as its JSON holds it) back as a datetime."""
    return dt.datetime.fromisoformat(iso) if iso else None


def show_customer_in_run(window, customer_id: int, name: str = "") -> None:
    """The run window's Potentials tab, filtered to one customer (a filter the
    window keeps while its other filters change)."""
    window.show_customer(customer_id, name)
    window.statusBar().showMessage(f"Potentials of {name or f'customer {customer_id}'}; the Customer button or Clear filters "
                                   "shows every customer's", 10_000)


def show_customer_window(db: Database, customer_id: int, parent: QWidget | None = None, *,
                         settings: Settings | None = None) -> CustomerWindow:
    window = CustomerWindow(db, customer_id, parent, settings=settings)
    window.show()
    window.raise_()
    window.activateWindow()
    return window
