"""Trends ▸ Consent Forecast and Export Consent Audit, driven as a person would."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from PySide6.QtCore import QLocale, Qt, QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtCore import QDate
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu

from enroller_desktop import consent_exports, tables
from enroller_desktop.ui import theme
from enroller_desktop.ui.consent_view import ConsentForecastWindow
from tests.builders import AS_OF, campaign, customer, enrollment, execute, organization
from tests.pictures import (
    area_of,
    assert_colour_drawn,
    assert_labels_whole,
    assert_not_blank,
    assert_text_whole,
    scene_area,
    shoot,
)

from .answering import saving
from .test_main_window import make_settings, open_window

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 4, 9, tzinfo=UTC)


def read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def canadian_world(db) -> tuple[int, int]:
    org = organization(db, "CA", name="Maple Motors")
    organization(db, "US", name="Liberty Motors")
    campaign_id = campaign(db, org)
    for n in range(6):
        person = customer(db, org, first_name=f"Lapsing {n}", casl_express_consent_at=None,
                          last_purchase_at=NOW - dt.timedelta(days=730 - 10 * n))
        if n % 2 == 0:
            enrollment(db, campaign_id, person.id)
    customer(db, org, first_name="Express")
    return org, campaign_id


def test_the_forecast_window_charts_and_lists_the_customers_about_to_lapse(qtbot, db, tmp_path, shots):
    canadian_world(db)
    window = ConsentForecastWindow(db, now=NOW)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    with qtbot.waitSignal(window.updated, timeout=20_000):
        window.show()
    assert [window.organization.itemText(i) for i in range(window.organization.count())] == ["Maple Motors"]
    assert window.forecast.customers == 6 and window.forecast.active_enrollments == 3
    assert window.list_model.rowCount() == 6
    assert "6 customers lose implied consent" in window.summary.text()
    title = window.plot.titleLabel  # the chart lays its title out after it is drawn: a person sees it whole
    qtbot.waitUntil(lambda: title.sceneBoundingRect().height() >= title.item.boundingRect().height())
    picture = shoot(window, shots / "forecast-test.png")
    assert_not_blank(picture, scene_area(window.chart, title.sceneBoundingRect(), window), what="the chart's title")
    chart = area_of(window.chart, window)
    assert_colour_drawn(picture, chart, theme.AT_RISK, least=0.01, what="the lapsing customers' bars")
    assert_not_blank(picture, area_of(window.list_view.viewport(), window), what="the list of lapsing customers")
    assert_labels_whole(window)

    with qtbot.waitSignal(window.updated, timeout=20_000):
        window.days.setValue(15)
    assert window.forecast.customers == 2

    out = tmp_path / "forecast.csv"
    with qtbot.waitSignal(window.export_status.finished, timeout=20_000), saving(qtbot, out):
        window.export_button.click()
    rows = read(out)
    assert [row["First Name"] for row in rows] == ["Lapsing 0", "Lapsing 1"]
    assert [row["Active Enrollment"] for row in rows] == ["Yes", "No"]


def test_the_runs_table_exports_the_consent_audit_of_a_runs_campaign(qtbot, db, tmp_path):
    _, campaign_id = canadian_world(db)
    execute(db, campaign_id)
    window = open_window(qtbot, db, make_settings(tmp_path))
    out = tmp_path / "audit.csv"
    rect = window.view.visualRect(window.model.index(0, 1))

    def choose_audit() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        (action,) = [a for a in menu.actions() if a.text().startswith("Export Consent &Audit")]
        menu.close()
        action.trigger()

    QTimer.singleShot(200, choose_audit)
    window._table_menu(rect.center())
    dialog = window.consent_audit_dialog
    assert dialog.isVisible() and dialog.first_day is None and dialog.last_day is None  # the whole audit unless a bound is ticked
    with qtbot.waitSignal(window.export_status.finished, timeout=20_000) as finished, saving(qtbot, out, timeout_ms=10_000):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert finished.args == [1]  # only "Express": at the run's as-of (2024) the others' purchases lie in the future
    assert read(out)[0]["Consent"] == "Express"
    window.close()


def _open_audit_dialog(qtbot, window):
    rect = window.view.visualRect(window.model.index(0, 1))

    def choose_audit() -> None:
        menu = QApplication.activePopupWidget()
        (action,) = [a for a in menu.actions() if a.text().startswith("Export Consent &Audit")]
        menu.close()
        action.trigger()

    QTimer.singleShot(200, choose_audit)
    window._table_menu(rect.center())
    qtbot.waitUntil(lambda: getattr(window, "consent_audit_dialog", None) is not None and window.consent_audit_dialog.isVisible())
    return window.consent_audit_dialog


def test_the_consent_audit_of_the_window_takes_a_from_and_to_utc_date(qtbot, db, tmp_path, shots):
    org = organization(db, "CA", name="Maple Motors")
    campaign_id = campaign(db, org)
    first_run_at = AS_OF - dt.timedelta(days=10)
    customer(db, org, first_name="Early")
    execute(db, campaign_id, as_of=first_run_at)  # enrolls Early on first_run_at's date
    customer(db, org, first_name="Late")
    execute(db, campaign_id, as_of=AS_OF)  # enrolls Late (Early is already in the queue)
    window = open_window(qtbot, db, make_settings(tmp_path))
    exports = iter(range(1, 10))

    def export(dialog) -> list[dict]:
        out = tmp_path / f"audit-{next(exports)}.csv"  # a new file each time: Qt asks before replacing one
        with qtbot.waitSignal(window.export_status.finished, timeout=20_000), saving(qtbot, out, timeout_ms=10_000):
            dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        return read(out)

    def qdate(day: dt.date) -> QDate:
        return QDate(day.year, day.month, day.day)

    dialog = _open_audit_dialog(qtbot, window)
    assert "UTC" in dialog.from_check.text() and "UTC" in dialog.to_check.text()
    dialog.from_check.setChecked(True)
    dialog.from_date.setDate(qdate(AS_OF.date()))
    shoot(dialog, shots / "audit-range.png")
    for check in (dialog.from_check, dialog.to_check):
        assert_text_whole(check)
    for edit in (dialog.from_date, dialog.to_date):
        shown = edit.lineEdit()
        assert shown.fontMetrics().horizontalAdvance(shown.text()) <= shown.contentsRect().width(), shown.text()
    assert [row["First Name"] for row in export(dialog)] == ["Late"]

    dialog = _open_audit_dialog(qtbot, window)
    dialog.to_check.setChecked(True)
    dialog.to_date.setDate(qdate(first_run_at.date()))  # inclusive: that whole UTC day
    assert [row["First Name"] for row in export(dialog)] == ["Early"]

    dialog = _open_audit_dialog(qtbot, window)
    dialog.from_check.setChecked(True)
    dialog.to_check.setChecked(True)
    dialog.from_date.setDate(qdate(AS_OF.date()))
    dialog.to_date.setDate(qdate(first_run_at.date()))
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and "before it starts" in dialog.problem.text()
    dialog.to_date.setDate(qdate(AS_OF.date()))
    assert ok.isEnabled()
    dialog.from_check.setChecked(False)  # no lower bound: both
    assert sorted(row["First Name"] for row in export(dialog)) == ["Early", "Late"]
    window.close()


def test_the_view_menu_opens_the_consent_forecast(qtbot, db, tmp_path):
    canadian_world(db)
    execute(db, campaign(db, organization(db, "CA")))
    window = open_window(qtbot, db, make_settings(tmp_path))
    window.consent_forecast_action.trigger()
    forecast = window._consent_forecast
    qtbot.waitUntil(lambda: forecast.forecast is not None, timeout=20_000)
    assert forecast.isVisible()
    window.close()


def test_new_run_warns_when_a_later_default_run_will_find_consent_lapsed(qtbot, db, shots):
    from PySide6.QtCore import QDateTime

    from enroller_desktop.ui.new_run_dialog import NewRunDialog

    org = organization(db, "CA", name="Maple Motors")
    campaign_id = campaign(db, org)
    customer(db, org, casl_express_consent_at=None, last_purchase_at=dt.datetime.now(UTC) - dt.timedelta(days=720))
    dialog = NewRunDialog(db, organization_id=org, campaign_id=campaign_id)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.campaign.currentData() == campaign_id, timeout=10_000)
    with qtbot.waitSignal(dialog.consent_warning.counted, timeout=20_000) as counted:
        dialog.later_button.click()
        dialog.scheduled_for.setDateTime(QDateTime.currentDateTimeUtc().addDays(30))
    assert counted.args == [1]
    assert dialog.consent_warning.isVisible()
    assert dialog.consent_warning.text().startswith("1 customer eligible today will have lost implied CASL consent")
    picture = shoot(dialog, shots / "new-run-warning.png")
    assert_colour_drawn(picture, area_of(dialog.consent_warning, dialog), theme.AT_RISK, what="the consent warning")
    with qtbot.waitSignal(dialog.consent_warning.counted, timeout=20_000) as counted:
        dialog.scheduled_for.setDateTime(QDateTime.currentDateTimeUtc().addDays(2))
    assert counted.args == [0]
    assert not dialog.consent_warning.isVisible()


@pytest.fixture
def c_locale():
    """The C locale's form (``yyyy-MM-dd HH:mm``), whatever the machine's language."""
    before = QLocale()
    QLocale.setDefault(QLocale.c())
    yield
    QLocale.setDefault(before)


def test_the_forecast_list_shows_times_on_the_organizations_clock_with_the_exact_utc_time_as_tooltip(qtbot, db, c_locale):
    org, _campaign = canadian_world(db)
    with db.write() as conn:
        conn.execute(sa.text("UPDATE organizations SET timezone = 'America/Vancouver' WHERE id = :id"), {"id": org})
    window = ConsentForecastWindow(db, now=NOW)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.updated, timeout=20_000):
        window.show()
    with db.read() as conn:
        bought = dict(conn.exec_driver_sql("SELECT first_name, last_purchase_at FROM customers").all())
    model = window.list_model
    column = consent_exports.LAPSING.column_index("last_purchase_at")
    first_names = consent_exports.LAPSING.column_index("first_name")
    assert model.rowCount() == 6
    for row in range(model.rowCount()):
        stored = bought[model.index(row, first_names).data()]
        stored = stored if isinstance(stored, dt.datetime) else dt.datetime.fromisoformat(stored)
        stored = stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)
        local = stored.astimezone(ZoneInfo("America/Vancouver"))
        cell = model.index(row, column)
        assert cell.data() == f"{local:%Y-%m-%d %H:%M}"
        assert cell.data(Qt.ItemDataRole.ToolTipRole).startswith(f"{stored:%Y-%m-%dT%H:%M:%S}Z (UTC)")


def _drawn_labels(axis) -> list:
    """The rectangles and texts of the labels the axis draws, as pyqtgraph lays them out."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _flags, text in texts]


