"""Qt models of tables defined by :mod:`enroller_desktop.tables` (titles and
shown values): the run window's (:mod:`enroller_desktop.run_detail`, read by
:mod:`enroller_desktop.db.detail_queries`), the customer window's and the
comparison's, and the run window's event tree.

The large tables (potentials, campaign customers) are :class:`PagedTableModel`:
the row count and the pages come from SQL on the thread pool; ``data()`` only
reads a cached page, and asks for it when missing. A page continues by keyset
from a neighbour already loaded, or is found by OFFSET after a scroll-bar jump.
A refresh (the run is still writing) keeps showing the old pages until the new
ones arrive. The small tables (summary, query params) and the event tree are
loaded whole by the window.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass

from PySide6.QtCore import QAbstractItemModel, QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QFont

from enroller_desktop.db.detail_queries import Listing
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunStep
from enroller_desktop.run_detail import EVENTS
from enroller_desktop.tables import Column, Table
from enroller_desktop.times import ShownTimes
from enroller_desktop.ui import theme
from enroller_desktop.ui.jobs import Job, JobState, keep_until_finished, start

PAGE_SIZE = 200
MAX_CACHED_PAGES = 60  # 12,000 rows: a few screens either side of where the user looks

_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)


_BOLD = QFont()
_BOLD.setBold(True)


def _cell_role(column: Column, text: str, role: int, tones: theme.Tones):
    """The styling roles of one cell, from its column's kind and its shown text."""
    if role == Qt.ItemDataRole.TextAlignmentRole:
        if column.kind == "number":
            return _RIGHT
        if column.kind == "check":
            return _CENTER
        return None
    if role == Qt.ItemDataRole.ForegroundRole and column.kind in ("check", "status", "level"):
        colour = tones.by_text.get(text)
        return QBrush(colour) if colour is not None else None
    if role == Qt.ItemDataRole.FontRole and column.kind in ("check", "level", "status") and text in ("Failed", "Error"):
        return _BOLD
    return None


@dataclass
class _Page:
    generation: int
    rows: list[list[str]]
    first_key: tuple | None
    last_key: tuple | None


