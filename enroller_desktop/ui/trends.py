"""Trends: runs per day stacked by status, and the median duration per day.

Both follow the filter of the runs table. The legend has a row of its own above
the bars, so it never covers one; a bar's tooltip says its day, status and
count, and a click on it shows those runs in the table (``barClicked``). The
date labels are a :class:`DayAxis`, spaced so that they never collide; the two
plot areas line up, so that a day stands at the same x in both. They are read only while the dock is
shown (a hidden chart costs nothing), off the interface thread. pyqtgraph (and
numpy under it) is imported when the dock is first shown: it would cost the
window a second at start-up.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QDockWidget, QToolTip, QWidget

from enroller_desktop.db import index_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.db.index_queries import RunFilter
from enroller_desktop.ui import theme
from enroller_desktop.ui.background import Tasks

DAY_SECONDS = 86400


def _epoch(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()


def bar_tooltip(day: dt.date, status: RunStatus, low: int, high: int) -> str:
    runs = high - low
    return f"{day:%a %d %b %Y}: {runs:,} {status.label} run{'' if runs == 1 else 's'} — click to list them"


def line_up_left_axes(plots) -> None:
    """Plot areas stacked in one column start at the same x, so that a day stands at
    the same x in each chart. Each left axis keeps the width of its own labels (they
    differ: "runs" and counts, "200 ms"); the first column of every plot takes the
    widest axis's width, each axis at its right, and follows whenever an axis's
    labels make it wider or narrower."""
    axes = [plot.getAxis("left") for plot in plots]

    def follow() -> None:
        widest = max(axis.maximumWidth() for axis in axes)  # pyqtgraph's width for its labels
        for plot in plots:
            plot.layout.setColumnFixedWidth(0, widest)

    for plot, axis in zip(plots, axes):
        plot.layout.setAlignment(axis, Qt.AlignmentFlag.AlignRight)
        axis.geometryChanged.connect(follow)
    follow()


class TrendsDock(QDockWidget):
    updated = Signal()
    failed = Signal(str)
    barClicked = Signal(object, object)  # the day (a date) and the RunStatus of a bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Trends", parent)
        self.setObjectName("trendsDock")
        self._tasks = Tasks(self, threads=1)
        self._db: Database | None = None
        self._filter = RunFilter()
        self._stale = True
        self._serial = 0

        self.charts = None
        self.bars: list[tuple[dt.date, RunStatus, int, int]] = []  # day, status, from, to (runs)
        self.visibilityChanged.connect(lambda visible: visible and self._stale and self.refresh())

    def _build_charts(self) -> None:
        import pyqtgraph as pg

        # The axes are pyqtgraph's items: imported with it, here, not with the window.
        from enroller_desktop.ui.count_axis import CountAxis
        from enroller_desktop.ui.day_axis import DayAxis
        from enroller_desktop.ui.duration_axis import DurationAxis

        self._pg = pg
        palette = self.palette()  # light or dark, as the window is when the charts are first shown
        pg.setConfigOptions(
            antialias=True,
            background=palette.color(palette.ColorRole.Base),
            foreground=palette.color(palette.ColorRole.Text),
        )
        self.charts = pg.GraphicsLayoutWidget()
        self.legend = pg.LegendItem(colCount=len(RunStatus))
        self.charts.addItem(self.legend, row=0, col=0)
        self.runs_plot = self.charts.addPlot(row=1, col=0, axisItems={"bottom": DayAxis(), "left": CountAxis()})
        self.runs_plot.setTitle(self._runs_title())
        self.runs_plot.setLabel("left", "runs")
        self.runs_plot.showGrid(y=True, alpha=0.2)
        self.runs_plot.setMenuEnabled(False)
        self.runs_plot.scene().sigMouseMoved.connect(self._hover)
        self.runs_plot.scene().sigMouseClicked.connect(self._click)
        # Its ticks read as the tables' durations do (tables.format_seconds).
        self.duration_plot = self.charts.addPlot(row=2, col=0, axisItems={"bottom": DayAxis(), "left": DurationAxis()})
        self.duration_plot.setTitle("Median duration per day")
        self.duration_plot.showGrid(y=True, alpha=0.2)
        self.duration_plot.setXLink(self.runs_plot)
        line_up_left_axes([self.runs_plot, self.duration_plot])
        self.charts.setMinimumHeight(260)
        self.setWidget(self.charts)

    def _runs_title(self) -> str:
        """Whose days the bars count (the Created filter's: View ▸ Time Zone)."""
        days = "each organization's days" if self._filter.day_zone is None else self._filter.day_zone
        return f"Runs per day, by status ({days}) — click a bar to list its runs"

    def show_for(self, db: Database, run_filter: RunFilter) -> None:
        self._db, self._filter, self._stale = db, run_filter, True
        if self.charts is not None:
            self.runs_plot.setTitle(self._runs_title())
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        if self._db is None:
            return
        db, run_filter = self._db, self._filter
        self._stale = False
        self._serial += 1
        serial = self._serial

        def read(_state):
            with db.read() as conn:
                return index_queries.runs_per_day(conn, run_filter), index_queries.median_duration_per_day(conn, run_filter)

        if self.charts is None:
            self._build_charts()

        def drawn(result) -> None:
            if serial == self._serial:
                self._draw(*result)

        def failed(message: str) -> None:
            self._stale = True
            self.failed.emit(message)

        self._tasks.run(read, drawn, failed, name="trends")

    def _draw(self, per_day: list[index_queries.DayStatusCount], medians: list[tuple[dt.date, float]]) -> None:
        self.runs_plot.clear()
        self.legend.clear()
        days = sorted({c.day for c in per_day})
        base = {day: 0 for day in days}
        self.bars = []
        # A bar's colour is its badge's text colour: strong enough to read as a fill.
        colours = theme.status_colours(self.palette())
        for status in RunStatus:
            counts = {c.day: c.runs for c in per_day if c.status is status}
            if not counts:
                continue
            xs = [_epoch(d) + DAY_SECONDS / 2 for d in counts]
            bars = self._pg.BarGraphItem(
                x=xs,
                height=list(counts.values()),
                y0=[base[d] for d in counts],
                width=DAY_SECONDS * 0.8,
                brush=colours[status][1],
                pen=None,
                name=status.label,
            )
            self.runs_plot.addItem(bars)
            self.legend.addItem(bars, status.label)
            for d, n in counts.items():
                self.bars.append((d, status, base[d], base[d] + n))
                base[d] += n
        self.runs_plot.setYRange(0, max(base.values(), default=1) * 1.05, padding=0)
        self.duration_plot.clear()
        # At least two weeks across, so that one busy day is a bar, not a wall.
        last = max(days, default=dt.datetime.now(dt.timezone.utc).date())
        first = min(min(days, default=last), last - dt.timedelta(days=13))
        self.runs_plot.setXRange(_epoch(first), _epoch(last + dt.timedelta(days=1)), padding=0.02)
        longest = max((s for _, s in medians), default=0)
        self.duration_plot.setYRange(0, max(longest, 1) * 1.15, padding=0)  # a second at least: sub-second days sit low, not at the top
        if medians:
            self.duration_plot.plot(
                [_epoch(d) + DAY_SECONDS / 2 for d, _ in medians],
                [s for _, s in medians],
                pen=self._pg.mkPen(theme.ACCENT, width=2),
                symbol="o",
                symbolSize=5,
                symbolBrush=theme.ACCENT,
            )
        self.updated.emit()

    # -- a bar under the mouse ----------------------------------------------------------

    def bar_at(self, point: QPointF) -> tuple[dt.date, RunStatus, int, int] | None:
        """The bar at ``point`` (the runs plot's data coordinates), if any."""
        for day, status, low, high in self.bars:
            middle = _epoch(day) + DAY_SECONDS / 2
            if abs(point.x() - middle) <= DAY_SECONDS * 0.4 and low <= point.y() <= high:
                return day, status, low, high
        return None

    def _bar_under(self, scene_pos) -> tuple[dt.date, RunStatus, int, int] | None:
        box = self.runs_plot.getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        return self.bar_at(box.mapSceneToView(scene_pos))

    def _hover(self, scene_pos) -> None:
        bar = self._bar_under(scene_pos)
        if bar is None:
            QToolTip.hideText()
            return
        QToolTip.showText(QCursor.pos(), bar_tooltip(*bar), self.charts)

    def _click(self, event) -> None:
        bar = self._bar_under(event.scenePos())
        if bar is not None:
            event.accept()
            self.barClicked.emit(bar[0], bar[1])
