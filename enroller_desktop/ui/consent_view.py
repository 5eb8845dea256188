"""Trends ▸ Consent: the forecast of implied CASL consent about to lapse (issue 13),
and the Export Consent Audit action of the runs table.

A window of its own: an organization in CA (and optionally one of its campaigns),
how many days ahead, per day or per week; a stacked bar chart of the customers
whose implied consent ends on each date, those with an active enrollment (at
risk: still to be contacted) at the bottom; the first customers of the list, and
Export for all of them. Every read runs off the interface thread; pyqtgraph is
imported when the window first opens, as the Trends dock does.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from PySide6.QtCore import Qt

from enroller_desktop import consent_exports
from enroller_desktop.db import choice_queries, consent_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.engine import consent_outlook
from enroller_desktop.ui import theme
from enroller_desktop.times import ShownTimes
from enroller_desktop.ui import time_format
from enroller_desktop.ui.background import Tasks
from enroller_desktop.ui.table_models import RowsTableModel
from enroller_desktop.ui.exporting import ExportProgress, choose_export_path
from enroller_desktop.ui.settings import Settings

#: Customers of the list shown in the window; Export writes them all.
LIST_ROWS = 500
DAY_SECONDS = 86400


def _epoch(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()


class AuditRangeDialog(QDialog):
    """Which enrollments the consent audit holds: those enrolled From / To two UTC
    dates, both included, each bound optional (the command line's ``--from`` and
    ``--to``). UTC, said on the dialog: the enrollments' dates are stored in UTC and
    the audit is the same file whoever exports it, whatever zone their window shows."""

    def __init__(self, run_id: int, parent: QWidget | None = None, *, today: dt.date | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Consent Audit")
        self.setMinimumWidth(460)
        today = today or dt.datetime.now(dt.timezone.utc).date()
        self.from_check, self.from_date = QCheckBox("From (UTC date)"), self._date_edit(today.replace(day=1))
        self.to_check, self.to_date = QCheckBox("To (UTC date)"), self._date_edit(today)
        form = QFormLayout()
        form.addRow(self.from_check, self.from_date)
        form.addRow(self.to_check, self.to_date)
        intro = QLabel(f"The enrollments of the campaign of run {run_id}, with the consent each run relied on. "
                       "Dates are UTC, both included; leave a bound unticked for no bound.")
        intro.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b42318")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export…")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        for check, edit in ((self.from_check, self.from_date), (self.to_check, self.to_date)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self._check_range)
            edit.dateChanged.connect(self._check_range)
            edit.setEnabled(False)
        self._check_range()

    @staticmethod
    def _date_edit(day: dt.date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        return edit

    @staticmethod
    def _day(check: QCheckBox, edit: QDateEdit) -> dt.date | None:
        if not check.isChecked():
            return None
        day = edit.date()
        return dt.date(day.year(), day.month(), day.day())

    @property
    def first_day(self) -> dt.date | None:
        return self._day(self.from_check, self.from_date)

    @property
    def last_day(self) -> dt.date | None:
        return self._day(self.to_check, self.to_date)

    def _check_range(self, *_args) -> None:
        first, last = self.first_day, self.last_day
        wrong = first is not None and last is not None and last < first
        self.problem.setText(f"The range ends ({last}) before it starts ({first})." if wrong else "")
        self.problem.setVisible(wrong)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not wrong)


def export_consent_audit(window, run_id: int) -> None:
    """The runs table's Export Consent Audit: the audit of the run's campaign, for
    the enrollments between the UTC dates the dialog asks (each optional), written
    on the window's export status bar (RULES §8)."""
    if window.export_status.refused():
        return
    dialog = AuditRangeDialog(run_id, window)
    window.consent_audit_dialog = dialog  # for the tests: the dialog a person answers
    dialog.accepted.connect(lambda: _export_audit_in(window, run_id, dialog.first_day, dialog.last_day))
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()