class _TableModel(QAbstractTableModel):
    """What every table of a run shows alike: its columns, their titles, plain cells."""

    _table: Table

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._table.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._table.columns):
            return self._table.columns[section].title
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class PagedTableModel(_TableModel):
    """A large table of a run, read lazily in keyset pages off the interface thread."""

    count_changed = Signal(int)  # the number of rows matching the listing
    failed = Signal(str)
    page_loaded = Signal(int)  # the number of a page whose rows have just arrived

    def __init__(self, db: Database, table: Table, listing: Listing, parent: QObject | None = None, *,
                 times: ShownTimes | None = None) -> None:
        """``times`` gives a time cell's tooltip (its exact UTC value)."""
        super().__init__(parent)
        self._db = db
        self._times = times
        self._table = table
        self._listing = listing
        self._tones = theme.Tones()
        self._generation = 0
        self._rows = 0
        self._count: int | None = None
        self._pages: OrderedDict[int, _Page] = OrderedDict()
        self._pending: set[tuple[int, int]] = set()
        self._load()

    # -- what the window asks -------------------------------------------------------

    @property
    def listing(self) -> Listing:
        return self._listing

    @property
    def table(self) -> Table:
        return self._table

    @property
    def total(self) -> int | None:
        """How many rows match, once counted."""
        return self._count

    @property
    def busy(self) -> bool:
        return bool(self._pending) or self._count is None

    def set_listing(self, listing: Listing) -> None:
        """Show another filter or sort: the rows start over."""
        if listing == self._listing:
            return
        self._listing = listing
        self.beginResetModel()
        self._rows = 0
        self._count = None
        self._pages.clear()
        self.endResetModel()
        self._load()

    def set_table(self, table: Table, times: ShownTimes | None = None) -> None:
        """Show the same rows formatted anew (the run finished, so a reason changed;
        or the times are to be read on another clock)."""
        self._table = table
        self._times = times or self._times
        self.refresh()

    def refresh(self) -> None:
        """Count and read again, showing the old rows until the new ones arrive."""
        self._generation += 1
        self._start_count()
        for page in list(self._pages):
            self._request(page)

    def row_text(self, row: int, column: int) -> str | None:
        page = self._pages.get(row // PAGE_SIZE)
        if page is None:
            return None
        rows = page.rows
        offset = row % PAGE_SIZE
        return rows[offset][column] if offset < len(rows) else None

    # -- Qt model -------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._rows

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and 0 <= section < len(self._table.columns):
            column = self._table.columns[section]
            return f"Sort by {column.title}" if column.key in self._listing.SORT_KEYS else f"{column.title} (not sortable)"
        return super().headerData(section, orientation, role)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= self._rows:
            return None
        row, column = index.row(), index.column()
        page_no = row // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None or page.generation != self._generation:
            self._request(page_no)
        text = self.row_text(row, column)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if text is None:
                return "…" if role == Qt.ItemDataRole.DisplayRole and column == 0 else None
            if role == Qt.ItemDataRole.ToolTipRole and column in self._table.time_columns and text:
                return self.row_text(row, len(self._table.columns) + self._table.time_columns.index(column))
            return text
        if text is None:
            return None
        return _cell_role(self._table.columns[column], text, role, self._tones)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if column < 0:  # no sort column: the order the rows were written
            self.set_listing(dataclasses.replace(self._listing, sort=None, descending=False))
            return
        key = self._table.columns[column].key
        if key not in self._listing.SORT_KEYS:
            return
        self.set_listing(dataclasses.replace(self._listing, sort=key, descending=order == Qt.SortOrder.DescendingOrder))

    def sort_column(self) -> int:
        """The column the rows are sorted by, or -1 for the order they were written."""
        if self._listing.sort is None:
            return -1
        return self._table.column_index(self._listing.sort)

    # -- loading --------------------------------------------------------------------

    def _load(self) -> None:
        self._generation += 1
        self._request(0)  # first in the pool's queue: the first rows show before the count
        self._start_count()

    def _start_count(self) -> None:
        generation, listing, db = self._generation, self._listing, self._db

        def count(state: JobState) -> tuple[int, int | None]:
            if generation != self._generation:
                return generation, None  # the filter changed while this waited in the queue
            with db.read() as conn:
                return generation, listing.count(conn)

        self._run(Job(count, name="count rows"), self._counted)

    def _counted(self, result: tuple[int, int]) -> None:
        generation, count = result
        if generation != self._generation or count is None:
            return
        self._count = count
        self._resize(count)
        self.count_changed.emit(count)

    def _resize(self, rows: int) -> None:
        if rows > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, rows - 1)
            self._rows = rows
            self.endInsertRows()
        elif rows < self._rows:
            self.beginRemoveRows(QModelIndex(), rows, self._rows - 1)
            self._rows = rows
            self.endRemoveRows()

    def _request(self, page_no: int) -> None:
        generation = self._generation
        if (generation, page_no) in self._pending:
            return
        self._pending.add((generation, page_no))
        before = self._pages.get(page_no - 1)
        after = self._pages.get(page_no + 1)
        listing, table, db, times = self._listing, self._table, self._db, self._times
        previous_key = before.last_key if before and before.generation == generation and len(before.rows) == PAGE_SIZE else None
        next_key = after.first_key if after and after.generation == generation else None

        def read_page(state: JobState):
            if generation != self._generation:
                return generation, page_no, [], (None, None)  # no longer wanted
            with db.read() as conn:
                if page_no == 0:
                    rows = listing.page_after(conn, None, PAGE_SIZE)
                elif previous_key is not None:
                    rows = listing.page_after(conn, previous_key, PAGE_SIZE)
                elif next_key is not None:
                    rows = listing.page_before(conn, next_key, PAGE_SIZE)
                else:
                    rows = listing.page_at(conn, page_no * PAGE_SIZE, PAGE_SIZE)
            keys = (listing.key_of(rows[0]), listing.key_of(rows[-1])) if rows else (None, None)
            texts = list(map(table.formatter(rows[0]._fields), rows)) if rows else []
            # After the columns, each time's tooltip: its exact UTC value.
            tip_fields = [table.columns[index].fields[0] for index in table.time_columns]
            if times is not None and tip_fields:
                for text, row in zip(texts, rows):
                    text.extend(times.tooltip(getattr(row, name)) for name in tip_fields)
            return generation, page_no, texts, keys

        self._run(Job(read_page, name=f"page {page_no}"), self._page_read, lambda: self._pending.discard((generation, page_no)))

    def _page_read(self, result) -> None:
        generation, page_no, rows, (first_key, last_key) = result
        if generation != self._generation:
            return
        self._pages[page_no] = _Page(generation, rows, first_key, last_key)
        self._pages.move_to_end(page_no)
        while len(self._pages) > MAX_CACHED_PAGES:
            self._pages.popitem(last=False)
        start = page_no * PAGE_SIZE
        if self._count is None and page_no == 0:
            self._resize(len(rows))  # the first rows show before the count is known
        end = min(start + len(rows), self._rows) - 1
        if end >= start:
            self.dataChanged.emit(self.index(start, 0), self.index(end, self.columnCount() - 1))
        self.page_loaded.emit(page_no)

    def _run(self, job: Job, on_result, on_finished=None) -> None:
        keep_until_finished(job)
        job.signals.succeeded.connect(on_result)
        job.signals.failed.connect(self._failed)
        if on_finished is not None:
            job.signals.finished.connect(on_finished)
        start(job)

    def _failed(self, message: str, details: str) -> None:
        self.failed.emit(message)


