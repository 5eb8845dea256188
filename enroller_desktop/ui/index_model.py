"""The runs table: a lazy model over the Enroller Runs index, and its delegates.

The model knows how many runs match (one COUNT) and holds a slot per row; a row
is read when the view first paints it, a page at a time, by keyset from a
neighbouring row (:mod:`enroller_desktop.db.index_queries`). Nothing is sorted or
filtered in Python. ``data()`` does almost nothing: each column's formatter is
built once, from the column definitions of :mod:`enroller_desktop.run_index`
(which the CSV export reads too). Every query runs on a thread pool; the
interface thread only places rows that arrived.

Times are shown as :attr:`IndexModel.time_format` says (View ▸ Time Zone); when
each run is read on its own organization's clock and the organizations use
several zones, every time names its zone (the reload reads the zones in use).
A time's tooltip is its exact UTC value.

Live: :meth:`IndexModel.poll` re-reads the visible runs that are not finished
(and those this window executes), and asks for runs created since the last look.
In the default order (newest first) new runs are put on top, keeping the user's
selection and the rows on screen where they were; in any other order a new run's
place is somewhere in the middle, so the model only counts them
(:attr:`IndexModel.newer_waiting`) until the user refreshes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from enroller_desktop.db import index_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.db.index_queries import NEWEST_FIRST, RunFilter, IndexRow, RunSort
from enroller_desktop.run_index import COLUMN_OF_KEY, COLUMNS, HIDDEN_AT_FIRST, STATUS_COLUMN, VIEW_COLUMN, overdue_since
from enroller_desktop.times import TimeFormat, ZoneChoice, zone
from enroller_desktop.ui import theme
from enroller_desktop.ui.background import Tasks
from enroller_desktop.ui.jobs import JobState

log = logging.getLogger(__name__)

PAGE_SIZE = 200
#: The badge of a scheduled run past its time (its tooltip says since when). Short
#: enough for the status column's width: "Scheduled · overdue" was cut at both ends.
OVERDUE_LABEL = "Overdue"

RawRole = Qt.ItemDataRole.UserRole + 1  # the value as read (sort key for tests, delegates)
RunIdRole = Qt.ItemDataRole.UserRole + 2
ProgressRole = Qt.ItemDataRole.UserRole + 3  # fraction 0..1 of a run this window executes
OverdueRole = Qt.ItemDataRole.UserRole + 4  # when a run still scheduled fell due, else None

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class IndexModel(QAbstractTableModel):
    """The runs that match a filter, in a sort, read lazily (see the module doc)."""

    databaseFailed = Signal(str)  # a one-line reason; what is shown stays
    databaseAnswered = Signal()
    reloaded = Signal()  # a new filter or sort has its first rows
    countChanged = Signal(int)

    def __init__(self, db: Database, parent: QObject | None = None, *, page_size: int = PAGE_SIZE) -> None:
        super().__init__(parent)
        self._db = db
        self._page_size = page_size
        self._tasks = Tasks(self)
        self._filter = RunFilter()
        self._sort = NEWEST_FIRST
        self._generation = 0
        self._placed_generation = 0  # the generation whose rows and watermark are held
        self._rows: list[IndexRow | None] = []
        self._watermark = 0
        self._shift = 0  # rows put on top since the last reload: moves pages in flight
        self._pending_pages: set[int] = set()
        self._failed_pages: set[int] = set()
        self._progress: dict[int, float] = {}
        self._polling = False
        self._reload_failed = False
        self._up = True
        self.newer_waiting = 0
        self._chosen = TimeFormat()
        self._zones_in_use: frozenset[str] = frozenset()
        self._apply_time_format()
        self._raw = [c.raw for c in COLUMNS]
        self._alignment = [_RIGHT if c.numeric else _LEFT for c in COLUMNS]

    # -- what the window asks for ---------------------------------------------------

    @property
    def run_filter(self) -> RunFilter:
        return self._filter

    @property
    def run_sort(self) -> RunSort:
        return self._sort

    @property
    def time_format(self) -> TimeFormat:
        """How the times are shown now (with the zone's abbreviation when rows mix zones)."""
        return self._times

    def set_time_format(self, chosen: TimeFormat) -> None:
        """Show the times another way (the View menu's zone choice); nothing is read again."""
        self._chosen = chosen
        self._apply_time_format()

    def _apply_time_format(self) -> None:
        mixed = self._chosen.choice is ZoneChoice.ORGANIZATION and len(self._zones_in_use) > 1
        self._times = dataclasses.replace(self._chosen, abbreviate=mixed)
        self._display = [c.shown(self._times) for c in COLUMNS]
        self._time_tips = [c.tooltip(self._times) for c in COLUMNS]
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1),
                                  [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole])

    @property
    def database(self) -> Database:
        return self._db

    def set_database(self, db: Database) -> None:
        self._db = db
        self._progress.clear()
        self.reload()

    def configure(self, run_filter: RunFilter, run_sort: RunSort) -> None:
        """Filter and sort at once: one read."""
        self._filter, self._sort = run_filter, run_sort
        self.reload()

    def set_filter(self, run_filter: RunFilter) -> None:
        self._filter = run_filter
        self.reload()

    def set_sort(self, run_sort: RunSort) -> None:
        if run_sort != self._sort:
            self._sort = run_sort
            self.reload()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.set_sort(RunSort(COLUMNS[column].key, order == Qt.SortOrder.DescendingOrder))

    def run_at(self, row: int) -> IndexRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of_run(self, run_id: int) -> int | None:
        """The row of a loaded run (runs near the top are found first)."""
        for row, run in enumerate(self._rows):
            if run is not None and run.id == run_id:
                return row
        return None

    def set_progress(self, run_id: int, fraction: float | None) -> None:
        """Shown as a bar in the Status cell of a run this window executes."""
        if fraction is None:
            self._progress.pop(run_id, None)
        else:
            self._progress[run_id] = fraction
        row = self.row_of_run(run_id)
        if row is not None:
            index = self.index(row, STATUS_COLUMN)
            self.dataChanged.emit(index, index, [ProgressRole])

    def is_loaded(self, first: int, last: int) -> bool:
        return all(r is not None for r in self._rows[first : last + 1])

    @property
    def busy(self) -> bool:
        return self._tasks.busy

    # -- Qt's model interface -------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, column = index.row(), index.column()
        run = self._rows[row]
        if run is None:
            if role == Qt.ItemDataRole.DisplayRole:
                self._request_page(row // self._page_size)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display[column](run)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment[column]
        if role == RawRole:
            return self._raw[column](run)
        if role == RunIdRole:
            return run.id
        if role == ProgressRole:
            return self._progress.get(run.id) if column == STATUS_COLUMN else None
        if role == OverdueRole:
            return overdue_since(run, dt.datetime.now(dt.timezone.utc)) if column == STATUS_COLUMN else None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == VIEW_COLUMN:
                return f"Open run {run.id} (Enter)"
            if column == STATUS_COLUMN and (since := overdue_since(run, dt.datetime.now(dt.timezone.utc))):
                return f"Overdue since {self._times.shown(since, run.organization_timezone)}: it runs when a window or a worker is open on this database"
            if column == STATUS_COLUMN and run.error_message:
                return run.error_message
            tip = self._time_tips[column]
            if tip is not None:
                return tip(run)
            if column in _ELIDED_COLUMNS:  # narrow columns: the whole text on hover
                return self._display[column](run)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADER_TEXTS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMNS[section].definition
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment[section]
        return None

    # -- reading ----------------------------------------------------------------------

    def reload(self) -> None:
        """Count the runs of the current filter and read the first page; what is
        shown stays until they arrive."""
        self._generation += 1
        generation, run_filter, run_sort, limit = self._generation, self._filter, self._sort, self._page_size

        def read(state: JobState):
            with self._db.read() as conn:
                watermark = index_queries.max_run_id(conn)
                total = index_queries.count_runs(conn, run_filter, watermark=watermark)
                first = index_queries.page(conn, run_filter, run_sort, limit=limit, watermark=watermark)
                zones = frozenset(zone(name).key for name in index_queries.organization_zones(conn))
            return watermark, total, first, zones

        def placed(result) -> None:
            if generation != self._generation:
                return
            watermark, total, first, zones = result
            if zones != self._zones_in_use:
                self._zones_in_use = zones
                self._apply_time_format()
            self.beginResetModel()
            self._rows = [None] * total
            self._rows[: len(first)] = first
            self._watermark = watermark
            self._shift = 0
            self.newer_waiting = 0
            self._pending_pages.clear()
            self._failed_pages.clear()
            self._reload_failed = False
            self._placed_generation = generation
            self.endResetModel()
            self.countChanged.emit(total)
            self.reloaded.emit()

        def failed() -> None:
            if generation == self._generation:
                self._reload_failed = True

        self._run(read, placed, name="runs reload", on_failure=failed)

    def _request_page(self, page: int) -> None:
        if page in self._pending_pages or page in self._failed_pages:
            return
        start_row = page * self._page_size
        end_row = min(start_row + self._page_size, len(self._rows))  # exclusive
        if start_row >= end_row:
            return
        self._pending_pages.add(page)
        generation, shift, run_filter, run_sort, watermark = (
            self._generation,
            self._shift,
            self._filter,
            self._sort,
            self._watermark,
        )
        # Continue from a loaded neighbour by keyset; else read the end backwards;
        # else (a jump to the middle) seek once by offset.
        query: dict[str, Any] = {"limit": end_row - start_row}
        align_end = False
        before_row = self._rows[start_row - 1] if start_row > 0 else None
        after_row = self._rows[end_row] if end_row < len(self._rows) else None
        if before_row is not None:
            query["after"] = before_row.sort_key
        elif after_row is not None:
            query["before"] = after_row.sort_key
            align_end = True
        elif end_row == len(self._rows):
            query["from_end"] = True
            align_end = True
        elif start_row:
            query["offset"] = start_row

        def read(state: JobState):
            with self._db.read() as conn:
                return index_queries.page(conn, run_filter, run_sort, watermark=watermark, **query)

        def placed(rows: list[IndexRow]) -> None:
            self._pending_pages.discard(page)
            if generation != self._generation or not rows:
                return
            moved = self._shift - shift
            first = (end_row - len(rows) if align_end else start_row) + moved
            first = max(0, min(first, len(self._rows) - len(rows)))
            self._rows[first : first + len(rows)] = rows
            self.dataChanged.emit(self.index(first, 0), self.index(first + len(rows) - 1, len(COLUMNS) - 1))

        def failed() -> None:
            self._pending_pages.discard(page)
            if generation == self._generation:
                self._failed_pages.add(page)

        self._run(read, placed, name=f"runs page {page}", on_failure=failed)

    def poll(self, first_row: int, last_row: int, watched: set[int] = frozenset()) -> None:
        """Re-read the visible unfinished runs and the ``watched`` ones, and look
        for new runs. A poll still waiting for the database is not doubled."""
        if self._polling:
            return
        if self._placed_generation != self._generation and not self._reload_failed:
            # A reload is on its way: the watermark held is the old filter's or
            # database's, and newer_runs() over it would put runs on top twice.
            return
        self._polling = True
        generation, run_filter, run_sort, watermark = self._generation, self._filter, self._sort, self._watermark
        visible = [r for r in self._rows[max(0, first_row) : last_row + 1] if r is not None]
        ids = {r.id for r in visible if not r.status.finished} | set(watched)
        newest_first = run_sort.key in ("created_at", "id")
        reload_wanted = self._reload_failed

        def read(state: JobState):
            with self._db.read() as conn:
                changed = index_queries.runs_by_id(conn, sorted(ids), run_sort)
                newer = index_queries.newer_runs(conn, run_filter, run_sort, watermark=watermark)
            return changed, newer

        def placed(result) -> None:
            self._polling = False
            if reload_wanted:
                self.reload()
                return
            if generation != self._generation:
                return
            changed, newer = result
            self._apply_changes(changed)
            if newer:
                if newest_first:
                    self._put_newer(newer)
                else:
                    self.newer_waiting = len(newer)
            if self._failed_pages:
                # The database is back: let the rows it could not give be asked again.
                self._failed_pages.clear()
                if self._rows:
                    self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(COLUMNS) - 1))

        def failed() -> None:
            self._polling = False

        self._run(read, placed, name="runs poll", on_failure=failed)

    def _apply_changes(self, changed: list[IndexRow]) -> None:
        by_id = {r.id: r for r in changed}
        if not by_id:
            return
        for row, run in enumerate(self._rows):
            if run is not None and run.id in by_id:
                fresh = by_id.pop(run.id)
                # An in-progress run's duration grows even when nothing else changed.
                if fresh != run or fresh.status is RunStatus.IN_PROGRESS:
                    self._rows[row] = fresh
                    self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
                if not by_id:
                    break

    def _put_newer(self, newer: list[IndexRow]) -> None:
        self._watermark = max(self._watermark, max(r.id for r in newer))
        count = len(newer)
        if self._sort.descending:
            self.beginInsertRows(QModelIndex(), 0, count - 1)
            self._rows[0:0] = newer
            self._shift += count
        else:
            at = len(self._rows)
            self.beginInsertRows(QModelIndex(), at, at + count - 1)
            self._rows.extend(newer)
        self.endInsertRows()
        self.countChanged.emit(len(self._rows))

    def _run(self, fn, on_success, *, name: str, on_failure: Callable[[], None] | None = None) -> None:
        def succeeded(result) -> None:
            if not self._up:
                self._up = True
                log.info("database answers again")
            self.databaseAnswered.emit()
            on_success(result)

        def failed(message: str) -> None:
            if on_failure:
                on_failure()
            if self._up:
                log.warning("database does not answer: %s", message)
            self._up = False
            self.databaseFailed.emit(message)

        self._tasks.run(fn, succeeded, failed, name=name)

    def shutdown(self) -> None:
        """Wait for the queries in flight (closing the window)."""
        self._generation += 1
        self._tasks.wait()