@pytest.mark.parametrize("days", [30, 90, 365])
def test_the_forecast_date_labels_never_overlap(qtbot, db, days, shots):
    canadian_world(db)
    window = ConsentForecastWindow(db, now=NOW)
    qtbot.addWidget(window)
    window.days.setValue(days)  # before the organizations are read: the first forecast is of these days
    with qtbot.waitSignal(window.updated, timeout=20_000):
        window.show()
    assert window.forecast.days == days
    axis = window.plot.getAxis("bottom")
    for width in (560, 800, 1100, 1366):
        window.resize(width, 700)
        # The chart lays its axis out on the event loop: wait until it spans the chart.
        qtbot.waitUntil(lambda: abs(axis.sceneBoundingRect().right() - window.chart.viewport().width()) < 40)
        for period in ("Per week", "Per day"):
            window.period.setCurrentText(period)
            view = window.plot.getViewBox()
            qtbot.waitUntil(lambda: list(axis.range) == list(view.viewRange()[0]))
            labels = _drawn_labels(axis)
            assert len(labels) >= 2, (width, period, labels)
            for (a, a_text), (b, b_text) in itertools.combinations(labels, 2):
                assert not a.intersects(b), f"{a_text!r} overlaps {b_text!r} at {width} px, {period}, {days} days"
    shoot(window, shots / f"forecast-axis-{days}.png")


