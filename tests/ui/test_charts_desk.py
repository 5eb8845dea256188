"""Trends and the Query Params chart as a desk user reads them: a legend beside
the bars, never over them; a bar that says what it is and, clicked, lists its
runs; date labels that never collide; axes without an SI scale."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QFontMetricsF

from enroller_desktop.ui.day_axis import DAY_SECONDS, LABEL_GAP, DayAxis, day_start
from enroller_desktop.ui.query_param_chart import QueryParamChart
from enroller_desktop.ui.trends import bar_tooltip

from .runs_data import add_organizations, add_runs
from .test_index_columns_fit import open_at


@pytest.fixture
def trends_window(qtbot, sqlite_db, tmp_path):
    add_runs(sqlite_db, add_organizations(sqlite_db), 60, step_minutes=211)
    window = open_at(qtbot, sqlite_db, tmp_path, 1366, 900)
    qtbot.waitUntil(lambda: window.model.rowCount() == 60, timeout=10_000)
    with qtbot.waitSignal(window.trends_dock.updated, timeout=10_000):
        window.trends_dock.show()
    qtbot.waitUntil(lambda: window.trends_dock.bars != [], timeout=10_000)
    yield window
    window.close()


def test_the_legend_never_covers_a_bar(qtbot, trends_window):
    dock = trends_window.trends_dock
    qtbot.wait(50)  # one layout pass of the chart
    legend = dock.legend.sceneBoundingRect()
    plot_area = dock.runs_plot.getViewBox().sceneBoundingRect()
    assert legend.height() > 0 and not legend.intersects(plot_area)


def test_a_bar_says_its_day_status_and_count(trends_window):
    dock = trends_window.trends_dock
    day, status, low, high = dock.bars[0]
    point = QPointF(day_start(day) + DAY_SECONDS / 2, (low + high) / 2)
    assert dock.bar_at(point) == (day, status, low, high)
    text = bar_tooltip(day, status, low, high)
    assert f"{day:%d %b %Y}" in text and status.label in text and f"{high - low:,} " in text


def test_clicking_a_bar_lists_the_runs_of_that_day_and_status(qtbot, trends_window):
    dock, window = trends_window.trends_dock, trends_window
    day, status, low, high = max(dock.bars, key=lambda bar: bar[3] - bar[2])
    box = dock.runs_plot.getViewBox()
    scene_point = box.mapViewToScene(QPointF(day_start(day) + DAY_SECONDS / 2, (low + high) / 2))
    where = dock.charts.mapFromScene(scene_point)
    with qtbot.waitSignal(dock.barClicked, timeout=5_000) as clicked:
        qtbot.mouseClick(dock.charts.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert clicked.args == [day, status]
    wanted = window.filter_dock.current_filter()
    assert (wanted.created_from, wanted.created_to, wanted.statuses) == (day, day, frozenset({status}))
    qtbot.waitUntil(lambda: window.model.rowCount() == high - low and window.model.run_filter == wanted, timeout=10_000)
    for row in range(window.model.rowCount()):
        run = window.model.run_at(row)
        assert run.status is status and run.created_at.date() == day


@pytest.mark.parametrize("width", [260, 500, 900, 1400])
@pytest.mark.parametrize("days", [3, 14, 60, 90, 400])
def test_the_date_labels_never_collide(qtbot, width, days):
    axis = DayAxis()
    first = day_start(dt.date(2026, 9, 1))
    (spacing, values), = axis.tickValues(first, first + days * DAY_SECONDS, width)
    pixels_per_second = width / (days * DAY_SECONDS)
    metrics = QFontMetricsF(axis.font())
    widest = max((metrics.horizontalAdvance(text) for text in axis.tickStrings(values, 1, spacing)), default=0)
    assert values
    gaps = [(b - a) * pixels_per_second for a, b in zip(values, values[1:])]
    assert all(gap >= widest + LABEL_GAP / 2 for gap in gaps), (axis.step_days, gaps[:3], widest)


@pytest.mark.parametrize("params", [0, 1, 3])
def test_the_query_param_axes_never_read_a_scale(qtbot, params):
    chart = QueryParamChart()
    qtbot.addWidget(chart)
    chart.set_params([f"{n + 1}. Param" for n in range(params)], [1000.0 * n for n in range(params)], [0.002 * n for n in range(params)])
    chart.show()
    qtbot.waitExposed(chart)
    for plot in (chart.customers_plot, chart.duration_plot):
        for name in ("left", "bottom"):
            label = plot.getAxis(name).labelString()
            assert "(x" not in label and "x0.001" not in label, label