# -- delegates ---------------------------------------------------------------------------

#: The columns narrowed to fit a 1366-pixel window, their text elided (whole in the tooltip).
_ELIDED_COLUMNS = frozenset(COLUMN_OF_KEY[key] for key in ("organization", "campaign", "purpose"))
#: The header's text: a long count title on two lines, so its column is as narrow as its numbers.
HEADER_TEXTS = ["\n".join(c.title.rsplit(" ", 1)) if c.numeric and len(c.title) > 9 else c.title for c in COLUMNS]
#: Columns the table starts without (View ▸ Columns shows them): with them, a
#: 1366-pixel window could not show the outcome columns beside the filters.
HIDDEN_BY_DEFAULT = frozenset(COLUMN_OF_KEY[key] for key in ("in_progress_at", "completed_at", *HIDDEN_AT_FIRST))


def default_column_widths(metrics) -> dict[int, int]:
    """Each column's starting width for the font ``metrics``: all the default
    columns fit a 1366-pixel window beside the filter dock."""
    widths = {}
    for column, spec in enumerate(COLUMNS):
        header = max(metrics.horizontalAdvance(line) for line in HEADER_TEXTS[column].split("\n")) + 14
        if spec.key in ("created_at", "in_progress_at", "completed_at", "scheduled_for"):
            widths[column] = metrics.horizontalAdvance("2026-12-31T23:59:59Z") + 12
        elif spec.key == "organization":
            widths[column] = metrics.horizontalAdvance("Bayview Motors") + 12
        elif spec.key == "campaign":
            widths[column] = metrics.horizontalAdvance("Service Due Rem") + 10
        elif spec.key == "purpose":
            widths[column] = metrics.horizontalAdvance("Customer Evaluation") + 8
        elif spec.key == "status":
            widths[column] = max(metrics.horizontalAdvance(label) for label in ("Not Applicable", OVERDUE_LABEL)) + 24
        elif spec.numeric:
            widths[column] = max(header, metrics.horizontalAdvance("250,000") + 12)
        else:
            widths[column] = header
    widths[VIEW_COLUMN] = 30
    return widths


