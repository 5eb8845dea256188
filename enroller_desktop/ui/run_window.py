"""The run detail window: one per run, answering "why did this customer (not) get
enrolled?".

Tabs as the old help page describes them: Summary (the run's fields and its events on the
left, the funnel flowchart on the right), Query Params (with the criteria in words
and a bar chart), Potentials (every candidate with every check, filterable, lazy
over a million rows) and Campaign Customers. Every table exports to CSV (an Export
button on each tab, Ctrl+E) on the thread pool, with progress and Cancel in the
status bar while the window stays usable.

While the run is scheduled or in progress the window polls it and updates itself;
every query runs on the thread pool except the one primary-key read that gives the
window its title when it opens.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStyledItemDelegate,
    QTableView,
    QTabWidget,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import Row

from enroller_desktop import export, run_detail, tables
from enroller_desktop.db import detail_queries, explain_queries
from enroller_desktop.db.detail_queries import PotentialFilter
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import Check, PotentialStatus, RunPurpose
from enroller_desktop.db.stages import FunnelBox, FunnelSlice
from enroller_desktop.times import ShownTimes
from enroller_desktop.ui import theme, time_format
from enroller_desktop.ui.check_filter import CheckFilter
from enroller_desktop.ui.empty_notice import EmptyNotice
from enroller_desktop.ui.exporting import ExportProgress, choose_export_path
from enroller_desktop.ui.funnel import FunnelScene, FunnelView
from enroller_desktop.ui.jobs import Job, keep_until_finished, start
from enroller_desktop.ui.keyboard import switch_tabs_by_keyboard, walk_row_cells_with_tab
from enroller_desktop.ui.query_param_chart import QueryParamChart
from enroller_desktop.ui.table_models import EventTreeModel, PagedTableModel, RowsTableModel
from enroller_desktop.ui.settings import Settings
from enroller_desktop.ui.summary_pane import EventDetail, SummaryPane
from enroller_desktop.ui.sole_blockers import SoleBlockerTables

POLL_INTERVAL_MS = 1500
SEARCH_DELAY_MS = 300
FILTER_MIN_WIDTH = 90  # pixels a filter of the Potentials tab may shrink to

_open_windows: dict[tuple[str, int], RunWindow] = {}
FAILED_ONLY = "only:"  # the check filter's data for "Failed only: …"
SOLE_BLOCKER_TITLES = {name: title.split(" (")[0] for name, title in explain_queries.CONDITION_TITLES.items()}


def show_run_window(db: Database, run_id: int, parent: QWidget | None = None, *, settings: Settings | None = None) -> RunWindow:
    """Open the run's window, or raise and activate the one already open.

    A run that does not exist raises :class:`~enroller_desktop.errors.UserError`."""
    key = (db.url, run_id)
    window = _open_windows.get(key)
    if window is None:
        window = RunWindow(db, run_id, parent, settings=settings)
        _open_windows[key] = window
        window.destroyed.connect(lambda: _open_windows.pop(key, None))
    window.show()
    window.raise_()
    window.activateWindow()
    return window


def _details(db: Database, run_id: int, times: ShownTimes) -> dict:
    """Everything small the window shows, read and formatted off the interface thread."""
    with db.read() as conn:
        summary = detail_queries.run_summary(conn, run_id)
        events = detail_queries.run_events(conn, run_id)
        params = detail_queries.run_query_param_rows(conn, run_id)
    times = times.fmt.for_zone(summary.organization_timezone)  # the organization may have moved
    fields = run_detail.summary_fields(summary, events=events, times=times, count=tables.format_count)
    param_table = run_detail.QUERY_PARAMS.for_screen(times)
    param_times = [(index, param_table.columns[index].fields[0]) for index in param_table.time_columns]
    return {
        "summary": summary,
        "times": times,
        "fields": [[field.field, field.value] for field in fields],
        "field_tips": [{1: times.tooltip(getattr(summary, _SUMMARY_TIMES[field.field]))} if field.field in _SUMMARY_TIMES else {}
                       for field in fields],
        "events": events,
        "params": [param_table.format(row) for row in params],
        "param_tips": [{index: times.tooltip(getattr(row, name)) for index, name in param_times} for row in params],
        "chart": (
            [f"{row.process_order}. {row.name}" for row in params],
            [float(row.total_customers or 0) for row in params],
            [(row.completed_at - row.in_progress_at).total_seconds() if row.completed_at and row.in_progress_at else 0.0 for row in params],
        ),
    }


#: The Summary's time fields and the run's columns they show.
_SUMMARY_TIMES = {"Created At": "created_at", "In Progress At": "in_progress_at", "Completed At": "completed_at",
                  "As Of": "as_of", "Scheduled For": "scheduled_for"}


def _row_height(view) -> int:
    """One row of every table of the window: the text with room above and below."""
    return view.fontMetrics().height() + 8


class _RowHeightDelegate(QStyledItemDelegate):
    """Gives a tree's rows the tables' height (a tree has no vertical header to set it on)."""

    def sizeHint(self, option, index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width(), max(hint.height(), _row_height(self.parent())))


def _table_view(model, *, sortable: bool = False) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    rows = view.verticalHeader()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(_row_height(view))
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setStretchLastSection(True)
    walk_row_cells_with_tab(view)
    if sortable:
        view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        view.setSortingEnabled(True)
    return view


def _export_button(window: RunWindow) -> QPushButton:
    button = QPushButton(theme.icon("export"), "Export…")
    button.setToolTip("Export this table to CSV (Ctrl+E): every row of the current filter and sort")
    button.clicked.connect(window.export_current_tab)
    window._export_buttons.append(button)
    return button


class PagedTableTab(QWidget):
    """A tab over a :class:`PagedTableModel`: a bar (filters, count, Export) and the table."""

    def __init__(self, window: RunWindow, model: PagedTableModel, noun: str) -> None:
        super().__init__()
        self.model = model
        self.noun = noun
        self.bar = QHBoxLayout()
        self.count_label = QLabel("Counting…")
        self.view = _table_view(model, sortable=True)
        self.view.horizontalHeader().sortIndicatorChanged.connect(self._keep_sort_indicator)
        layout = QVBoxLayout(self)
        layout.addLayout(self.bar)
        layout.addWidget(self.view)
        self._finish_bar = lambda: (self.bar.addStretch(1), self.bar.addWidget(self.count_label), self.bar.addWidget(_export_button(window)))
        model.count_changed.connect(self._show_count)
        model.modelReset.connect(lambda: self.count_label.setText("Counting…"))
        self.empty_notice = EmptyNotice(self.view, model.count_changed, self._empty_words)

    def _empty_words(self) -> str:
        wanted = getattr(self.model.listing, "filter", None)
        if wanted is None or wanted == PotentialFilter():
            return f"This run has no {self.noun}s"
        if wanted.name and dataclasses.replace(wanted, name="") == PotentialFilter():
            return f"No {self.noun} is named like “{wanted.name}”"
        return f"No {self.noun}s match these filters"

    def _show_count(self, count: int) -> None:
        self.count_label.setText(f"{count:,} {self.noun}{'' if count == 1 else 's'}")

    def _keep_sort_indicator(self, section: int, order: Qt.SortOrder) -> None:
        """A column SQL cannot sort by keeps the indicator where the rows really are."""
        actual = self.model.sort_column()
        if section != actual:
            header = self.view.horizontalHeader()
            header.blockSignals(True)
            header.setSortIndicator(actual, Qt.SortOrder.DescendingOrder if self.model.listing.descending else Qt.SortOrder.AscendingOrder)
            header.blockSignals(False)


class PotentialsTab(PagedTableTab):
    """The Potentials tab: the paged table under its filters (status, check or
    "failed only", funnel box or arrow, name). Each change reads the rows again and
    emits :attr:`filtered` with the filter now shown."""

    filtered = Signal(object)  # the PotentialFilter applied

    def __init__(self, window: RunWindow, model: PagedTableModel) -> None:
        super().__init__(window, model, "potential")
        self.db = window.db
        self.status_filter = QComboBox()
        self.status_filter.addItem("Any status", None)
        for status in PotentialStatus:
            self.status_filter.addItem(status.label, status)
        self.check_filter = CheckFilter(
            {Check(column.key): column.title for column in model.table.columns if column.kind == "check"},
            [(f"Failed only: {title}", f"{FAILED_ONLY}{name}") for name, title in SOLE_BLOCKER_TITLES.items()],
        )
        self.funnel_filter = QComboBox()
        # The choices by position: a combo box compares Python data by identity.
        self._funnel_choices: list[FunnelSlice | None] = [None]
        for box in FunnelBox:
            if box.previous is not None:
                self._funnel_choices.append(FunnelSlice(box, fell_out=True))
            self._funnel_choices.append(FunnelSlice(box))
        for choice in self._funnel_choices:
            self.funnel_filter.addItem("Whole funnel" if choice is None else choice.label)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(FILTER_MIN_WIDTH)
        self._search_delay = QTimer(self)
        self._search_delay.setSingleShot(True)
        self._search_delay.setInterval(SEARCH_DELAY_MS)
        self._search_delay.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._search_delay.start)
        self.search.returnPressed.connect(self.apply_filter)
        clear = QPushButton("Clear filters")
        clear.clicked.connect(self.clear_filters)
        # One customer's potentials (opened from the customer window): kept while the
        # other filters change, shown as a button that removes it.
        self._customer: tuple[int, str] | None = None
        self.customer_filter = QToolButton()
        self.customer_filter.setIcon(theme.icon("cancel"))
        self.customer_filter.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.customer_filter.setToolTip("Only this customer's potentials are shown: click to show every customer's")
        self.customer_filter.clicked.connect(self.clear_customer_filter)
        self.customer_filter.hide()
        self.bar.addWidget(self.customer_filter)
        for label, widget in (("Status", self.status_filter), ("Check", self.check_filter), ("Funnel", self.funnel_filter)):
            # As wide as their longest choice when there is room; narrower (the open
            # list still shows every choice whole) rather than keep the window wide.
            widget.setMinimumWidth(FILTER_MIN_WIDTH)
            self.bar.addWidget(QLabel(label))
            self.bar.addWidget(widget)
            widget.currentIndexChanged.connect(self.apply_filter)
        self.bar.addWidget(self.search)
        self.bar.addWidget(clear)
        self._finish_bar()
        self.check_filter.recount(self.db, model.listing)

        widths = {"first_name": 110, "last_name": 120, "vehicle": 150, "why_not_enrolled": 300, "validated_at": 150,
                  "consent_basis": 130, "consent_evidence_at": 150, "consent_lapses_on": 90}
        for index, column in enumerate(model.table.columns):
            self.view.setColumnWidth(index, widths.get(column.key, max(70, self.view.fontMetrics().horizontalAdvance(column.title) + 26)))

    def filter(self) -> PotentialFilter:
        # A combo box hands back a str-based enum as its plain word.
        status, check = self.status_filter.currentData(), self.check_filter.currentData()
        only = check.removeprefix(FAILED_ONLY) if check is not None and check.startswith(FAILED_ONLY) else None
        return PotentialFilter(
            status=None if status is None else PotentialStatus(status),
            failed_check=None if check is None or only else Check(check),
            failed_only=only,
            name=self.search.text().strip(),
            funnel=self._funnel_choices[max(self.funnel_filter.currentIndex(), 0)],
            customer_id=None if self._customer is None else self._customer[0],
        )

    def apply_filter(self) -> None:
        self._search_delay.stop()
        wanted = self.filter()
        self.filtered.emit(wanted)
        self.model.set_listing(dataclasses.replace(self.model.listing, filter=wanted))
        self.check_filter.recount(self.db, self.model.listing)

    def clear_filters(self) -> None:
        self.set_filters(self._funnel_choices[0])

    def show_customer(self, customer_id: int, name: str = "") -> None:
        """One customer's potentials under the other filters as they are; the
        filter stays while they change, until its button or Clear filters removes it."""
        self._set_customer(customer_id, name)
        self.apply_filter()

    def clear_customer_filter(self) -> None:
        self._set_customer(None)
        self.apply_filter()

    def _set_customer(self, customer_id: int | None, name: str = "") -> None:
        self._customer = None if customer_id is None else (customer_id, name)
        if customer_id is not None:
            self.customer_filter.setText(f"Customer: {name or customer_id}" + (f" ({customer_id})" if name else ""))
        self.customer_filter.setVisible(customer_id is not None)

    def show_failed_only(self, condition: str) -> None:
        """Those that failed ``condition`` and no other."""
        self.set_filters(self._funnel_choices[0])
        self.check_filter.setCurrentIndex(self.check_filter.findData(f"{FAILED_ONLY}{condition}"))

    def set_filters(self, funnel: FunnelSlice | None) -> None:
        """Every other filter back to its first choice, and the funnel's to
        ``funnel``: one query for all, not one per widget."""
        with contextlib.ExitStack() as silent:
            for widget in (self.status_filter, self.check_filter, self.funnel_filter, self.search):
                silent.enter_context(QSignalBlocker(widget))
            self.status_filter.setCurrentIndex(0)
            self.check_filter.setCurrentIndex(0)
            self.funnel_filter.setCurrentIndex(self._funnel_choices.index(funnel))
            self.search.clear()
        self._set_customer(None)
        self.apply_filter()


class RunWindow(QMainWindow):
    """The detail window of one run."""

    details_loaded = Signal()  # each time the summary, events and query params are shown anew
    export_finished = Signal(object)  # rows written, or None when canceled
    export_failed = Signal(str)

    def __init__(self, db: Database, run_id: int, parent: QWidget | None = None, *, settings: Settings | None = None) -> None:
        """``settings`` (the main window's) remember the window's size and place;
        without them it opens at its default size and remembers nothing."""
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.settings = settings
        self.db = db
        self.run_id = run_id
        with db.read() as conn:
            self.summary: Row = detail_queries.run_summary(conn, run_id)
        self.times = time_format.current(settings).for_zone(self.summary.organization_timezone)
        self._export_buttons: list[QPushButton] = []
        self._details_job: Job | None = None
        self._export_folder = Path.home()

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        self.sole_blockers = SoleBlockerTables(db, run_id, self)
        self.sole_blockers.condition_activated.connect(self.show_failed_only)
        self.details_loaded.connect(self.sole_blockers.refresh)
        self._build_summary_tab()
        self._build_query_params_tab()
        self._build_potentials_tab()
        self._build_campaign_customers_tab()
        self._build_status_bar()

        export_action = QAction("Export to CSV", self)
        export_action.setShortcut(QKeySequence("Ctrl+E"))
        export_action.triggered.connect(self.export_current_tab)
        self.addAction(export_action)
        self.export_action = export_action
        close_action = QAction("Close", self)
        close_action.setShortcut(QKeySequence.StandardKey.Close)
        close_action.triggered.connect(self.close)
        self.addAction(close_action)
        switch_tabs_by_keyboard(self, self.tabs)

        self._poll = QTimer(self)
        self._poll.setInterval(POLL_INTERVAL_MS)
        self._poll.timeout.connect(self._load_details)
        self._show_summary_header()
        if not self.summary.status.finished:
            self._poll.start()
        self._load_details()
        time_format.changes.changed.connect(self._zone_chosen)
        self.resize(1320, 820)
        if settings is not None and not (geometry := settings.get("run_window/geometry")).isEmpty():
            self.restoreGeometry(geometry)

    # -- building -------------------------------------------------------------------

    def _build_summary_tab(self) -> None:
        self.summary_model = RowsTableModel(run_detail.SUMMARY, self)
        self.summary_view = _table_view(self.summary_model)
        self.summary_view.setAlternatingRowColors(False)
        self.summary_view.setShowGrid(False)
        self.summary_view.horizontalHeader().hide()
        self.summary_view.setColumnWidth(0, 170)
        self.event_model = EventTreeModel(self)
        self.event_view = QTreeView()
        self.event_view.setModel(self.event_model)
        self.event_view.setUniformRowHeights(True)
        self.event_view.setItemDelegate(_RowHeightDelegate(self.event_view))
        self.event_view.setAlternatingRowColors(True)
        header = self.event_view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        longest_time = f"  {self.times.fmt.form.render(dt.datetime(2026, 12, 31, 23, 59, 59))}  "
        for column, sample in ((0, longest_time), (1, " Warning "), (3, " 1,000,000 "), (4, " 59 min 59 s ")):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            indent = self.event_view.indentation() if column == 0 else 0  # events sit one level in
            self.event_view.setColumnWidth(column, self.event_view.fontMetrics().horizontalAdvance(sample) + 12 + indent)
        self.event_model.modelReset.connect(self._expand_events)

        self.summary_tabs = QTabWidget()
        self.summary_tabs.addTab(self.summary_view, "Summary")
        self.summary_tabs.addTab(self.event_view, "Events")

        self.funnel_scene = FunnelScene(self)
        self.funnel_view = FunnelView(self.funnel_scene)
        self.funnel_scene.slice_clicked.connect(self.show_funnel_slice)
        funnel_title = QLabel("How the candidates went through the checks — click a box or an arrow to see them")
        funnel_title.setWordWrap(True)
        # The sole blockers beside the funnel, as wide as their content: the funnel
        # (fitted to its view) gets the rest of the width and the whole height.
        blockers_title = QLabel("What each check alone holds back (double-click: those potentials)")
        blockers_title.setWordWrap(True)
        blockers = QVBoxLayout()
        blockers.addWidget(blockers_title)
        blockers.addWidget(self.sole_blockers.run_table)
        blockers.addStretch(1)
        beside = QHBoxLayout()
        beside.addWidget(self.funnel_view, 1)
        beside.addLayout(blockers)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(funnel_title)
        right_layout.addLayout(beside, 1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.header_label = QLabel()
        self.header_label.setTextFormat(Qt.TextFormat.PlainText)
        self.header_label.setWordWrap(True)  # the pane is as narrow as the Summary's fields
        self.zone_label = QLabel()  # in the status bar: the header's row keeps the window's minimum width
        self.statusBar().addWidget(self.zone_label)
        bar.addWidget(self.header_label, 1)
        bar.addWidget(_export_button(self))
        left_layout.addLayout(bar)
        left_layout.addWidget(self.summary_tabs)
        self.event_detail = EventDetail(self.event_view)
        self.event_detail.setVisible(False)
        left_layout.addWidget(self.event_detail)
        self.summary_tabs.currentChanged.connect(lambda: self.event_detail.setVisible(self.summary_tabs.currentWidget() is self.event_view))

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([720, 600])
        self.summary_pane = SummaryPane(splitter, self.summary_tabs, self.summary_view, self.event_view)
        self.tabs.addTab(splitter, "Summary")

    def _build_query_params_tab(self) -> None:
        self.query_param_model = RowsTableModel(run_detail.QUERY_PARAMS, self)
        self.query_param_view = _table_view(self.query_param_model)
        self.query_param_chart = QueryParamChart()
        page = QWidget()
        layout = QVBoxLayout(page)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Each query param of the campaign, in process order, with its criterion in words"), 1)
        bar.addWidget(_export_button(self))
        layout.addLayout(bar)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.query_param_view)
        splitter.addWidget(self.sole_blockers.param_pane)
        splitter.addWidget(self.query_param_chart)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setStretchFactor(2, 3)
        layout.addWidget(splitter)
        self.tabs.addTab(page, "Query Params")

    def _build_potentials_tab(self) -> None:
        model = PagedTableModel(
            self.db,
            run_detail.run_potentials_table(self.summary).for_screen(self.times),
            detail_queries.potential_listing(self.summary),
            self,
            times=self.times,
        )
        model.failed.connect(self._query_failed)
        self.potentials_model = model
        self.potentials_tab = PotentialsTab(self, model)
        self.potentials_tab.filtered.connect(lambda wanted: self.funnel_scene.show_selected(wanted.funnel))
        self.tabs.addTab(self.potentials_tab, "Potentials")

    def _build_campaign_customers_tab(self) -> None:
        model = PagedTableModel(self.db, run_detail.CAMPAIGN_CUSTOMERS.for_screen(self.times), detail_queries.campaign_customer_listing(self.summary),
                                self, times=self.times)
        model.failed.connect(self._query_failed)
        self.campaign_customers_model = model
        tab = PagedTableTab(self, model, "campaign customer")
        explanation = "Enrolled by this run"
        if self.summary.purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE:
            explanation += ", and expired by it"
        tab.bar.addWidget(QLabel(explanation))
        tab._finish_bar()
        for index, width in enumerate((110, 120, 160, 110, 130, 150, 150, 150, 190)):
            tab.view.setColumnWidth(index, width)
        self.campaign_customers_tab = tab
        self.tabs.addTab(tab, "Campaign Customers")

    def _build_status_bar(self) -> None:
        self.export_status = ExportProgress(self)
        self.export_progress = self.export_status.progress
        self.export_cancel = self.export_status.cancel_button
        self.export_status.finished.connect(self.export_finished)
        self.export_status.failed.connect(self.export_failed)
        self.export_status.runningChanged.connect(self._set_exporting)

    # -- the run and its updates ----------------------------------------------------

    def _show_summary_header(self) -> None:
        summary = self.summary
        self.setWindowTitle(run_detail.run_title(summary, self.times))
        words = f"{summary.organization_name} · {summary.campaign_name} · {summary.purpose.label} · {summary.status.label}"
        if summary.error_message:
            words += f" — {summary.error_message}"
        self.header_label.setText(words)
        zone = self.times.zone
        self.zone_label.setText(f"Times in {zone.key}" + (" (fallback)" if zone.problem else ""))
        self.zone_label.setToolTip(self.times.tooltip(summary.created_at) + "\nView ▸ Time Zone in the main window chooses whose clock")

    def _load_details(self) -> None:
        if self._details_job is not None:
            return  # the previous poll is still reading
        db, run_id, times = self.db, self.run_id, self.times
        job = Job(lambda state: _details(db, run_id, times), name=f"run {run_id} details")
        self._details_job = job
        keep_until_finished(job)
        job.signals.succeeded.connect(self._show_details)
        job.signals.failed.connect(self._details_failed)
        start(job)

    def _show_details(self, details: dict) -> None:
        self._details_job = None
        was_finished = self.summary.status.finished
        self.summary = summary = details["summary"]
        if details["times"] != self.times:  # the zone choice or the organization's zone changed while this read
            self.times = details["times"]
            self._retime_tables()
        self._show_summary_header()
        fields = details["fields"]
        self.summary_model.emphasis = {row: "bad" for row, (name, value) in enumerate(fields) if name == "Error Message" or (name == "Status" and value == "Error")}
        self.summary_model.set_rows(fields, details["field_tips"])
        self.summary_pane.fields_changed()
        self.event_model.set_events(details["events"], self.times)
        self.query_param_model.set_rows(details["params"], details["param_tips"])
        self.query_param_view.resizeColumnsToContents()
        self.query_param_chart.set_params(*details["chart"])
        self.funnel_scene.set_run(summary)
        if summary.status.finished:
            self._poll.stop()
            if not was_finished:  # the run just ended: read its tables once more, now final
                self.potentials_model.set_table(run_detail.run_potentials_table(summary).for_screen(self.times))
                self.campaign_customers_model.refresh()
                self.potentials_tab.check_filter.recount(self.db, self.potentials_model.listing, again=True)
        else:
            self.potentials_model.refresh()
            self.potentials_tab.check_filter.recount(self.db, self.potentials_model.listing, again=True)
            self.campaign_customers_model.refresh()
        self.details_loaded.emit()

    def _zone_chosen(self, _choice) -> None:
        """View ▸ Time Zone changed: every time of the window on the new clock."""
        self.times = time_format.current(self.settings).for_zone(self.summary.organization_timezone)
        self._retime_tables()
        self._load_details()

    def _retime_tables(self) -> None:
        summary = self.summary
        self.potentials_model.set_table(run_detail.potentials_table(summary.purpose, summary.status).for_screen(self.times), self.times)
        self.campaign_customers_model.set_table(run_detail.CAMPAIGN_CUSTOMERS.for_screen(self.times), self.times)

    def _details_failed(self, message: str, details: str) -> None:
        self._details_job = None
        self.statusBar().showMessage(f"Could not read run {self.run_id}: {message}", 10_000)

    def _query_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Could not read the rows: {message}", 10_000)

    def _expand_events(self) -> None:
        self.event_view.expandAll()
        for row in range(self.event_model.rowCount()):
            self.event_view.setFirstColumnSpanned(row, QModelIndex(), True)

    # -- the funnel and the sole blockers point into the Potentials tab --------------

    def show_funnel_slice(self, funnel: FunnelSlice) -> None:
        """A click on the funnel: the Potentials tab, showing the candidates of that
        box or arrow (other filters cleared, so the rows match the chart's number)."""
        self.potentials_tab.set_filters(funnel)
        self.tabs.setCurrentWidget(self.potentials_tab)

    def show_failed_only(self, condition: str) -> None:
        """The Potentials tab, showing those that failed ``condition`` and no other."""
        self.potentials_tab.show_failed_only(condition)
        self.tabs.setCurrentWidget(self.potentials_tab)

    def show_customer(self, customer_id: int, name: str = "") -> None:
        """The Potentials tab, showing one customer's potentials (kept while the
        other filters change)."""
        self.potentials_tab.show_customer(customer_id, name)
        self.tabs.setCurrentWidget(self.potentials_tab)

    # -- export ---------------------------------------------------------------------

    def current_tab(self) -> str:
        """The name (:data:`run_detail.TAB_NAMES`) of the table the window shows now."""
        page = self.tabs.currentWidget()
        if page is self.potentials_tab:
            return "potentials"
        if page is self.campaign_customers_tab:
            return "campaign-customers"
        if self.tabs.currentIndex() == 1:
            return "query-params"
        return "events" if self.summary_tabs.currentWidget() is self.event_view else "summary"

    def current_table_source(self, *, times_as_shown: bool = False) -> tuple[tables.TableSource, str]:
        """What Ctrl+E exports now: the visible table, under its filter and sort,
        its times as the window shows them or (by default) in ISO 8601 UTC."""
        tab = self.current_tab()
        source = run_detail.run_tab_source(self.summary, tab, times=self.times if times_as_shown else None)
        model = {"potentials": self.potentials_model, "campaign-customers": self.campaign_customers_model}.get(tab)
        return (source if model is None else dataclasses.replace(source, listing=model.listing)), tab

    def export_current_tab(self) -> None:
        if self.export_status.refused():
            return
        # Every tab of a run has times.
        target = choose_export_path(self, self._export_folder / f"run-{self.run_id}-{self.current_tab()}.csv", self.settings)
        if target:
            self.start_export(self.current_table_source(times_as_shown=target.times_as_shown)[0], target.path)

    def start_export(self, source: tables.TableSource, path: str) -> None:
        self._export_folder = Path(path).expanduser().parent
        db = self.db
        self.export_status.start(
            lambda state: export.export_source(db, source, path, progress=state.progress, cancel=state), source.table.title, path
        )

    @property
    def exporting(self) -> bool:
        return self.export_status.running

    def _set_exporting(self, exporting: bool) -> None:
        for button in self._export_buttons:
            button.setEnabled(not exporting)

    # -- lifetime -------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            for button in self._export_buttons:  # drawn in the text colour, which a light/dark switch changes
                button.setIcon(theme.icon("export"))
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._poll.stop()
        self.export_status.cancel()  # a closed window leaves no half-written file
        if self.settings is not None:
            self.settings.set("run_window/geometry", self.saveGeometry())
        _open_windows.pop((self.db.url, self.run_id), None)
        super().closeEvent(event)