@pytest.mark.parametrize("size", [(1100, 680), (800, 460)])
def test_the_forecast_counts_whole_customers_at_every_range(qtbot, db, size, shots):
    """Half a customer is no count: from a bar of one customer to tens of thousands,
    the left axis ticks whole customers only, written as every count of the
    product is (``12,345``), in labels that never overlap and under no SI scale."""
    canadian_world(db)
    window = ConsentForecastWindow(db, now=NOW)
    qtbot.addWidget(window)
    window.resize(*size)
    window.period.setCurrentText("Per day")  # one customer a day: the tallest bar is 1
    with qtbot.waitSignal(window.updated, timeout=20_000):
        window.show()
    axis, view = window.plot.getAxis("left"), window.plot.getViewBox()
    assert "(x" not in axis.labelString()
    shoot(window, shots / f"forecast-counts-{size[0]}.png")
    for tallest in (None, 2, 3, 7, 45, 450, 12_345, 48_000):
        if tallest is not None:
            window.plot.setYRange(0, tallest * 1.3, padding=0)  # as the chart frames its tallest bar
        qtbot.waitUntil(lambda: list(axis.range) == list(view.viewRange()[1]))
        (low, high), height = axis.range, axis.geometry().height()
        values = [value for _spacing, level in axis.tickValues(low, high, height) for value in level]
        assert len(values) >= 2 and all(value == round(value) for value in values), (tallest, values)
        # pyqtgraph leaves out a label that would cross the axis's ends (the 0), and widens
        # the axis to new labels on the event loop: a scale of at least two labels, once it has.
        qtbot.waitUntil(lambda: len(_drawn_labels(axis)) >= (1 if tallest is None else 2))
        labels = _drawn_labels(axis)
        texts = [text for _rect, text in labels]
        assert texts and set(texts) <= {tables.format_count(round(value)) for value in values}, (tallest, texts)
        for (a, a_text), (b, b_text) in itertools.combinations(labels, 2):
            assert not a.intersects(b), f"{a_text!r} overlaps {b_text!r} at {tallest}"
    shoot(window, shots / f"forecast-counts-{size[0]}-48000.png")
