"""What each check alone holds back, beside the funnel (Summary tab) and per query
param (Query Params tab).

Two small tables fed by one read off the interface thread: for each condition
(the three channel checks as one, see :mod:`enroller_desktop.db.explain_queries`),
how many potentials failed it and no other — they would be eligible if it alone
passed — and how many failed it among others. A double-click on a condition asks
the run window for the Potentials that failed only it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from enroller_desktop.db import explain_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.ui.background import Tasks

CONDITIONS = explain_queries.CONDITIONS
TITLES = explain_queries.CONDITION_TITLES
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
#: The narrowest the run's table gets in a small window (it scrolls then).
MINIMUM_WIDTH = 160


def _read(db: Database, run_id: int):
    with db.read() as conn:
        return explain_queries.sole_blockers(conn, run_id), explain_queries.query_param_blockers(conn, run_id)


def _table(rows: int, columns: list[str]) -> QTableWidget:
    table = QTableWidget(rows, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    rows_header = table.verticalHeader()
    rows_header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows_header.setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.horizontalHeader().setHighlightSections(False)
    return table


def _number(value: int) -> QTableWidgetItem:
    item = QTableWidgetItem(f"{value:,}")
    item.setTextAlignment(_RIGHT)
    return item


class SoleBlockerTables(QObject):
    """``run_table`` (one row per condition) and ``param_table`` (one row per query
    param, a column per condition: "alone / among others") of one run."""

    loaded = Signal()
    condition_activated = Signal(str)  # a condition of explain_queries.CONDITIONS

    def __init__(self, db: Database, run_id: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db, self.run_id = db, run_id
        self._tasks = Tasks(self, threads=1)
        self.blockers: explain_queries.SoleBlockers | None = None

        self.run_table = _table(len(CONDITIONS), ["Condition", "Fails alone", "Among others"])
        self.run_table.verticalHeader().hide()
        self.run_table.setToolTip("Fails alone: potentials that would be eligible if this check alone passed "
                                  "(double-click to list them). Among others: potentials that failed it and another.")
        # As wide as its words and counts, no wider: the funnel beside it gets the
        # room. It may be narrower (scrolled) in a small window, which it never widens.
        self.run_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.run_table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.run_table.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
        self.run_table.setMinimumWidth(MINIMUM_WIDTH)
        for row, name in enumerate(CONDITIONS):
            self.run_table.setItem(row, 0, QTableWidgetItem(TITLES[name]))
        height = self.run_table.horizontalHeader().sizeHint().height() + len(CONDITIONS) * self.run_table.verticalHeader().defaultSectionSize() + 4
        self.run_table.setFixedHeight(height)
        self._fit_run_table()
        self.run_table.cellDoubleClicked.connect(lambda row, _column: self.condition_activated.emit(CONDITIONS[row]))

        self.param_table = _table(0, ["Query Param", *(TITLES[name].split(" (")[0] for name in CONDITIONS)])
        self.param_table.verticalHeader().hide()
        self.param_table.setToolTip("Each cell: potentials of the query param that failed this check alone / among others")
        header = self.param_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.param_pane = QWidget()
        layout = QVBoxLayout(self.param_pane)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("What each check alone holds back, per query param: potentials that failed it alone / among others")
        title.setWordWrap(True)  # never what keeps the window wide
        layout.addWidget(title)
        layout.addWidget(self.param_table)

    def _fit_run_table(self) -> None:
        table = self.run_table
        table.resizeColumnsToContents()
        table.setMaximumWidth(table.horizontalHeader().length() + 2 * table.frameWidth())

    def refresh(self) -> None:
        if self._tasks.busy:
            return  # the previous read is still running; its answer is as fresh
        db, run_id = self.db, self.run_id
        self._tasks.run(lambda state: _read(db, run_id), self._show, name=f"run {run_id} sole blockers")

    def _show(self, result) -> None:
        blockers, params = result
        self.blockers = blockers
        for row, name in enumerate(CONDITIONS):
            self.run_table.setItem(row, 1, _number(blockers.alone[name]))
            self.run_table.setItem(row, 2, _number(blockers.among_others[name]))
        self._fit_run_table()
        self.param_table.setRowCount(len(params))
        for row, param in enumerate(params):
            self.param_table.setItem(row, 0, QTableWidgetItem(f"{param.process_order}. {param.name}"))
            for column, name in enumerate(CONDITIONS, start=1):
                item = QTableWidgetItem(f"{param.blockers.alone[name]:,} / {param.blockers.among_others[name]:,}")
                item.setTextAlignment(_RIGHT)
                self.param_table.setItem(row, column, item)
        self.loaded.emit()
