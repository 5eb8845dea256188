"""The main window: the old help page's Enroller Runs index, kept open all day.

Filters on the left, the runs newest first, live: unfinished runs on screen and
new runs are looked up on a timer (off the interface thread), so a run launched
here, by a worker or by a colleague shows its progress without anyone pressing
a key. The window's launcher (``ui/launcher.py``) executes the runs launched here
and every due scheduled run of the database, at most ``runs/max_concurrent`` at
once, claimed as a worker claims them; the others wait their turn as ``scheduled``.

When the database stops answering, the status bar says so, the rows on screen
stay, and the next poll that gets an answer puts everything back.

An empty database (no organization yet) opens on the welcome view instead of an
empty table: load the demo data, or connect to another database.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTableView,
    QWidget,
)

from enroller_desktop import export
from enroller_desktop.config import log_dir
from enroller_desktop.db.engine import Database, open_database
from enroller_desktop.db.index_queries import RunFilter, RunSort
from enroller_desktop.ui import databases, explain_actions, help_dialogs, questions, theme, time_format
from enroller_desktop.run_index import COLUMN_OF_KEY, COLUMNS, STATUS_COLUMN, VIEW_COLUMN, IndexColumn
from enroller_desktop.times import TimeFormat
from enroller_desktop.ui.background import Tasks
from enroller_desktop.ui.empty_notice import EmptyNotice
from enroller_desktop.ui.exporting import ExportProgress, choose_export_path
from enroller_desktop.ui.filter_dock import FilterDock
from enroller_desktop.ui.keyboard import walk_row_cells_with_tab
from enroller_desktop.ui.launcher import RunLauncher
from enroller_desktop.ui.index_model import (
    HIDDEN_BY_DEFAULT,
    RunIdRole,
    IndexModel,
    StatusDelegate,
    ViewIconDelegate,
    default_column_widths,
)
from enroller_desktop.ui.settings import Settings
from enroller_desktop.ui import consent_view
from enroller_desktop.ui.trends import TrendsDock
from enroller_desktop.ui.workers_view import WorkersDock
from enroller_desktop.ui.welcome import WelcomeView
from enroller_desktop.errors import one_line

log = logging.getLogger(__name__)

RECOVERY_INTERVAL_MS = 30_000
DATABASE_LABEL_WIDTH = 520  # pixels of the status bar's database line


class RunsView(QTableView):
    """The runs table: Enter opens the current run, Delete cancels the selected ones."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.open_action: QAction | None = None
        self.cancel_action: QAction | None = None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.open_action:
            self.open_action.trigger()
            return
        if event.key() == Qt.Key.Key_Delete and self.cancel_action:
            self.cancel_action.trigger()
            return
        super().keyPressEvent(event)


