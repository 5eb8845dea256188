"""The Workers dock: every ``worker`` registered in the database, its state
(running, idle, lost, stopped), its current run (double-click opens it), its last
heartbeat and the runs it did today.

The list is short (a dealer group runs a few workers), so it is read whole, off
the interface thread, every ``REFRESH_MS`` while the dock is shown, and never
while it is hidden.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.engine.runs import utcnow
from enroller_desktop.engine.worker_registry import WorkerInfo, WorkerState, list_workers
from enroller_desktop.run_index import format_count
from enroller_desktop.ui.background import Tasks
from enroller_desktop.ui.index_model import STATUS_COLOURS
from enroller_desktop.ui.time_format import without_organization

def _time(value) -> str:
    return without_organization().shown(value)


#: How often the shown list is read again: the workers heartbeat every 5 s.
REFRESH_MS = 5_000

#: A worker's state in the colours of the run status it resembles.
STATE_COLOURS = {
    WorkerState.RUNNING: STATUS_COLOURS[RunStatus.IN_PROGRESS],
    WorkerState.IDLE: STATUS_COLOURS[RunStatus.COMPLETED],
    WorkerState.LOST: STATUS_COLOURS[RunStatus.ERROR],
    WorkerState.STOPPED: STATUS_COLOURS[RunStatus.NOT_APPLICABLE],
}

RunIdRole = Qt.ItemDataRole.UserRole + 1


def _ago(moment: dt.datetime, now: dt.datetime) -> str:
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


#: (title, text of a worker at a time), built once; data() only indexes them.
WORKER_COLUMNS: tuple[tuple[str, Callable[[WorkerInfo, dt.datetime], str]], ...] = (
    ("Name", lambda w, now: w.name),
    ("State", lambda w, now: w.state.label),
    ("Current Run", lambda w, now: "" if w.current_run_id is None else str(w.current_run_id)),
    ("Last Heartbeat", lambda w, now: f"{_time(w.heartbeat_at)} ({_ago(w.heartbeat_at, now)})"),
    ("Runs Today", lambda w, now: format_count(w.runs_today)),
    ("Runs Done", lambda w, now: format_count(w.runs_done)),
    ("Host", lambda w, now: w.host),
    ("Pid", lambda w, now: str(w.pid)),
    ("Version", lambda w, now: w.version),
    ("Started", lambda w, now: _time(w.started_at)),
)
STATE_COLUMN = 1
RUN_COLUMN = 2
#: Numbers line up on the right, as in the runs table.
NUMBER_COLUMNS = frozenset({RUN_COLUMN, 4, 5, 7})


class WorkersModel(QAbstractTableModel):
    """The workers as read at one moment (``now``), one row each."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.workers: list[WorkerInfo] = []
        self.now = utcnow()

    def set_workers(self, workers: list[WorkerInfo], now: dt.datetime) -> None:
        self.beginResetModel()
        self.workers, self.now = workers, now
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.workers)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(WORKER_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(WORKER_COLUMNS):
            return WORKER_COLUMNS[section][0]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        worker = self.workers[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return WORKER_COLUMNS[index.column()][1](worker, self.now)
        if role == RunIdRole:
            return worker.current_run_id
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in NUMBER_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if index.column() == STATE_COLUMN and role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            background, foreground = STATE_COLOURS[worker.state]
            return QColor(background if role == Qt.ItemDataRole.BackgroundRole else foreground)
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == RUN_COLUMN and worker.current_run_id is not None:
            return "Double-click to open the run"
        return None


class WorkersDock(QDockWidget):
    """Shows the workers of the window's database (``database()`` is asked at each
    refresh, so the dock follows the window to another database)."""

    openRun = Signal(int)
    refreshed = Signal()

    def __init__(self, database: Callable[[], Database], parent: QWidget | None = None) -> None:
        super().__init__("Workers", parent)
        self.setObjectName("workersDock")
        self.toggleViewAction().setText("&Workers")
        self._database = database
        self._tasks = Tasks(self, threads=1)
        self.model = WorkersModel(self)
        self._sized = False
        self.view = QTableView()
        self.view.setObjectName("workersTable")
        self.view.setAccessibleName("Workers")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.doubleClicked.connect(self._open)
        self.status = QLabel("No worker has registered with this database yet")
        self.status.setAccessibleName("Workers status")
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view)
        layout.addWidget(self.status)
        self.setWidget(body)

        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.visibilityChanged.connect(self._shown)

    def _shown(self, visible: bool) -> None:
        if visible:
            self.refresh()
            self.timer.start()
        else:
            self.timer.stop()

    def refresh(self) -> None:
        if self._tasks.busy:  # the last read has not answered yet: no pile of reads on a slow server
            return
        db = self._database()
        self._tasks.run(lambda _state: (list_workers(db), utcnow()), self._show, self._failed, name="workers")

    def _show(self, result: tuple[list[WorkerInfo], dt.datetime]) -> None:
        workers, now = result
        selected = self._selected_id()
        self.model.set_workers(workers, now)
        if workers and not self._sized:  # once: later widths are the user's
            self.view.resizeColumnsToContents()
            self._sized = True
        for row, worker in enumerate(workers):
            if worker.id == selected:
                self.view.selectRow(row)
        alive = sum(w.state in (WorkerState.RUNNING, WorkerState.IDLE) for w in workers)
        lost = sum(w.state is WorkerState.LOST for w in workers)
        self.status.setText(
            f"{alive} alive, {lost} lost (no heartbeat for a minute), {len(workers) - alive - lost} stopped"
            if workers else "No worker has registered with this database yet")
        self.refreshed.emit()

    def _failed(self, message: str) -> None:
        self.status.setText(f"Cannot read the workers: {message}")
        self.refreshed.emit()

    def _selected_id(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.workers[rows[0].row()].id if rows and rows[0].row() < len(self.model.workers) else None

    def _open(self, index: QModelIndex) -> None:
        run_id = index.data(RunIdRole)
        if run_id is not None:
            self.openRun.emit(run_id)
