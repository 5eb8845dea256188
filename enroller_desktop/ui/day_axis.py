"""A date axis of whole UTC days whose labels never collide.

pyqtgraph's ``DateAxisItem`` guesses its tick spacing from an estimated label
width, and on a narrow chart two dates overlap. This axis measures the labels it
will write with the axis's font and puts one every 1, 2 or 7 days (then every 14,
28...), the smallest step that leaves each label its width and a gap; a weekly
step falls on Mondays, so a working week's rhythm reads at once.

Bars a day wide sit at the middle of their day, and so do the ticks. Bars a week
wide (``period_days=7``, weeks from Monday) sit at the middle of their week: the
ticks do too, every whole number of weeks, each labelled with its Monday.
"""

from __future__ import annotations

import datetime as dt
import math

import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

DAY_SECONDS = 86400
LABEL_GAP = 14.0  # pixels between two labels
_STEPS = (1, 2, 7, 14, 28, 56, 91, 182, 364)
_MONDAY = dt.date(2000, 1, 3)
_DAY_FORM, _WEEK_FORM = "%a %d %b", "%d %b %Y"
# The widest labels each form writes: the longest names in most fonts, and 0s
# and 8s, the widest digits.
_SAMPLES = {
    _DAY_FORM: [dt.date(2026, 2, 28) + dt.timedelta(days=n) for n in range(7)] + [dt.date(2008, 8, 28), dt.date(2008, 5, 28)],
    _WEEK_FORM: [dt.date(2008, month, 28) for month in range(1, 13)],
}


def day_start(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), dt.timezone.utc).timestamp()


def day_of(seconds: float) -> dt.date:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date()


class DayAxis(pg.AxisItem):
    def __init__(self, orientation: str = "bottom", *, period_days: int = 1, **kw) -> None:
        super().__init__(orientation, **kw)
        # pyqtgraph measures its labels' height on a QPicture, a few pixels short of
        # the screen's: a date's descenders ("Aug", "Jun") were cut off. Give the
        # labels the font's own line height.
        self.setStyle(autoExpandTextSpace=False, tickTextHeight=math.ceil(QFontMetricsF(self.font()).height()))
        self.step_days = 1
        self.period_days = period_days

    def set_period(self, days: int) -> None:
        """Bars of ``days`` (1 or 7) from now on: the ticks follow them."""
        if days != self.period_days:
            self.period_days = days
            self.picture = None
            self.update()

    def _form(self, step: int) -> str:
        return _DAY_FORM if step < 7 else _WEEK_FORM

    def label_width(self, step: int = 1) -> float:
        metrics = QFontMetricsF(self.style.get("tickFont") or self.font())
        form = self._form(step)
        return max(metrics.horizontalAdvance(day.strftime(form)) for day in _SAMPLES[form])

    def tickValues(self, minVal: float, maxVal: float, size: float):
        span_days = max((maxVal - minVal) / DAY_SECONDS, 1e-9)
        pixels_per_day = max(size, 1.0) / span_days
        steps = [s for s in _STEPS if s % self.period_days == 0]
        step = next((s for s in steps if s * pixels_per_day >= self.label_width(s) + LABEL_GAP), steps[-1])
        self.step_days = step
        first = day_of(minVal) - dt.timedelta(days=self.period_days)
        if step >= 7:
            first -= dt.timedelta(days=(first - _MONDAY).days % step)  # a Monday
        values = []
        day = first
        while day_start(day) <= maxVal:
            middle = day_start(day) + self.period_days * DAY_SECONDS / 2
            if minVal <= middle <= maxVal:
                values.append(middle)
            day += dt.timedelta(days=step)
        return [(step * DAY_SECONDS, values)]

    def tickStrings(self, values, scale, spacing):
        form = self._form(self.step_days)
        return [day_of(value - (self.period_days - 1) * DAY_SECONDS / 2).strftime(form) for value in values]
