"""The Query Params tab's bar chart: total customers and duration of each query
param, side by side (two scales, so two plots), labelled by process order."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QWidget

from enroller_desktop.ui.count_axis import CountAxis
from enroller_desktop.ui.duration_axis import DurationAxis


class QueryParamChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.customers_plot = self._plot("Total Customers", "customers", CountAxis())  # whole customers, as the table writes them
        self.duration_plot = self._plot("Duration", None, DurationAxis())  # ticks read as the table's durations
        layout.addWidget(self.customers_plot)
        layout.addWidget(self.duration_plot)
        self.totals: list[float] = []
        self.durations: list[float] = []

    def _plot(self, title: str, unit: str | None, left: pg.AxisItem | None = None) -> pg.PlotWidget:
        palette = self.palette()
        plot = pg.PlotWidget(background=palette.color(QPalette.ColorRole.Base), axisItems={"left": left} if left else None)
        text = palette.color(QPalette.ColorRole.Text)
        plot.setTitle(title, color=text)
        if unit:
            plot.setLabel("left", unit, color=text)
        plot.setLabel("bottom", "process order", color=text)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).setPen(text)
            plot.getAxis(axis).setTextPen(text)
            # The axes carry their own units: never a "(x0.001)" scale of an empty axis.
            plot.getAxis(axis).enableAutoSIPrefix(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.setMenuEnabled(False)
        plot.setMinimumHeight(160)
        return plot

    def set_params(self, labels: list[str], totals: list[float], durations: list[float]) -> None:
        """One bar per query param in each plot; ``labels`` name them on the axis."""
        self.totals, self.durations = totals, durations
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        ticks = [list(enumerate(labels))]
        for plot, values in ((self.customers_plot, totals), (self.duration_plot, durations)):
            plot.clear()
            if values:
                plot.addItem(pg.BarGraphItem(x=list(range(len(values))), height=values, width=0.6, brush=highlight, pen=highlight))
            plot.getAxis("bottom").setTicks(ticks)
            plot.setXRange(-0.6, max(len(values), 1) - 0.4, padding=0)
            plot.setYRange(0, max(values, default=0) * 1.1 or 1, padding=0)