def _export_audit_in(window, run_id: int, first_day: dt.date | None, last_day: dt.date | None) -> None:
    if window.export_status.refused():
        return
    span = "".join(f"-{label}-{day}" for label, day in (("from", first_day), ("to", last_day)) if day is not None)
    target = choose_export_path(window, Path.home() / f"consent-audit-campaign-of-run-{run_id}{span}.csv", window.settings)
    if not target:
        return
    db, path = window.db, target.path
    times = time_format.current(window.settings) if target.times_as_shown else None
    window.export_status.start(
        lambda state: consent_exports.export_audit_of_run(db, run_id, path, first_day=first_day, last_day=last_day,
                                                          progress=state.progress, cancel=state, times=times),
        "the consent audit",
        path,
    )


class ConsentForecastWindow(QMainWindow):
    updated = Signal()  # the chart and the list show a new forecast
    failed = Signal(str)

    def __init__(self, db: Database, parent: QWidget | None = None, *, now: dt.datetime | None = None,
                 settings: Settings | None = None) -> None:
        """``settings`` (the main window's) say whose clock the list's times are
        read on (View ▸ Time Zone) and how a CSV holds them."""
        super().__init__(parent)
        self.setWindowTitle("Consent Forecast — implied CASL consent about to lapse")
        self.db = db
        self.settings = settings
        self._now = now
        self._zones: dict[int, str | None] = {}
        self._tasks = Tasks(self, threads=1)
        self._serial = 0
        self.forecast: consent_outlook.Forecast | None = None
        self._campaigns: list[choice_queries.CampaignChoice] = []

        self.organization = QComboBox()
        self.campaign = QComboBox()
        for combo in (self.organization, self.campaign):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMinimumContentsLength(18)
        self.days = QSpinBox()
        self.days.setRange(1, 3650)
        self.days.setValue(consent_outlook.DEFAULT_DAYS)
        self.days.setSuffix(" days")
        self.period = QComboBox()
        self.period.addItems(["Per week", "Per day"])
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write every customer of the forecast to CSV")
        self.summary = QLabel("Reading…")
        self.summary.setWordWrap(True)
        bar = QHBoxLayout()
        for label, widget in (("Organization", self.organization), ("Campaign", self.campaign), ("Next", self.days)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addWidget(self.period)
        bar.addStretch(1)
        bar.addWidget(self.export_button)

        import pyqtgraph as pg

        self._pg = pg
        palette = self.palette()
        pg.setConfigOptions(antialias=True, background=palette.color(palette.ColorRole.Base),
                            foreground=palette.color(palette.ColorRole.Text))
        from enroller_desktop.ui.count_axis import CountAxis  # pyqtgraph under them
        from enroller_desktop.ui.day_axis import DayAxis

        self.date_axis = DayAxis(period_days=7)
        # Whole customers, written as every count of the product (tables.format_count).
        self.chart = pg.PlotWidget(axisItems={"bottom": self.date_axis, "left": CountAxis()})
        self.plot = self.chart.getPlotItem()
        self.plot.setLabel("left", "customers")
        self.plot.showGrid(y=True, alpha=0.2)
        self.legend = self.plot.addLegend(offset=(10, 1), colCount=2)
        self.chart.setMinimumHeight(220)

        self.list_model = RowsTableModel(consent_exports.LAPSING, self)
        self.list_view = QTableView()
        self.list_view.setModel(self.list_model)
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.list_view.verticalHeader().hide()
        self.list_view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.chart)
        splitter.addWidget(self.list_view)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(page)
        self.export_status = ExportProgress(self)
        self.export_status.runningChanged.connect(lambda running: self.export_button.setEnabled(not running))
        self._export_folder = Path.home()
        self.resize(1100, 680)

        self.organization.currentIndexChanged.connect(self._fill_campaigns)
        self.campaign.currentIndexChanged.connect(self.refresh)
        self.days.valueChanged.connect(self.refresh)
        self.period.currentIndexChanged.connect(self._draw)
        self.export_button.clicked.connect(self.export_list)
        time_format.changes.changed.connect(self._zone_chosen)
        self._load_choices()

    # -- choices ------------------------------------------------------------------------

    def _load_choices(self) -> None:
        db = self.db

        def read(_state):
            with db.read() as conn:
                return (consent_queries.canadian_organizations(conn), choice_queries.campaign_choices(conn),
                        choice_queries.organization_timezones(conn))

        self._tasks.run(read, self._choices_read, self._failed, name="consent choices")

    def _choices_read(self, result) -> None:
        organizations, self._campaigns, self._zones = result
        self.organization.blockSignals(True)
        for org_id, name in organizations:
            self.organization.addItem(name, org_id)
        self.organization.blockSignals(False)
        if not organizations:
            self.summary.setText("No organization in CA: CASL applies to none of them.")
            return
        self._fill_campaigns()

    def _fill_campaigns(self) -> None:
        org_id = self.organization.currentData()
        self.campaign.blockSignals(True)
        self.campaign.clear()
        self.campaign.addItem("All campaigns", None)
        for c in self._campaigns:
            if c.organization_id == org_id:
                self.campaign.addItem(c.name, c.id)
        self.campaign.blockSignals(False)
        self.refresh()

    # -- the forecast -------------------------------------------------------------------

    def _choice(self) -> tuple[int, int | None, int, dt.datetime]:
        now = self._now or dt.datetime.now(dt.timezone.utc)
        return self.organization.currentData(), self.campaign.currentData(), self.days.value(), now

    def times(self) -> ShownTimes:
        """The list's times: the organization's, on the clock View ▸ Time Zone chooses."""
        return time_format.current(self.settings).for_zone(self._zones.get(self.organization.currentData()))

    def _zone_chosen(self, _choice) -> None:
        self.refresh()

    def refresh(self) -> None:
        org_id, campaign_id, days, now = self._choice()
        if org_id is None:
            return
        self._serial += 1
        serial = self._serial
        db = self.db
        times = self.times()
        table = consent_exports.LAPSING.for_csv(times)  # the list shows what a CSV of times as shown holds
        self.summary.setText("Reading…")

        def read(_state):
            with db.read() as conn:
                result = consent_outlook.forecast(conn, org_id, campaign_id=campaign_id, days=days, now=now)
                rows = consent_outlook.lapsing_customers(conn, org_id, campaign_id=campaign_id, days=days, now=now,
                                                         limit=LIST_ROWS)
                formatted = [table.format(row) for row in rows]
            # A time's tooltip is its exact UTC value, as in every other table.
            tips = [{index: times.tooltip(getattr(row, table.columns[index].fields[0])) for index in table.time_columns}
                    for row in rows]
            return result, formatted, tips

        def shown(result) -> None:
            if serial == self._serial:
                self.forecast, rows, tips = result
                self._show_list(rows, tips)
                self._draw()

        self._tasks.run(read, shown, self._failed, name="consent forecast")

    def _show_list(self, rows: list[list[str]], tips: list[dict[int, str]]) -> None:
        self.list_model.set_rows(rows, tips)
        self.list_view.resizeColumnsToContents()

    def _draw(self) -> None:
        result = self.forecast
        if result is None:
            return
        weekly = self.period.currentIndex() == 0
        periods = result.by_week() if weekly else list(result.lapsing)
        width = DAY_SECONDS * (7 if weekly else 1)
        self.date_axis.set_period(7 if weekly else 1)
        self.plot.clear()
        self.legend.clear()
        xs = [_epoch(p.date) + width / 2 for p in periods]
        at_risk = [p.active_enrollments for p in periods]
        rest = [p.rest for p in periods]
        pg = self._pg
        self.plot.addItem(pg.BarGraphItem(x=xs, height=at_risk, width=width * 0.8, brush=theme.AT_RISK, pen=None,
                                          name="Active enrollment (at risk)"))
        self.plot.addItem(pg.BarGraphItem(x=xs, y0=at_risk, height=rest, width=width * 0.8, brush=theme.ACCENT, pen=None,
                                          name="No active enrollment"))
        end = result.first_day + dt.timedelta(days=result.days)
        first = result.first_day - dt.timedelta(days=result.first_day.weekday() if weekly else 0)
        last = end - dt.timedelta(days=end.weekday()) + dt.timedelta(days=7) if weekly else end + dt.timedelta(days=1)
        self.plot.setXRange(_epoch(first), _epoch(last), padding=0.02)
        tallest = max((a + r for a, r in zip(at_risk, rest)), default=0)
        self.plot.setYRange(0, max(tallest, 1) * 1.3, padding=0)
        self.plot.setTitle(f"Customers whose implied consent ends, {'per week (from Monday)' if weekly else 'per day'} (UTC)")
        shown = min(result.customers, LIST_ROWS)
        self.summary.setText(
            f"{result.customers:,} customers lose implied consent from {result.first_day} to {end}; "
            f"{result.active_enrollments:,} of them have an active enrollment (at risk)."
            + (f" The list shows the first {shown:,}; Export writes them all." if result.customers > shown else ""))
        self.updated.emit()

    def export_list(self) -> None:
        if self.export_status.refused():
            return
        org_id, campaign_id, days, now = self._choice()
        if org_id is None:
            return
        target = choose_export_path(self, self._export_folder / "consent-forecast.csv", self.settings)
        if not target:
            return
        path = target.path
        self._export_folder = Path(path).expanduser().parent
        db, times = self.db, self.times() if target.times_as_shown else None
        self.export_status.start(
            lambda state: consent_exports.export_lapsing(db, org_id, path, campaign_id=campaign_id, days=days, now=now,
                                                         progress=state.progress, cancel=state, times=times),
            "the consent forecast", path)

    def _failed(self, message: str) -> None:
        self.summary.setText(f"Cannot read the forecast: {message}")
        self.failed.emit(message)