class RowsTableModel(_TableModel):
    """A small table held whole: the Summary's fields, the query params."""

    def __init__(self, table: Table, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._table = table
        self._rows: list[list[str]] = []
        self._tips: list[dict[int, str]] = []
        self._tones = theme.Tones()
        self.emphasis: dict[int, str] = {}  # row -> "bad": a row that must stand out

    @property
    def table(self) -> Table:
        return self._table

    def set_rows(self, rows: list[list[str]], tips: list[dict[int, str]] | None = None) -> None:
        """``tips`` gives, per row, a column's tooltip where it is not the cell's
        text (a time's exact UTC value)."""
        self._tips = tips or []
        if len(rows) == len(self._rows):
            self._rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, self.columnCount() - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        text = self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.row() < len(self._tips) and index.column() in self._tips[index.row()]:
            return self._tips[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return text
        if self.emphasis.get(index.row()) == "bad":
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(self._tones.bad)
            if role == Qt.ItemDataRole.FontRole:
                return _BOLD
        return _cell_role(self._table.columns[index.column()], text, role, self._tones)


class EventTreeModel(QAbstractItemModel):
    """The run's events under the five stages the old help page names, each stage with its
    number of events; a stage holding an error is marked as one.

    Columns are those of the Events table without Stage, which is the grouping.
    """

    COLUMNS = EVENTS.columns[1:]

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._stages = list(RunStep)
        self._events: dict[RunStep, list[tuple[list[str], str, str]]] = {stage: [] for stage in self._stages}
        self._tones = theme.Tones()

    def set_events(self, events, times: ShownTimes | None = None) -> None:
        """``events`` are rows of :func:`detail_queries.run_events`; ``times`` shows
        their times (ISO 8601 UTC without it)."""
        table = EVENTS if times is None else EVENTS.for_screen(times)
        self.beginResetModel()
        self._events = {stage: [] for stage in self._stages}
        for event in events:
            exact = times.tooltip(event.created_at) if times is not None else ""
            self._events[event.stage].append((table.format(event)[1:], event.level.value, exact))
        self.endResetModel()

    # Internal ids: 0 for a stage row, 1 + stage position for an event row under it.
    def index(self, row: int, column: int, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0)
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index=QModelIndex()):  # type: ignore[override]
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if not parent.isValid():
            return len(self._stages)
        if parent.internalId() == 0 and parent.column() == 0:
            return len(self._events[self._stages[parent.row()]])
        return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self.COLUMNS):
            return self.COLUMNS[section].title
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if index.internalId() == 0:
            return self._stage_data(self._stages[index.row()], index.column(), role)
        cells, level, exact = self._events[self._stages[index.internalId() - 1]][index.row()]
        text = cells[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and self.COLUMNS[index.column()].kind == "time" and exact:
            return exact
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return text  # the whole message, however narrow its column
        if level == "error" and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(self._tones.bad)
        if level == "error" and role == Qt.ItemDataRole.FontRole:
            return _BOLD
        if level == "warning" and role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(self._tones.warn)
        return _cell_role(self.COLUMNS[index.column()], text, role, self._tones)

    def _stage_data(self, stage: RunStep, column: int, role: int):
        events = self._events[stage]
        errors = sum(1 for _, level, _exact in events if level == "error")
        if role == Qt.ItemDataRole.DisplayRole:
            if column != 0:
                return ""
            noun = "event" if len(events) == 1 else "events"
            suffix = f", {errors} error{'s' if errors > 1 else ''}" if errors else ""
            return f"{stage.label} — {len(events)} {noun}{suffix}"
        if role == Qt.ItemDataRole.FontRole:
            return _BOLD
        if role == Qt.ItemDataRole.ForegroundRole and errors:
            return QBrush(self._tones.bad)
        return None
