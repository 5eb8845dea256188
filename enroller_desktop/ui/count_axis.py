"""A chart axis of counts (runs, customers) that reads as the tables do.

A count is a whole number: pyqtgraph's own axis would tick a chart of two
customers at 0.5, 1.5 and 2.5, and write twelve thousand as ``12`` under an SI
scale (``x1000``). This axis ticks at whole steps a person counts in (1, 2 or 5
times a power of ten), the smallest whose labels leave each other room, and
writes each by the tables' rule, :func:`enroller_desktop.tables.format_count`
(``12,345``).
"""

from __future__ import annotations

import itertools
import math

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

from enroller_desktop.tables import format_count
from enroller_desktop.ui.duration_axis import TICK_ROOM


def _steps():
    """1, 2, 5, 10, 20, 50, 100… for ever."""
    for power in itertools.count():
        for digit in (1, 2, 5):
            yield digit * 10**power


class CountAxis(pg.AxisItem):
    """An axis whose values are counts and whose ticks are whole numbers read by ``format_count``."""

    def __init__(self, orientation: str = "left", **kw) -> None:
        super().__init__(orientation, **kw)
        self.enableAutoSIPrefix(False)

    def _tick_room(self, high: float) -> float:
        metrics = QFontMetricsF(self.style.get("tickFont") or self.font())
        if self.orientation in ("left", "right"):
            return metrics.height() * TICK_ROOM
        return metrics.horizontalAdvance(format_count(math.floor(high))) + metrics.height()

    def tickValues(self, minVal: float, maxVal: float, size: float):
        low, high = max(minVal, 0.0), maxVal  # no count is negative
        if high < low:
            return []
        fits = max(size / self._tick_room(high), 1.0)
        step = next(s for s in _steps() if (high - low) / s <= fits)
        first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
        return [(step, [float(n * step) for n in range(first, last + 1)])]

    def tickStrings(self, values, scale, spacing):
        return [format_count(round(value * scale)) for value in values]
