"""The Compare window: what changed between two runs of one campaign.

Opened from the main window with two runs selected (Runs ▸ Compare Runs, the
table's context menu, Ctrl+Shift+D). A small table counts the potentials that
entered, left, became eligible or lost eligibility, and each check's changes;
below it, a lazy list of the potentials whose outcome differs, each with the
checks that changed in words, filterable by kind of change, sortable by any
column (a click on its header: sorted in SQL, read in keyset pages) and
exportable to CSV (Ctrl+E) in the order shown. Run A is the older of the two.
Every query runs off the interface thread.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from enroller_desktop import explain, export, tables
from enroller_desktop.db import explain_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.ui import theme
from enroller_desktop.ui.background import Tasks
from enroller_desktop.ui.exporting import ExportProgress, add_export_and_close_shortcuts, choose_export_path
from enroller_desktop.ui.table_models import PagedTableModel
from enroller_desktop.ui.time_format import without_organization

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

#: The list's filter: (shown, kind of change) in order.
KIND_CHOICES = [("Any change", None)] + [(title, kind) for kind, title in explain.CHANGE_TITLES.items()] + [
    (f"{title} changed", f"changed:{name}") for name, title in explain.COMPARED_TITLES.items()]


def _read(db: Database, first: int, second: int):
    with db.read() as conn:
        run_a, run_b = explain_queries.run_pair(conn, first, second)
        return run_a, run_b, explain_queries.compare_runs(conn, run_a.id, run_b.id)


def _describe(run) -> str:
    return f"run {run.id} · {run.purpose.label} · {run.status.label} · {without_organization().shown(run.created_at)}"


class CompareWindow(QMainWindow):
    loaded = Signal()  # the counts are shown and the list is set
    refused = Signal(str)  # the runs cannot be compared: why
    export_finished = Signal(object)

    def __init__(self, db: Database, first: int, second: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.db = db
        self.comparison: explain_queries.Comparison | None = None
        self.model: PagedTableModel | None = None
        self._tasks = Tasks(self, threads=1)
        self._export_folder = Path.home()
        self.setWindowTitle(f"Compare runs {first} and {second}")

        self.header = QLabel("Comparing…")
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        self.counts = QTableWidget(0, 2)
        self.counts.setHorizontalHeaderLabels(["What changed (A → B)", "Potentials"])
        self.counts.verticalHeader().hide()
        self.counts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.counts.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.counts.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.counts.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.counts.setAlternatingRowColors(True)
        self.counts.cellDoubleClicked.connect(self._show_kind_of_row)

        self.kind_filter = QComboBox()
        for title, _kind in KIND_CHOICES:
            self.kind_filter.addItem(title)
        self.kind_filter.currentIndexChanged.connect(self._apply_kind)
        self.count_label = QLabel("")
        self.export_button = QPushButton(theme.icon("export"), "Export…")
        self.export_button.setToolTip("Export the potentials listed to CSV (Ctrl+E)")
        self.export_button.clicked.connect(self.export_list)
        self.view = QTableView()
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        self.view.horizontalHeader().setStretchLastSection(True)

        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Potentials whose outcome differs:"))
        bar.addWidget(self.kind_filter)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.export_button)
        lower_layout.addLayout(bar)
        lower_layout.addWidget(self.view)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.counts)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.header)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

        self.export_status = ExportProgress(self)
        self.export_status.finished.connect(self.export_finished)
        self.export_status.runningChanged.connect(lambda running: self.export_button.setEnabled(not running))
        add_export_and_close_shortcuts(self, self.export_list)
        self.resize(1100, 720)
        self._tasks.run(lambda state: _read(db, first, second), self._show, self._refuse, name="compare runs")

    def _show(self, result) -> None:
        run_a, run_b, compared = result
        self.comparison = compared
        self.setWindowTitle(f"{run_a.campaign_name} — compare run {run_a.id} with run {run_b.id}")
        self.header.setText(f"{run_a.organization_name} · {run_a.campaign_name}\nA: {_describe(run_a)}\nB: {_describe(run_b)}")
        rows: list[tuple[str, int, str | None]] = [
            (explain.CHANGE_TITLES[key], getattr(compared, key), key)
            for key in ("entered", "left", "became_eligible", "lost_eligibility")]
        for name, moves in compared.checks.items():
            for transition, count in moves.items():
                if count:
                    rows.append((f"{explain.COMPARED_TITLES[name]}: {explain.TRANSITION_TEXT[transition]}", count, f"changed:{name}"))
        self._row_kinds = [kind for _title, _count, kind in rows]
        self.counts.setRowCount(len(rows))
        for row, (title, count, _kind) in enumerate(rows):
            self.counts.setItem(row, 0, QTableWidgetItem(title))
            item = QTableWidgetItem(f"{count:,}")
            item.setTextAlignment(_RIGHT)
            self.counts.setItem(row, 1, item)
        self.counts.resizeRowsToContents()
        self.model = PagedTableModel(self.db, explain.DIFFERENCES, explain.difference_source(run_a.id, run_b.id).listing, self)
        self.model.count_changed.connect(lambda n: self.count_label.setText(f"{n:,} potential{'' if n == 1 else 's'}"))
        self.view.setModel(self.model)
        for column, width in enumerate((110, 120, 170, 120, 95, 95)):
            self.view.setColumnWidth(column, width)
        # Sorted in SQL by the column clicked (the model's sort); none at first: by potential.
        header = self.view.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSortingEnabled(True)
        self.loaded.emit()

    def _refuse(self, message: str) -> None:
        self.header.setText(message)
        self.refused.emit(message)

    def _show_kind_of_row(self, row: int, _column: int) -> None:
        kind = self._row_kinds[row]
        self.kind_filter.setCurrentIndex([k for _t, k in KIND_CHOICES].index(kind))

    def _apply_kind(self, index: int) -> None:
        if self.model is None:
            return
        # The sort stays: only the kind of change is replaced.
        self.model.set_listing(dataclasses.replace(self.model.listing, kind=KIND_CHOICES[index][1]))

    def current_source(self) -> tables.TableSource:
        return tables.TableSource(explain.DIFFERENCES, listing=self.model.listing)

    def export_list(self) -> None:
        if self.model is None or self.export_status.refused():
            return
        listing = self.model.listing
        # The differences hold no time: the dialog's "Times as shown" is offered disabled.
        target = choose_export_path(self, self._export_folder / f"compare-{listing.run_a}-{listing.run_id}.csv", None,
                                    has_times=False)
        if target:
            self.start_export(target.path)

    def start_export(self, path: str) -> None:
        self._export_folder = Path(path).expanduser().parent
        db, source = self.db, self.current_source()
        self.export_status.start(lambda state: export.export_source(db, source, path, progress=state.progress, cancel=state),
                                 "the differences", path)

    def closeEvent(self, event) -> None:
        self.export_status.cancel()
        super().closeEvent(event)


def show_compare_window(db: Database, first: int, second: int, parent: QWidget | None = None) -> CompareWindow:
    window = CompareWindow(db, first, second, parent)
    window.show()
    window.raise_()
    window.activateWindow()
    return window