class StatusDelegate(QStyledItemDelegate):
    """The status as a coloured badge; a run this window executes shows its progress."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        raw = index.data(RawRole)  # the enum arrives as its word: Qt keeps only the str
        if raw is None:
            super().paint(painter, option, index)
            return
        status = RunStatus(raw)
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        if style:
            # The selection highlight, without the text (the badge is the text).
            option.text = ""
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        progress = index.data(ProgressRole)
        if progress is not None and status is RunStatus.SCHEDULED:
            status = RunStatus.IN_PROGRESS  # executing here before a poll has read its new status
        background, foreground = theme.status_colours(option.palette)[status]
        label = status.label
        if progress is None and index.data(OverdueRole) is not None:
            background, foreground = theme.OVERDUE_COLOURS
            label = OVERDUE_LABEL
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = option.fontMetrics
        rect = QRectF(option.rect).adjusted(4, 3, -4, -3)
        if progress is None:
            rect.setWidth(min(rect.width(), metrics.horizontalAdvance(label) + 16))
        path = QPainterPath()
        path.addRoundedRect(rect, rect.height() / 2, rect.height() / 2)
        painter.fillPath(path, QColor(background))
        if progress is not None:
            done = QRectF(rect)
            done.setWidth(rect.width() * max(0.0, min(1.0, progress)))
            painter.save()
            painter.setClipPath(path)
            painter.fillRect(done, QColor(theme.progress_fill(option.palette)))
            painter.restore()
            label = f"{label} {progress:.0%}"
        painter.setPen(QPen(QColor(foreground)))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(option.fontMetrics.horizontalAdvance("Not Applicable 100%") + 24, option.fontMetrics.height() + 8)


class ViewIconDelegate(QStyledItemDelegate):
    """The seed's blue view icon: an eye, drawn so it needs no image file."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        if index.data(RunIdRole) is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        size = min(option.rect.height() - 6, 18)
        centre = QRectF(option.rect).center()
        eye = QRectF(0, 0, size * 1.3, size * 0.8)
        eye.moveCenter(centre)
        path = QPainterPath()
        path.moveTo(eye.left(), eye.center().y())
        path.quadTo(eye.center().x(), eye.top() - size * 0.35, eye.right(), eye.center().y())
        path.quadTo(eye.center().x(), eye.bottom() + size * 0.35, eye.left(), eye.center().y())
        painter.setPen(QPen(QColor(theme.ACCENT), 1.6))
        painter.drawPath(path)
        pupil = QRectF(0, 0, size * 0.42, size * 0.42)
        pupil.moveCenter(centre)
        painter.setBrush(QBrush(QColor(theme.ACCENT)))
        painter.drawEllipse(pupil)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        return QSize(32, option.fontMetrics.height() + 8)