class MainWindow(QMainWindow):
    emptinessKnown = Signal(bool)  # the database was read: True when the welcome view shows

    def __init__(self, db: Database, parent: QWidget | None = None, *, settings: Settings | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.settings = settings or Settings()
        self._tasks = Tasks(self)
        self.launcher = RunLauncher(db, self, max_concurrent=self.settings.get("runs/max_concurrent"),
                                    due_interval_ms=self.settings.get("runs/poll_interval_ms"))
        self.confirm_cancel = True
        self._scroll_before_insert = 0
        self._export_folder = Path.home()
        self.resize(1400, 820)

        self.setWindowIcon(theme.app_icon())

        self.model = IndexModel(db, self)
        self.view = RunsView()
        self._build_view()
        self.welcome = WelcomeView()
        self.welcome.set_database(db)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.view)
        self.pages.addWidget(self.welcome)
        self.setCentralWidget(self.pages)

        self.filter_dock = FilterDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.filter_dock)
        # The filters take the whole height beside the table and the docks under it:
        # stacked above Trends, the two minimums would not fit a 768-pixel laptop.
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.trends_dock = TrendsDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.trends_dock)
        self.trends_dock.hide()
        self.workers_dock = WorkersDock(lambda: self.db, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.workers_dock)
        self.workers_dock.hide()
        self.workers_dock.openRun.connect(self.open_run)

        self.count_label = QLabel()
        self.count_label.setAccessibleName("Runs shown")
        self.database_label = QLabel()
        self.database_label.setAccessibleName("Database")
        self.statusBar().addPermanentWidget(self.database_label)
        self.status_separator = QFrame(frameShape=QFrame.Shape.VLine, frameShadow=QFrame.Shadow.Sunken)
        self.statusBar().addPermanentWidget(self.status_separator)  # the database is not part of the count
        self.statusBar().addPermanentWidget(self.count_label)
        self.export_status = ExportProgress(self)
        self._build_actions()

        self.poll_timer = QTimer(self, interval=self.settings.get("runs/poll_interval_ms"))
        self.poll_timer.timeout.connect(self.poll)
        # RULES §2: a run whose process died becomes "interrupted" when any client
        # polls. A write, so not at every poll: the heartbeat allows 60 s anyway.
        self.recovery_timer = QTimer(self, interval=RECOVERY_INTERVAL_MS)
        self.recovery_timer.timeout.connect(self.recover_interrupted_runs)

        self.model.countChanged.connect(self._show_count)
        self.empty_notice = EmptyNotice(self.view, self.model.countChanged, lambda: "No runs match these filters: Reset filters (Ctrl+R) shows every run")
        self.model.databaseFailed.connect(self._database_failed)
        self.model.databaseAnswered.connect(self._database_answered)
        self.filter_dock.filterChanged.connect(self._filter_changed)
        self.filter_dock.choicesFailed.connect(self._database_failed)
        self.trends_dock.failed.connect(self._database_failed)
        self.trends_dock.barClicked.connect(self.filter_dock.show_day_and_status)
        self.welcome.demoLoaded.connect(self._demo_loaded)
        self.welcome.connectRequested.connect(self.choose_server)
        self.model.dataChanged.connect(self._selection_changed)  # a selected run may have finished
        self.launcher.progressed.connect(self.model.set_progress)
        self.launcher.runFinished.connect(self._run_finished)
        self.launcher.runFailed.connect(lambda run_id, message: self.statusBar().showMessage(f"Run {run_id}: {message}", 10000))
        self.launcher.canceled.connect(self._canceled)
        self.launcher.failed.connect(self._database_failed)
        self._follow_the_screen_in_tab_order()
        times = time_format.current(self.settings)
        self.model.set_time_format(times)
        self.filter_dock.set_time_format(times)
        time_format.changes.changed.connect(self._zone_chosen)

        self._restore()
        self._check_empty()
        self._show_database()
        self.poll_timer.start()
        self.recovery_timer.start()
        self.recover_interrupted_runs()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)  # the window opens in the runs table
        if self.settings.get("runs/execute_due"):
            self.launcher.start()

    # -- building ---------------------------------------------------------------------

    def _build_view(self) -> None:
        view = self.view
        view.setModel(self.model)
        view.setObjectName("runsTable")
        view.setAccessibleName("Runs")
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        view.setAlternatingRowColors(True)
        view.setWordWrap(False)
        view.setShowGrid(False)
        walk_row_cells_with_tab(view)
        view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._table_menu)
        rows = view.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(view.fontMetrics().height() + 10)
        header = view.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        header.setSectionResizeMode(VIEW_COLUMN, QHeaderView.ResizeMode.Fixed)
        self._status_delegate = StatusDelegate(view)
        self._icon_delegate = ViewIconDelegate(view)
        view.setItemDelegateForColumn(STATUS_COLUMN, self._status_delegate)
        view.setItemDelegateForColumn(VIEW_COLUMN, self._icon_delegate)
        for column, width in default_column_widths(view.fontMetrics()).items():
            view.setColumnWidth(column, width)
        for column in HIDDEN_BY_DEFAULT:  # the header's menu shows them
            header.setSectionHidden(column, True)
        self.model.rowsAboutToBeInserted.connect(self._note_scroll)
        self.model.rowsInserted.connect(self._keep_scroll)
        view.doubleClicked.connect(self._open_index)
        view.clicked.connect(self._clicked)

    def _build_actions(self) -> None:
        def action(text: str, slot, shortcut=None, tip: str = "") -> QAction:
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            a.setStatusTip(tip)
            a.setToolTip(f"{tip} ({a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})" if shortcut else tip)
            a.triggered.connect(slot)
            return a

        self.open_db_action = action("&Open Database…", self.choose_sqlite_file, QKeySequence.StandardKey.Open, "Open a SQLite database file")
        self.connect_action = action("&Connect…", self.choose_server, "Ctrl+Shift+O", "Connect to a database server by URL")
        self.export_action = action("&Export Runs…", self.export_runs, "Ctrl+E", "Export the runs of the current filter and sort to CSV")
        self.quit_action = action("&Quit", self.close, QKeySequence.StandardKey.Quit, "Close the window")
        self.new_run_action = action("&New Run…", self.new_run, QKeySequence.StandardKey.New, "Launch or schedule a run")
        self.open_run_action = action("&Open Run", self.open_selected_run, "Return", "Open the selected run's details")
        self.open_run_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)  # the table's Enter; see RunsView
        self.cancel_action = action("&Cancel Run", self.cancel_selected_runs, QKeySequence.StandardKey.Delete, "Cancel the selected scheduled or in-progress runs")
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.refresh_action = action("&Refresh", self.refresh, QKeySequence.StandardKey.Refresh, "Read the runs again")
        self.reset_filters_action = action("&Reset Filters", self.filter_dock.reset, "Ctrl+R", "Show every run again")
        self.definitions_action = action("Column &Definitions", self.show_column_definitions, QKeySequence.StandardKey.HelpContents, "What each column of the runs table counts")
        self.about_action = action("&About Enroller Desktop", self.about, None, "Versions, and where the data and logs live")
        self.log_folder_action = action("Open &Log Folder", self.open_log_folder, None, "Show the program's log files")
        self.view.open_action = self.open_run_action
        self.view.cancel_action = self.cancel_action

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_db_action)
        file_menu.addAction(self.connect_action)
        self.recent_menu = file_menu.addMenu("&Recent Databases")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        runs_menu = menu.addMenu("&Runs")
        for a in (self.new_run_action, self.open_run_action, self.cancel_action, self.refresh_action):
            runs_menu.addAction(a)
        view_menu = menu.addMenu("&View")
        filters_toggle = self.filter_dock.toggleViewAction()
        filters_toggle.setText("&Filters")
        filters_toggle.setShortcut(QKeySequence("Ctrl+Shift+F"))
        trends_toggle = self.trends_dock.toggleViewAction()
        trends_toggle.setText("&Trends")
        trends_toggle.setShortcut(QKeySequence("Ctrl+T"))
        self.filters_toggle, self.trends_toggle = filters_toggle, trends_toggle
        view_menu.addAction(filters_toggle)
        view_menu.addAction(trends_toggle)
        self.consent_forecast_action = view_menu.addAction("Trends ▸ Co&nsent Forecast", lambda: consent_view.open_consent_forecast(self))
        view_menu.addAction(self.workers_dock.toggleViewAction())
        view_menu.addAction(self.reset_filters_action)
        self.columns_menu = view_menu.addMenu("&Columns")
        self.columns_menu.aboutToShow.connect(lambda: self._fill_columns_menu(self.columns_menu))
        self.zone_menu = time_format.zone_menu(view_menu, self.settings)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self.definitions_action)
        help_menu.addAction(self.log_folder_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)

        toolbar = self.addToolBar("Runs")
        toolbar.setObjectName("runsToolbar")
        toolbar.setAccessibleName("Runs toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for a in (self.new_run_action, self.open_run_action, self.cancel_action, self.refresh_action):
            toolbar.addAction(a)
        toolbar.addSeparator()
        toolbar.addAction(self.export_action)
        toolbar.addAction(trends_toggle)
        explain_actions.install(self, runs_menu, toolbar)
        self.export_status.runningChanged.connect(lambda running: self.export_action.setEnabled(not running))
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self._selection_changed()
        self._show_icons()

    def _show_icons(self) -> None:
        for a, name in (
            (self.open_db_action, "open-database"),
            (self.connect_action, "connect"),
            (self.new_run_action, "new-run"),
            (self.open_run_action, "view"),
            (self.cancel_action, "cancel"),
            (self.refresh_action, "refresh"),
            (self.export_action, "export"),
            (self.reset_filters_action, "filter"),
            (self.filters_toggle, "filter"),
            (self.trends_toggle, "trends"),
            (self.find_customer_action, "find-customer"),
            (self.definitions_action, "definitions"),
            (self.about_action, "about"),
        ):
            a.setIcon(theme.icon(name))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._show_icons()  # drawn in the text colour, which a light/dark switch changes
        super().changeEvent(event)

    def _follow_the_screen_in_tab_order(self) -> None:
        """Tab walks the screen left to right: the filters, then the table (or the welcome)."""
        dock = self.filter_dock
        chain = [
            dock.preset, dock.created_from, dock.created_to, dock.organization, dock.campaign,
            *dock.purposes.values(), *dock.statuses.values(), dock.reset_button,
            self.view, self.welcome.demo_button, self.welcome.connect_button,
        ]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)

    # -- the first run ----------------------------------------------------------------

    def _check_empty(self) -> None:
        """Show the welcome view when the database has no organization yet (off the interface thread)."""
        db = self.db

        def is_empty(_state) -> bool:
            from enroller_desktop import demo

            return demo.is_empty(db)

        def known(empty: bool) -> None:
            if db is self.db:  # not a database switched away from meanwhile
                self.show_welcome(empty)
                self.emptinessKnown.emit(empty)

        self._tasks.run(is_empty, known, self._database_failed, name="is empty")

    def show_welcome(self, shown: bool) -> None:
        self.pages.setCurrentWidget(self.welcome if shown else self.view)
        self.filter_dock.widget().setEnabled(not shown)
        self.new_run_action.setEnabled(not shown)
        if shown:
            self.welcome.demo_button.setFocus()

    @property
    def welcome_shown(self) -> bool:
        return self.pages.currentWidget() is self.welcome

    def _demo_loaded(self, summary: str) -> None:
        self.refresh()
        self.show_welcome(False)
        self.view.setFocus()
        self.statusBar().showMessage(summary, 15000)

    # -- settings ---------------------------------------------------------------------

    def _restore(self) -> None:
        s = self.settings
        self.filter_dock.restore(s)
        geometry, state = s.get("window/geometry"), s.get("window/state")
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)
        if not state.isEmpty():
            self.restoreState(state)
        header = self.view.horizontalHeader()
        header_state = s.get("table/header_state")
        if not header_state.isEmpty():
            header.restoreState(header_state)
        key = s.get("table/sort_key")
        column = COLUMN_OF_KEY.get(key, COLUMN_OF_KEY["created_at"])
        order = Qt.SortOrder.DescendingOrder if s.get("table/sort_descending") else Qt.SortOrder.AscendingOrder
        header.setSortIndicator(column, order)
        self.model.configure(self.filter_dock.remembered_filter(), RunSort(COLUMNS[column].key, order == Qt.SortOrder.DescendingOrder))
        self.view.setSortingEnabled(True)  # asks the model for the sort it already has: no second read
        self.filter_dock.load_choices(self.db)
        self.trends_dock.show_for(self.db, self.model.run_filter)

    def save_settings(self) -> None:
        s = self.settings
        self.filter_dock.save(s)
        s.set("window/geometry", self.saveGeometry())
        s.set("window/state", self.saveState())
        s.set("table/header_state", self.view.horizontalHeader().saveState())
        s.set("table/sort_key", self.model.run_sort.key)
        s.set("table/sort_descending", self.model.run_sort.descending)
        s.set("databases/last", databases.without_password(self.db.url))
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not questions.may_close(self, self.launcher):
            event.ignore()
            return
        self.launcher.shutdown(cancel=True)
        self.poll_timer.stop()
        self.recovery_timer.stop()
        self.export_status.cancel()  # a closed window leaves no half-written file
        self.save_settings()
        self.welcome.shutdown()
        self.model.shutdown()
        super().closeEvent(event)

    # -- the table --------------------------------------------------------------------

    def _filter_changed(self, run_filter: RunFilter) -> None:
        self.model.set_filter(run_filter)
        self.trends_dock.show_for(self.db, run_filter)

    def set_time_format(self, times: TimeFormat) -> None:
        """Times shown, and days counted (the Created filter, Trends), as ``times`` says."""
        self.model.set_time_format(times)
        self.filter_dock.set_time_format(times)
        days = self.filter_dock.current_filter()  # the dates and whose days they are; the rest as applied
        wanted = dataclasses.replace(self.model.run_filter, created_from=days.created_from, created_to=days.created_to, day_zone=days.day_zone)
        if wanted != self.model.run_filter:
            self._filter_changed(wanted)

    def _zone_chosen(self, _choice) -> None:
        self.set_time_format(time_format.current(self.settings))

    def _show_count(self, count: int) -> None:
        waiting = self.model.newer_waiting
        text = f"{count:,} run{'s' if count != 1 else ''}"
        if waiting:
            text += f" · {waiting:,} new (F5 to show)"
        self.count_label.setText(text)

    def visible_rows(self) -> tuple[int, int]:
        viewport = self.view.viewport()
        first = self.view.rowAt(0)
        last = self.view.rowAt(viewport.height() - 1)
        if first < 0:
            return 0, -1
        return first, last if last >= 0 else self.model.rowCount() - 1

    def poll(self) -> None:
        first, last = self.visible_rows()
        self.model.poll(first, last, set(self.launcher.executing))
        if self.model.newer_waiting:
            self._show_count(self.model.rowCount())

    def _note_scroll(self, _parent, _first: int, _last: int) -> None:
        self._scroll_before_insert = self.view.verticalScrollBar().value()

    def _keep_scroll(self, _parent, first: int, last: int) -> None:
        # New runs go on top. A user at the top sees them arrive; a user scrolled
        # down keeps the rows they were reading where they were.
        if first == 0 and self._scroll_before_insert > 0:
            height = self.view.verticalHeader().defaultSectionSize()
            self.view.verticalScrollBar().setValue(self._scroll_before_insert + (last - first + 1) * height)

    def refresh(self) -> None:
        self.model.reload()
        self.filter_dock.load_choices(self.db)
        self.trends_dock.show_for(self.db, self.model.run_filter)

    def selected_run_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        runs = [self.model.run_at(r) for r in rows]
        return [r.id for r in runs if r is not None]

    def _selection_changed(self, *_args) -> None:
        rows = [self.model.run_at(i.row()) for i in self.view.selectionModel().selectedRows()]
        self.open_run_action.setEnabled(any(r is not None for r in rows))
        self.cancel_action.setEnabled(any(r is not None and not r.status.finished for r in rows))

    def _clicked(self, index: QModelIndex) -> None:
        if index.column() == VIEW_COLUMN:
            self._open_index(index)

    def _open_index(self, index: QModelIndex) -> None:
        run_id = index.data(RunIdRole)
        if run_id is not None:
            self.open_run(run_id)

    def open_selected_run(self) -> None:
        index = self.view.currentIndex()
        if index.isValid() and index.data(RunIdRole) is not None:
            self.open_run(index.data(RunIdRole))
        else:
            for run_id in self.selected_run_ids()[:1]:
                self.open_run(run_id)

    def open_run(self, run_id: int) -> None:
        from enroller_desktop.ui.run_window import show_run_window

        try:
            show_run_window(self.db, run_id, self, settings=self.settings)
        except Exception as exc:  # noqa: BLE001 - a run that cannot be shown is a message, not a crash
            log.exception("cannot open run %s", run_id)
            self.statusBar().showMessage(f"Cannot open run {run_id}: {one_line(exc)}", 10000)

    def open_first_run(self) -> None:
        """Open the newest run's detail window (for --smoke), once the rows are read."""
        run = self.model.run_at(0)
        if run is not None:
            self.open_run(run.id)
        elif self.model.busy:
            self.model.reloaded.connect(self.open_first_run, Qt.ConnectionType.SingleShotConnection)

    def _table_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if index.isValid() and not self.view.selectionModel().isRowSelected(index.row(), QModelIndex()):
            self.view.selectionModel().select(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
        menu = QMenu(self)
        menu.addAction(self.open_run_action)
        menu.addAction(self.cancel_action)
        run = self.model.run_at(index.row()) if index.isValid() else None
        if run is not None:
            menu.addAction("Export Consent &Audit of its Campaign…", lambda: consent_view.export_consent_audit(self, run.id))
        menu.addAction(self.compare_action)
        menu.addSeparator()
        menu.addAction(self.new_run_action)
        menu.addAction(self.refresh_action)
        menu.exec(self.view.viewport().mapToGlobal(pos))

    def _header_menu(self, pos: QPoint) -> None:
        menu = QMenu(self)
        self._fill_columns_menu(menu)
        menu.exec(self.view.horizontalHeader().mapToGlobal(pos))

    def _fill_columns_menu(self, menu: QMenu) -> None:
        menu.clear()
        header = self.view.horizontalHeader()
        for column, spec in enumerate(COLUMNS):
            a = menu.addAction(spec.title or "View icon")
            a.setCheckable(True)
            a.setChecked(not header.isSectionHidden(column))
            a.toggled.connect(lambda shown, c=column: header.setSectionHidden(c, not shown))

    # -- export -----------------------------------------------------------------------

    def exported_columns(self) -> list[IndexColumn]:
        """The columns the user sees, in the order they see them (the header's
        sections can be moved and hidden); the view icon is not data."""
        header = self.view.horizontalHeader()
        logical = (header.logicalIndex(visual) for visual in range(header.count()))
        return [COLUMNS[c] for c in logical if not header.isSectionHidden(c) and COLUMNS[c].exported]

    def export_runs(self) -> None:
        """File ▸ Export Runs: every run of the current filter and sort, not only those loaded."""
        if self.export_status.refused():
            return
        has_times = any(column.kind == "time" for column in self.exported_columns())
        target = choose_export_path(self, self._export_folder / "enroller-runs.csv", self.settings, has_times=has_times)
        if target:
            self.start_export(target.path, times_as_shown=target.times_as_shown)

    def start_export(self, path: str, *, times_as_shown: bool = False) -> None:
        self._export_folder = Path(path).expanduser().parent
        db, run_filter, run_sort, columns = self.db, self.model.run_filter, self.model.run_sort, self.exported_columns()
        times = self.model.time_format if times_as_shown else None
        self.export_status.start(
            lambda state: export.export_runs(db, run_filter, run_sort, columns, path, progress=state.progress, cancel=state, times=times),
            "the runs",
            path,
        )

    # -- runs launched here -----------------------------------------------------------

    def new_run(self) -> None:
        from enroller_desktop.ui.new_run_dialog import NewRunDialog

        # The campaign of the run selected, else the filter's: a new run is most
        # often another run of the campaign being looked at.
        f = self.model.run_filter
        current = self.model.run_at(self.view.currentIndex().row()) if self.view.currentIndex().isValid() else None
        if current is not None and self.view.selectionModel().isRowSelected(self.view.currentIndex().row()):
            dialog = NewRunDialog(self.db, self, campaign_id=current.campaign_id, times=self.model.time_format)
        else:
            dialog = NewRunDialog(self.db, self, organization_id=f.organization_id, campaign_id=f.campaign_id,
                                  times=self.model.time_format)
        dialog.accepted.connect(lambda: self._run_created(dialog))
        dialog.open()

    def _run_created(self, dialog) -> None:
        run_id = dialog.run_id
        if dialog.run_now:
            self.launcher.execute(run_id)
            self.statusBar().showMessage(f"Run {run_id} started", 5000)
        else:
            self.statusBar().showMessage(f"Run {run_id} scheduled", 5000)
            self.launcher.launch_due()  # counts it among the runs waiting at once
        self.poll()

    def _run_finished(self, run_id: int) -> None:
        self.model.set_progress(run_id, None)
        first, last = self.visible_rows()
        self.model.poll(first, last, {run_id})

    def recover_interrupted_runs(self) -> None:
        from enroller_desktop.engine import runs

        db = self.db
        self._tasks.run(lambda _s: runs.recover_interrupted(db), self._recovered, self._database_failed, name="recover interrupted")

    def _recovered(self, run_ids: list[int]) -> None:
        if run_ids:
            self.statusBar().showMessage(f"{len(run_ids)} run(s) found interrupted: marked as error", 10000)

    def cancel_selected_runs(self) -> None:
        runs = [self.model.run_at(i.row()) for i in self.view.selectionModel().selectedRows()]
        to_cancel = [r.id for r in runs if r is not None and not r.status.finished]
        if not to_cancel:
            return
        if self.confirm_cancel and not questions.confirm_cancel(self, to_cancel):
            return
        self.launcher.cancel(to_cancel)

    def _canceled(self, results: list) -> None:
        self.statusBar().showMessage("; ".join(r.message for r in results), 10000)
        self.poll()

    # -- databases --------------------------------------------------------------------

    def _show_database(self) -> None:
        self.setWindowTitle(f"Enroller Runs — {self.db.display_url}")
        self._database_answered()

    def _database_failed(self, message: str) -> None:
        self._show_database_state(f"⚠ Database not answering: {message} — retrying", alarm=True)

    def _database_answered(self) -> None:
        self._show_database_state(f"Connected to {self.db.display_url}")

    def _show_database_state(self, text: str, *, alarm: bool = False) -> None:
        # Cut in the middle: a long URL or message must not push the run count out of the status bar.
        label = self.database_label
        label.setText(label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, DATABASE_LABEL_WIDTH))
        label.setToolTip(f"{text}\nWhat is shown stays; the window reconnects by itself." if alarm else text)
        label.setStyleSheet(f"color: {theme.alarm()}" if alarm else "")

    def choose_sqlite_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a SQLite database", "", "SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)")
        if path:
            self.open_url(f"sqlite:///{Path(path).resolve()}")

    def choose_server(self, url: str = "", problem: str = "") -> None:
        """The Connect dialog; an Open that fails comes back to it with the URL as
        typed and the reason, so nothing typed is lost."""
        dialog = databases.ConnectDialog(self, url=url or "")
        dialog.result_label.setText(f"Cannot open: {problem}" if problem else "")
        if dialog.exec() == databases.ConnectDialog.DialogCode.Accepted:
            typed = dialog.url()
            self.open_url(typed, on_failure=lambda message: self.choose_server(typed, message))

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.get("databases/recent")
        if not recent:
            self.recent_menu.addAction("(none yet)").setEnabled(False)
        for url in recent:
            self.recent_menu.addAction(url, lambda u=url: self.open_recent(u))

    def open_recent(self, url: str) -> None:
        if databases.needs_password(url):
            password = databases.stored_password(url)
            if password is None:
                self.choose_server(url)
                return
            url = databases.with_password(url, password)
        self.open_url(url)

    def open_url(self, url: str, *, on_failure=None) -> None:
        """Open another database (off the interface thread) and show its runs."""
        self.statusBar().showMessage(f"Opening {databases.without_password(url)}…")

        def failed(message: str) -> None:
            self.statusBar().clearMessage()
            (on_failure or self._open_failed)(message)

        self._tasks.run(lambda _s: open_database(url), self.switch_database, failed, name="open database")

    def warn(self, title: str, message: str) -> QMessageBox:
        """A warning that leaves the window usable behind it (not a nested event loop)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    def _open_failed(self, message: str) -> None:
        self.statusBar().clearMessage()
        QMessageBox.warning(self, "Cannot open the database", message)

    def switch_database(self, db: Database) -> None:
        if self.launcher.executing:
            self.statusBar().showMessage("Runs launched here keep executing on the database they started on", 10000)
        old = self.db
        self.db = db
        self.launcher.set_database(db)
        self.welcome.set_database(db)
        self._check_empty()
        databases.remember_recent(self.settings, db.url)
        self.model.set_database(db)
        self.filter_dock.load_choices(db)
        self.trends_dock.show_for(db, self.model.run_filter)
        self._show_database()
        self.statusBar().showMessage(f"Opened {db.display_url}", 5000)
        if not self.launcher.executing:
            old.dispose()

    # -- help -------------------------------------------------------------------------

    def show_column_definitions(self) -> None:
        help_dialogs.ColumnDefinitionsDialog(self).open()

    def about(self) -> QMessageBox:
        return help_dialogs.show_about(self, self.db)

    def open_log_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_dir())))

