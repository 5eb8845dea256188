"""Trends and the Query Params chart as a desk user reads them: a legend beside
the bars, never over them; a bar that says what it is and, clicked, lists its
runs; date labels that never collide; axes without an SI scale."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter

from enroller_desktop import tables
from enroller_desktop.ui.day_axis import DAY_SECONDS, LABEL_GAP, DayAxis, day_start
from enroller_desktop.ui.duration_axis import TICK_ROOM, DurationAxis
from enroller_desktop.ui import theme
from enroller_desktop.ui.query_param_chart import QueryParamChart
from enroller_desktop.ui.trends import bar_tooltip

from tests.builders import add_organizations, add_runs
from tests.pictures import assert_durations_drawn, shoot
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


@pytest.mark.parametrize("totals", [[1.0, 2.0], [12_345.0, 300.0]])
def test_the_query_params_customers_axis_counts_whole_customers(qtbot, totals):
    """Two customers tick at 0, 1 and 2, not 0.5; twelve thousand read "12,000" as the
    table writes it, under no "x1000"."""
    chart = QueryParamChart()
    qtbot.addWidget(chart)
    chart.set_params(["1. Param", "2. Param"], totals, [0.057, 0.161])
    axis = chart.customers_plot.getAxis("left")
    room_for_nine = 9.5 * QFontMetricsF(axis.font()).height() * TICK_ROOM
    (spacing, values), = axis.tickValues(0, max(totals) * 1.1, room_for_nine)
    assert len(values) >= 2 and all(value == round(value) for value in values), values
    assert axis.tickStrings(values, 1, spacing) == [tables.format_count(round(value)) for value in values]
    assert "(x" not in axis.labelString()


# -- durations read as the tables' durations ----------------------------------------------


@pytest.mark.parametrize(("longest", "expected"), [
    (0.05, ["0 ms", "10 ms", "20 ms", "30 ms", "40 ms", "50 ms"]),
    (1.15, ["0 ms", "200 ms", "400 ms", "600 ms", "800 ms", "1.0 s"]),
    (75, ["0 ms", "15.0 s", "30.0 s", "45.0 s", "1 min 00 s", "1 min 15 s"]),
    (1500, ["0 ms", "5 min 00 s", "10 min 00 s", "15 min 00 s", "20 min 00 s", "25 min 00 s"]),
    (4 * 3600, ["0 ms", "1 h 00 min", "2 h 00 min", "3 h 00 min", "4 h 00 min"]),
])
def test_a_duration_axis_labels_its_ticks_by_the_one_duration_rule(qtbot, longest, expected):
    """The Trends and Query Params duration axes: their ticks at steps a person
    counts in, written as the runs table and the Summary write durations."""
    axis = DurationAxis()
    height = 6.5 * QFontMetricsF(axis.font()).height() * TICK_ROOM  # room for six ticks
    (spacing, values), = axis.tickValues(0, longest, height)
    strings = axis.tickStrings(values, 1, spacing)
    assert strings == expected
    assert strings == [tables.format_seconds(value) for value in values]


def test_a_short_duration_axis_still_reads_a_scale(qtbot):
    axis = DurationAxis()
    (_spacing, values), = axis.tickValues(0, 1.89, QFontMetricsF(axis.font()).height() * TICK_ROOM * 1.2)
    assert axis.tickStrings(values, 1, 1) == ["0 ms", "1.0 s"]


def test_the_trends_duration_axis_reads_as_the_runs_table(qtbot, trends_window, shots):
    plot = trends_window.trends_dock.duration_plot
    axis = plot.getAxis("left")
    assert isinstance(axis, DurationAxis) and axis.labelText == ""  # the ticks carry the unit
    low, high = plot.getViewBox().viewRange()[1]
    (spacing, values), = axis.tickValues(low, high, axis.height())
    strings = axis.tickStrings(values, 1, spacing)
    assert len(strings) >= 2
    assert all(text.endswith((" ms", " s", " min")) for text in strings)
    assert strings == [tables.format_seconds(value) for value in values]
    dock = trends_window.trends_dock
    picture = shoot(dock, shots / "trends-durations.png")
    # The tallest bar is drawn in its status's colour where the chart's geometry puts it,
    # and the median durations are drawn as a line.
    day, status, low, high = max(dock.bars, key=lambda bar: bar[3] - bar[2])
    # Read down the bar's middle, not at one point: a grid line may cross the bar there.
    colours = []
    for share in (0.2, 0.35, 0.5, 0.65, 0.8):
        scene_point = dock.runs_plot.getViewBox().mapViewToScene(QPointF(day_start(day) + DAY_SECONDS / 2, low + (high - low) * share))
        colours.append(picture.pixelColor(dock.charts.viewport().mapTo(dock, dock.charts.mapFromScene(scene_point))).name())
    wanted = QColor(theme.status_colours(dock.palette())[status][1]).name()
    assert colours.count(wanted) >= 3, (status, colours)
    assert_durations_drawn(picture, dock, dock)


def test_the_query_params_duration_axis_reads_as_the_query_params_table(qtbot):
    chart = QueryParamChart()
    qtbot.addWidget(chart)
    chart.set_params(["1. Param", "2. Param"], [1200.0, 300.0], [0.057, 0.161])
    axis = chart.duration_plot.getAxis("left")
    room_for_nine = 9.5 * QFontMetricsF(axis.font()).height() * TICK_ROOM
    (spacing, values), = axis.tickValues(0, 0.161 * 1.1, room_for_nine)
    assert axis.tickStrings(values, 1, spacing)[:3] == ["0 ms", "20 ms", "40 ms"]


def test_the_window_fits_a_1366_by_768_laptop_with_trends_open(qtbot, db, tmp_path, shots):
    """Filters, runs table and both charts on a laptop's screen, each still of use."""
    add_runs(db, add_organizations(db), 60, step_minutes=211)
    window = open_at(qtbot, db, tmp_path, 1366, 900)
    qtbot.waitUntil(lambda: window.model.rowCount() == 60, timeout=10_000)
    dock = window.trends_dock
    with qtbot.waitSignal(dock.updated, timeout=10_000):
        dock.show()
    window.resize(1366, 768)
    assert window.height() <= 768 and window.minimumSizeHint().height() <= 768
    # The docks settle on the event loop: wait until Trends sits above the status bar.
    qtbot.waitUntil(lambda: dock.geometry().bottom() < window.statusBar().geometry().top())
    for plot in (dock.runs_plot, dock.duration_plot):
        assert plot.getViewBox().sceneBoundingRect().height() >= 60, plot.titleLabel.text
    assert window.view.viewport().height() >= 5 * window.view.verticalHeader().defaultSectionSize()
    reset = window.filter_dock.reset_button  # the last of the filters, still on screen
    assert reset.isVisible() and reset.mapTo(window, reset.rect().bottomLeft()).y() < window.statusBar().geometry().top()
    picture = shoot(window, shots / "trends-at-1366x768.png")
    assert picture.height() <= 768