def open_consent_forecast(window) -> ConsentForecastWindow:
    """Trends ▸ Consent from the main window: one forecast window, raised if open."""
    existing = getattr(window, "_consent_forecast", None)
    if existing is None:
        existing = window._consent_forecast = ConsentForecastWindow(window.db, window, settings=window.settings)
        existing.destroyed.connect(lambda: setattr(window, "_consent_forecast", None))
    existing.show()
    existing.raise_()
    existing.activateWindow()
    return existing


class ConsentWarning(QLabel):
    """New Run's warning: a Default run of a Canadian organization's campaign
    scheduled later will find fewer customers with consent than today. Counted
    off the interface thread, after a pause in the user's changes; says nothing
    when none lapse."""

    counted = Signal(int)

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setWordWrap(True)
        self.setStyleSheet(f"color: {theme.AT_RISK}")
        self.hide()
        self._tasks = Tasks(self, threads=1)
        self._serial = 0
        self._wanted: tuple | None = None
        self._timer = QTimer(self, singleShot=True, interval=300)
        self._timer.timeout.connect(self._count)

    def update_for(self, campaign_id: int | None, default_run: bool, scheduled_for: dt.datetime | None) -> None:
        """The dialog's choice changed: a Default run of ``campaign_id`` at ``scheduled_for`` (None: now)."""
        self._serial += 1
        self.hide()
        self._wanted = (campaign_id, scheduled_for) if campaign_id is not None and default_run and scheduled_for is not None else None
        if self._wanted is not None:
            self._timer.start()

    def _count(self) -> None:
        if self._wanted is None:
            return
        campaign_id, scheduled_for = self._wanted
        serial = self._serial
        db = self.db

        def read(state):
            return consent_outlook.lapsing_before_run(db, campaign_id, scheduled_for, cancel=state)

        def shown(count: int) -> None:
            if serial != self._serial:
                return
            if count:
                people = "customer" if count == 1 else "customers"
                self.setText(f"{count:,} {people} eligible today will have lost implied CASL consent by "
                             f"{scheduled_for.date().isoformat()}: the run will not enroll them.")
            self.setVisible(bool(count))
            self.counted.emit(count)

        self._tasks.run(read, shown, name="consent warning")
