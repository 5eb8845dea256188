"""A date axis of whole UTC days whose labels never collide.

pyqtgraph's ``DateAxisItem`` guesses its tick spacing from an estimated label
width, and on a narrow dock two dates can overlap. This axis measures its own
label ("Wed 30 Dec") with the axis's font and puts a label every 1, 2 or 7 days
(then every 14, 28...), the smallest step that leaves each label its width and a
gap; a weekly step falls on Mondays, so a working week's rhythm reads at once.
"""

from __future__ import annotations

import datetime as dt

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

DAY_SECONDS = 86400
LABEL_GAP = 14.0  # pixels between two labels
_STEPS = (1, 2, 7, 14, 28, 56, 91, 182, 364)
_SAMPLE = "Wed 30 Dec"


def day_start(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()


def day_of(seconds: float) -> dt.date:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date()


class DayAxis(pg.AxisItem):
    def __init__(self, orientation: str = "bottom", **kw) -> None:
        super().__init__(orientation, **kw)
        self.step_days = 1

    def label_width(self) -> float:
        return QFontMetricsF(self.style.get("tickFont") or self.font()).horizontalAdvance(_SAMPLE)

    def tickValues(self, minVal: float, maxVal: float, size: float):
        span_days = max((maxVal - minVal) / DAY_SECONDS, 1e-9)
        room = max(size, 1.0) / (self.label_width() + LABEL_GAP)  # labels that fit
        step = next((s for s in _STEPS if span_days / s <= room), _STEPS[-1])
        self.step_days = step
        first = day_of(minVal)
        if step == 7:
            first -= dt.timedelta(days=first.weekday())
        elif step > 7:
            first -= dt.timedelta(days=(first - dt.date(2000, 1, 3)).days % step)  # a Monday
        values = []
        day = first
        while day_start(day) <= maxVal:
            middle = day_start(day) + DAY_SECONDS / 2
            if middle >= minVal:
                values.append(middle)
            day += dt.timedelta(days=step)
        return [(step * DAY_SECONDS, values)]

    def tickStrings(self, values, scale, spacing):
        return [day_of(value).strftime("%a %d %b" if self.step_days < 7 else "%d %b %Y") for value in values]