# -- the two Trends charts line up ------------------------------------------------------------


def _labels_settled(axis) -> bool:
    """The axis draws a scale (two labels at least), each label within its own width,
    and laid out at the width they ask: pyqtgraph sizes an axis to new labels on the
    event loop, leaving them out or cutting them until it has."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        labels = axis.generateDrawSpecs(painter)[2]
    finally:
        painter.end()
    return (len(labels) >= 2 and all(rect.left() >= 0 for rect, _flags, _text in labels)
            and abs(axis.geometry().width() - axis.maximumWidth()) < 0.5)  # laid out at the width it asks


def _lined_up(dock) -> bool:
    """Each axis has the room its labels ask, both plot areas start and end at the
    same x, and so does each day."""
    runs, durations = dock.runs_plot.getViewBox(), dock.duration_plot.getViewBox()
    if not all(_labels_settled(plot.getAxis("left")) for plot in (dock.runs_plot, dock.duration_plot)):
        return False
    a, b = runs.sceneBoundingRect(), durations.sceneBoundingRect()
    # The plot areas start where the widest axis ends, no further (the plot's 1 px margin).
    widest = max(plot.getAxis("left").maximumWidth() for plot in (dock.runs_plot, dock.duration_plot))
    if abs(a.left() - dock.runs_plot.sceneBoundingRect().left() - 1 - widest) > 0.5:
        return False
    days = [day_start(day) + DAY_SECONDS / 2 for day, *_ in dock.bars]
    return (abs(a.left() - b.left()) < 0.5 and abs(a.right() - b.right()) < 0.5
            and all(abs(runs.mapViewToScene(QPointF(x, 0)).x() - durations.mapViewToScene(QPointF(x, 0)).x()) < 0.5
                    for x in days))


def test_a_day_sits_at_the_same_x_in_both_trends_charts(qtbot, trends_window, shots):
    """The runs' and the durations' left axes write labels of different widths
    ("runs" and counts, "200 ms"): whichever is wider, both charts' plot areas take
    the same room, so that a day's bar stands above that day's median duration."""
    dock = trends_window.trends_dock
    runs, durations = dock.runs_plot, dock.duration_plot
    qtbot.waitUntil(lambda: _lined_up(dock))
    shoot(dock, shots / "trends-lined-up.png")

    def left() -> float:
        return runs.getViewBox().sceneBoundingRect().left()

    def show(runs_high: float, durations_high: float) -> None:
        runs.setYRange(0, runs_high, padding=0)
        durations.setYRange(0, durations_high, padding=0)
        qtbot.waitUntil(lambda: _lined_up(dock))

    show(8, 1.2)
    narrow = left()
    # Either axis's labels widen ("1,200,000", "4 h 00 min"): both plot areas make room.
    for runs_high, durations_high in ((1_200_000, 1.2), (8, 4 * 3600)):
        show(runs_high, durations_high)
        shoot(dock, shots / f"trends-lined-up-{runs_high}-{durations_high:g}.png")
        assert left() > narrow + 10, (runs_high, durations_high, left(), narrow)
    # Narrow labels again: no room is kept for labels gone.
    show(8, 1.2)
    assert abs(left() - narrow) < 0.5, (left(), narrow)
