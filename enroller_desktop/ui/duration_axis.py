"""A chart axis of durations that reads as the tables do.

Every duration of the application is written by one rule,
:func:`enroller_desktop.tables.format_seconds` (``850 ms``, ``12.3 s``,
``4 min 05 s``, ``2 h 03 min``). This axis holds seconds and labels its ticks by
that rule, at steps a person counts in (1, 2 or 5 of a unit; 15 and 30 seconds
or minutes; whole hours), the smallest step whose labels leave each other room.
So Trends' median durations and a table's durations never disagree, and the
axis needs no unit of its own nor pyqtgraph's SI scale ("x0.001").
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

from enroller_desktop.tables import format_seconds

MINUTE, HOUR = 60.0, 3600.0
STEPS = (
    0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
    1.0, 2.0, 5.0, 10.0, 15.0, 30.0,
    MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
    HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR,
)
#: Room a tick takes on a vertical axis, in label heights (the label and half a gap).
TICK_ROOM = 1.5
#: The widest text a tick of a horizontal axis may need.
_SAMPLE = "59 min 59 s"


class DurationAxis(pg.AxisItem):
    """An axis whose values are seconds and whose ticks read ``format_seconds``."""

    def __init__(self, orientation: str = "left", **kw) -> None:
        super().__init__(orientation, **kw)
        self.enableAutoSIPrefix(False)

    def _tick_room(self) -> float:
        metrics = QFontMetricsF(self.style.get("tickFont") or self.font())
        if self.orientation in ("left", "right"):
            return metrics.height() * TICK_ROOM
        return metrics.horizontalAdvance(_SAMPLE) + metrics.height()

    def tickValues(self, minVal: float, maxVal: float, size: float):
        low, high = max(minVal, 0.0), maxVal  # no duration is negative
        if high <= low:
            return []
        fits = max(size / self._tick_room(), 1.0)
        step = next((s for s in STEPS if (high - low) / s <= fits), None)
        if step is None:  # longer than the steps: whole days
            step = 24 * HOUR * math.ceil((high - low) / fits / (24 * HOUR))
        values = self._ticks(low, high, step)
        if len(values) < 2 and step in STEPS[1:]:  # a short axis still reads a scale: one step finer
            step = STEPS[STEPS.index(step) - 1]
            values = self._ticks(low, high, step)
        return [(step, values)]

    @staticmethod
    def _ticks(low: float, high: float, step: float) -> list[float]:
        first = math.ceil(low / step - 1e-9)
        last = math.floor(high / step + 1e-9)
        return [round(n * step, 6) for n in range(first, last + 1)]

    def tickStrings(self, values, scale, spacing):
        return [format_seconds(value * scale) for value in values]
