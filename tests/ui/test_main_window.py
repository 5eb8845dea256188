"""The main window driven as a person would: filters, opening, cancel, live rows,
remembered layout, and a database that goes away and comes back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QDate, QPoint, QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.ui.main_window import MainWindow
from enroller_desktop.ui.run_window import RunWindow
from enroller_desktop.run_index import COLUMN_OF_KEY, STATUS_COLUMN, VIEW_COLUMN
from enroller_desktop.ui import theme
from enroller_desktop.ui.settings import Settings

from .answering import answering
from tests.builders import NOW, RUNS, add_organizations, add_run, add_runs
from tests.pictures import area_of, assert_badges_drawn, assert_durations_drawn, assert_not_blank, shoot

POLL_MS = 150


def make_settings(tmp_path: Path) -> Settings:
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.set("runs/poll_interval_ms", POLL_MS)
    return settings


def open_window(qtbot, db, settings: Settings) -> MainWindow:
    window = MainWindow(db, settings=settings)
    qtbot.addWidget(window)
    window.resize(1400, 800)
    window.show()
    qtbot.waitUntil(lambda: not window.model.busy and window.model.rowCount() > 0, timeout=10_000)
    return window


@pytest.fixture
def seeded(db):
    ids = add_organizations(db)
    add_runs(db, ids, 40)
    return db, ids


@pytest.fixture
def window(qtbot, seeded, tmp_path):
    db, _ids = seeded
    w = open_window(qtbot, db, make_settings(tmp_path))
    yield w
    w.confirm_cancel = False
    w.close()


def sql_count(db, *where) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(RUNS).where(*where)).scalar_one()


def open_run_windows() -> dict[int, RunWindow]:
    return {w.run_id: w for w in QApplication.topLevelWidgets() if isinstance(w, RunWindow) and w.isVisible()}


def row_centre(window: MainWindow, row: int, column: int):
    return window.view.visualRect(window.model.index(row, column)).center()


# -- filters ---------------------------------------------------------------------------


def click_header(qtbot, window: MainWindow, column: int) -> None:
    header = window.view.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def change_filter(qtbot, window: MainWindow, change) -> None:
    with qtbot.waitSignal(window.model.reloaded, timeout=10_000):
        change()


def test_the_status_bar_counts_every_run_at_first(window, seeded):
    db, _ids = seeded
    assert window.model.rowCount() == sql_count(db) == 40
    assert window.count_label.text() == "40 runs"


def test_the_organization_filter_narrows_to_what_sql_counts(qtbot, window, seeded):
    db, ids = seeded
    dock = window.filter_dock
    qtbot.waitUntil(lambda: dock.organization.count() == 3, timeout=10_000)
    change_filter(qtbot, window, lambda: dock.organization.setCurrentIndex(dock.organization.findData(ids["Maple Motors"])))
    assert window.model.rowCount() == sql_count(db, RUNS.c.organization_id == ids["Maple Motors"])
    assert {window.model.run_at(r).organization for r in range(min(7, window.model.rowCount()))} == {"Maple Motors"}


def test_the_campaign_list_is_narrowed_to_the_organization_and_filters(qtbot, window, seeded):
    db, ids = seeded
    dock = window.filter_dock
    qtbot.waitUntil(lambda: dock.organization.count() == 3, timeout=10_000)
    change_filter(qtbot, window, lambda: dock.organization.setCurrentIndex(dock.organization.findData(ids["Bayside Auto Group"])))
    assert [dock.campaign.itemText(i) for i in range(dock.campaign.count())] == ["All campaigns", "Warranty Expiry", "Win Back"]
    change_filter(qtbot, window, lambda: dock.campaign.setCurrentIndex(dock.campaign.findData(ids["Win Back"])))
    assert window.model.rowCount() == sql_count(db, RUNS.c.campaign_id == ids["Win Back"])


def test_unticking_statuses_narrows_to_what_sql_counts(qtbot, window, seeded):
    db, _ids = seeded
    dock = window.filter_dock

    def untick():
        for status in (RunStatus.COMPLETED, RunStatus.CANCELED, RunStatus.SCHEDULED):
            dock.statuses[status].setChecked(False)

    change_filter(qtbot, window, untick)
    assert window.model.rowCount() == sql_count(db, RUNS.c.status.in_(["in_progress", "error", "not_applicable"]))
    assert window.count_label.text().startswith(f"{window.model.rowCount()} run")


def test_unticking_a_purpose_narrows_to_what_sql_counts(qtbot, window, seeded):
    db, _ids = seeded
    change_filter(qtbot, window, lambda: window.filter_dock.purposes[RunPurpose.DEFAULT].setChecked(False))
    assert window.model.rowCount() == sql_count(db, RUNS.c.purpose != "default")


def test_a_custom_created_range_narrows_to_what_sql_counts(qtbot, window, seeded):
    db, _ids = seeded
    dock = window.filter_dock
    first, last = NOW.date() - dt.timedelta(days=5), NOW.date() - dt.timedelta(days=2)

    def choose():
        dock.created_from.setDate(QDate(first))
        dock.created_to.setDate(QDate(last))

    change_filter(qtbot, window, choose)
    assert dock.preset.currentData() == "custom"
    expected = sql_count(
        db,
        RUNS.c.created_at >= dt.datetime.combine(first, dt.time()),
        RUNS.c.created_at < dt.datetime.combine(last + dt.timedelta(days=1), dt.time()),
    )
    assert 0 < window.model.rowCount() == expected


def test_the_today_preset_shows_only_runs_created_today(qtbot, window, seeded):
    db, ids = seeded
    today_id = add_run(db, ids)
    change_filter(qtbot, window, lambda: window.filter_dock.preset.setCurrentIndex(window.filter_dock.preset.findData("today")))
    assert [window.model.run_at(r).id for r in range(window.model.rowCount())] == [today_id]


def test_reset_shows_every_run_again(qtbot, window, seeded):
    db, _ids = seeded
    change_filter(qtbot, window, lambda: window.filter_dock.statuses[RunStatus.ERROR].setChecked(False))
    change_filter(qtbot, window, window.filter_dock.reset_button.click)
    assert window.model.rowCount() == sql_count(db)


def test_reset_and_ctrl_r_clear_every_filter_the_campaign_included(qtbot, window, seeded):
    db, ids = seeded
    dock = window.filter_dock
    for reset in (dock.reset_button.click, lambda: qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)):
        qtbot.waitUntil(lambda: dock.campaign.count() == 5, timeout=10_000)
        change_filter(qtbot, window, lambda: dock.campaign.setCurrentIndex(dock.campaign.findData(ids["Win Back"])))
        change_filter(qtbot, window, lambda: dock.organization.setCurrentIndex(dock.organization.findData(ids["Bayside Auto Group"])))
        change_filter(qtbot, window, lambda: dock.statuses[RunStatus.ERROR].setChecked(False))
        assert window.model.rowCount() < sql_count(db)
        change_filter(qtbot, window, reset)
        assert (dock.organization.currentText(), dock.campaign.currentText()) == ("All organizations", "All campaigns")
        assert window.filter_dock.current_filter().campaign_id is None
        assert window.model.rowCount() == sql_count(db)


def test_filters_and_sort_are_remembered_across_launches(qtbot, seeded, tmp_path):
    db, ids = seeded
    settings = make_settings(tmp_path)
    first = open_window(qtbot, db, settings)
    dock = first.filter_dock
    qtbot.waitUntil(lambda: dock.organization.count() == 3, timeout=10_000)
    change_filter(qtbot, first, lambda: dock.organization.setCurrentIndex(dock.organization.findData(ids["Maple Motors"])))
    change_filter(qtbot, first, lambda: dock.statuses[RunStatus.ERROR].setChecked(False))
    change_filter(qtbot, first, lambda: click_header(qtbot, first, COLUMN_OF_KEY["campaign"]))
    expected_filter, expected_sort = first.model.run_filter, first.model.run_sort
    first.close()

    second = open_window(qtbot, db, make_settings(tmp_path))
    qtbot.waitUntil(lambda: second.filter_dock.organization.count() == 3, timeout=10_000)
    assert second.model.run_filter == expected_filter
    assert second.model.run_sort == expected_sort
    assert second.filter_dock.organization.currentData() == ids["Maple Motors"]
    assert not second.filter_dock.statuses[RunStatus.ERROR].isChecked()
    second.close()


def test_column_order_width_and_visibility_are_remembered(qtbot, seeded, tmp_path):
    db, _ids = seeded
    first = open_window(qtbot, db, make_settings(tmp_path))
    header = first.view.horizontalHeader()
    header.moveSection(header.visualIndex(COLUMN_OF_KEY["status"]), 1)
    header.resizeSection(COLUMN_OF_KEY["campaign"], 333)
    header.setSectionHidden(COLUMN_OF_KEY["potential_events"], True)
    first.close()

    second = open_window(qtbot, db, make_settings(tmp_path))
    header = second.view.horizontalHeader()
    assert header.visualIndex(COLUMN_OF_KEY["status"]) == 1
    assert header.sectionSize(COLUMN_OF_KEY["campaign"]) == 333
    assert header.isSectionHidden(COLUMN_OF_KEY["potential_events"])
    second.close()


# -- opening a run -------------------------------------------------------------------------


def test_double_click_opens_the_run(qtbot, window):
    run_id = window.model.run_at(2).id
    where = row_centre(window, 2, COLUMN_OF_KEY["campaign"])
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.waitUntil(lambda: run_id in open_run_windows(), timeout=10_000)
    open_run_windows()[run_id].close()


def test_enter_opens_the_current_run(qtbot, window):
    run_id = window.model.run_at(3).id
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(window, 3, 2))
    qtbot.keyClick(window.view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: run_id in open_run_windows(), timeout=10_000)
    open_run_windows()[run_id].close()


def test_a_click_on_the_view_icon_opens_the_run(qtbot, window):
    run_id = window.model.run_at(1).id
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(window, 1, VIEW_COLUMN))
    qtbot.waitUntil(lambda: run_id in open_run_windows(), timeout=10_000)
    open_run_windows()[run_id].close()


# -- cancel --------------------------------------------------------------------------------


def status_of(db, run_id: int) -> RunStatus:
    with db.read() as conn:
        return RunStatus(conn.execute(sa.select(RUNS.c.status).where(RUNS.c.id == run_id)).scalar_one())


def select_run(qtbot, window: MainWindow, run_id: int) -> int:
    qtbot.waitUntil(lambda: window.model.row_of_run(run_id) is not None, timeout=10_000)
    row = window.model.row_of_run(run_id)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=row_centre(window, row, 2))
    return row


def test_delete_cancels_a_scheduled_run_after_asking(qtbot, window, seeded):
    db, ids = seeded
    run_id = add_run(db, ids, status=RunStatus.SCHEDULED, scheduled_for=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
    row = select_run(qtbot, window, run_id)
    with answering(qtbot, QMessageBox.StandardButton.Yes) as asked:
        qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert asked == [(f"Cancel run {run_id}?", "Keep")]  # No is the default of a destructive question
    qtbot.waitUntil(lambda: window.model.index(row, STATUS_COLUMN).data() == "Canceled", timeout=10_000)
    assert status_of(db, run_id) is RunStatus.CANCELED
    assert window.statusBar().currentMessage() == f"Run {run_id} canceled"
    assert not window.cancel_action.isEnabled()  # the selected run is now finished


def test_answering_no_leaves_the_run_scheduled(qtbot, window, seeded):
    db, ids = seeded
    run_id = add_run(db, ids, status=RunStatus.SCHEDULED)
    select_run(qtbot, window, run_id)
    with answering(qtbot, QMessageBox.StandardButton.No) as asked:
        qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert asked == [(f"Cancel run {run_id}?", "Keep")]
    qtbot.wait(POLL_MS * 3)
    assert status_of(db, run_id) is RunStatus.SCHEDULED
    assert window.cancel_action.isEnabled()


def test_cancel_asks_a_run_in_progress_elsewhere_to_stop(qtbot, window, seeded):
    db, ids = seeded
    run_id = add_run(db, ids, status=RunStatus.IN_PROGRESS, in_progress_at=dt.datetime.now(dt.timezone.utc))
    select_run(qtbot, window, run_id)
    assert window.cancel_action.isEnabled()
    window.confirm_cancel = False
    window.cancel_action.trigger()

    def requested():
        with db.read() as conn:
            return conn.execute(sa.select(RUNS.c.cancel_requested_at).where(RUNS.c.id == run_id)).scalar_one()

    qtbot.waitUntil(lambda: requested() is not None, timeout=10_000)


def test_cancel_is_off_for_finished_runs(qtbot, window, seeded):
    db, ids = seeded
    run_id = add_run(db, ids, status=RunStatus.COMPLETED)
    select_run(qtbot, window, run_id)
    assert not window.cancel_action.isEnabled()


# -- live ------------------------------------------------------------------------------------


def test_a_new_run_appears_on_top_keeping_selection_and_scroll(qtbot, window, seeded):
    db, ids = seeded
    window.resize(1400, 400)
    qtbot.wait(50)
    bar = window.view.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    top_run = window.model.run_at(window.view.rowAt(0))
    qtbot.waitUntil(lambda: window.model.run_at(window.view.rowAt(5)) is not None, timeout=10_000)
    chosen = window.model.run_at(window.view.rowAt(5)).id
    select_run(qtbot, window, chosen)
    new_id = add_run(db, ids)
    qtbot.waitUntil(lambda: window.model.row_of_run(new_id) == 0, timeout=10_000)
    assert window.selected_run_ids() == [chosen]
    assert window.model.run_at(window.view.rowAt(0)).id == top_run.id


def test_a_run_updated_by_another_client_updates_its_row(qtbot, window, seeded):
    db, ids = seeded
    run_id = add_run(db, ids, status=RunStatus.IN_PROGRESS, in_progress_at=dt.datetime.now(dt.timezone.utc))
    qtbot.waitUntil(lambda: window.model.row_of_run(run_id) == 0, timeout=10_000)
    with db.write() as conn:
        conn.execute(sa.update(RUNS).where(RUNS.c.id == run_id).values(query_param_customers=4321, potential_customers=1200))
    qtbot.waitUntil(lambda: window.model.index(0, COLUMN_OF_KEY["query_param_customers"]).data() == "4,321", timeout=10_000)


# -- the database going away ---------------------------------------------------------------


@pytest.fixture
def vanishing_pg(pg_server):
    """A PostgreSQL database of this test's own, so it can refuse connections
    without touching the shared server or the session's database."""
    from enroller_desktop.db.engine import normalize_url, open_database

    base = pg_server.get()
    admin = sa.create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    name = f"enroller_vanish_{id(admin)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = normalize_url(base).set(database=name).render_as_string(hide_password=False)
    db = open_database(url)
    yield db, admin, name
    db.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def test_a_database_that_goes_away_is_shown_and_recovered_from(qtbot, vanishing_pg, tmp_path):
    db, admin, name = vanishing_pg
    ids = add_organizations(db)
    add_runs(db, ids, 30)
    window = open_window(qtbot, db, make_settings(tmp_path))
    shown = [window.model.run_at(r) for r in range(window.model.rowCount())]

    with admin.connect() as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        conn.exec_driver_sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    qtbot.waitUntil(lambda: "not answering" in window.database_label.text(), timeout=15_000)
    assert [window.model.run_at(r) for r in range(window.model.rowCount())] == shown

    with admin.connect() as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    qtbot.waitUntil(lambda: window.database_label.text().startswith("Connected"), timeout=15_000)
    new_id = add_run(db, ids)
    qtbot.waitUntil(lambda: window.model.row_of_run(new_id) == 0, timeout=10_000)
    window.close()


def test_the_window_title_shows_the_database_without_its_password(qtbot, seeded, tmp_path):
    db, _ids = seeded
    window = open_window(qtbot, db, make_settings(tmp_path))
    assert window.windowTitle() == f"Enroller Runs — {db.display_url}"
    window.close()


# -- a screenshot on demo data -----------------------------------------------------------


def test_a_screenshot_of_the_main_window_on_demo_data(qtbot, sqlite_db, tmp_path, shots):
    from enroller_desktop import demo
    from enroller_desktop.engine import runs

    db = sqlite_db
    demo.load_demo(db, customers=300, seed=1, runs=False)  # the six runs below are the ones shown
    with db.read() as conn:
        campaign_ids = conn.execute(sa.select(sa.text("id")).select_from(sa.table("campaigns")).order_by(sa.text("id"))).scalars().all()
    for campaign_id in campaign_ids[:6]:
        runs.execute_run(db, runs.create_run(db, campaign_id=campaign_id))
    runs.create_run(db, campaign_id=campaign_ids[0], scheduled_for=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2))
    window = open_window(qtbot, db, make_settings(tmp_path))
    window.resize(1500, 900)
    window.trends_dock.show()
    with qtbot.waitSignal(window.trends_dock.updated, timeout=10_000):
        window.trends_dock.refresh()
    assert window.model.rowCount() == 7  # the six executed runs and the scheduled one
    picture = shoot(window, shots / "main_window.png")
    assert assert_badges_drawn(picture, window) == 7
    assert_not_blank(picture, area_of(window.view.viewport(), window), what="the runs")
    assert_durations_drawn(picture, window, window.trends_dock)
    window.close()


# -- scheduled runs --------------------------------------------------------------------


def test_an_overdue_scheduled_run_looks_overdue_and_says_since_when(qtbot, window, seeded):
    from enroller_desktop.ui.index_model import OVERDUE_LABEL, OverdueRole

    db, ids = seeded
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    overdue = add_run(db, ids, status=RunStatus.SCHEDULED, scheduled_for=now - dt.timedelta(minutes=5))
    later = add_run(db, ids, status=RunStatus.SCHEDULED, scheduled_for=now + dt.timedelta(hours=1))
    qtbot.waitUntil(lambda: window.model.row_of_run(overdue) is not None and window.model.row_of_run(later) is not None, timeout=10_000)
    overdue_cell = window.model.index(window.model.row_of_run(overdue), STATUS_COLUMN)
    later_cell = window.model.index(window.model.row_of_run(later), STATUS_COLUMN)
    run = window.model.run_at(overdue_cell.row())
    since = window.model.time_format.shown(now - dt.timedelta(minutes=5), run.organization_timezone)  # the window's clock
    assert overdue_cell.data(Qt.ItemDataRole.ToolTipRole).startswith(f"Overdue since {since}")
    assert overdue_cell.data(OverdueRole) is not None
    assert later_cell.data(OverdueRole) is None and later_cell.data(Qt.ItemDataRole.ToolTipRole) is None
    # The badge is drawn whole, its label with room to spare: its fill ends inside the cell.
    view = window.view
    view.scrollTo(overdue_cell)
    picture = view.viewport().grab().toImage()
    cell = view.visualRect(overdue_cell)
    badge_end = cell.left() + 4 + view.fontMetrics().horizontalAdvance(OVERDUE_LABEL) + 16
    assert badge_end <= cell.x() + cell.width() - 4, (badge_end, cell)
    assert picture.pixelColor(badge_end - 4, cell.center().y()).name() == theme.OVERDUE_COLOURS[0]


def test_the_run_id_and_scheduled_for_columns_are_hidden_until_chosen_in_the_header_menu(qtbot, window, seeded):
    from PySide6.QtWidgets import QMenu

    db, ids = seeded
    when = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    run_id = add_run(db, ids, status=RunStatus.SCHEDULED, scheduled_for=when)
    qtbot.waitUntil(lambda: window.model.row_of_run(run_id) is not None, timeout=10_000)
    scheduled_for, run_column = COLUMN_OF_KEY["scheduled_for"], COLUMN_OF_KEY["run_id"]
    assert window.view.isColumnHidden(scheduled_for) and window.view.isColumnHidden(run_column)
    menu = QMenu()
    window._fill_columns_menu(menu)
    for action in menu.actions():
        if action.text() in ("Run", "Scheduled For"):
            action.trigger()
    assert not window.view.isColumnHidden(scheduled_for) and not window.view.isColumnHidden(run_column)
    row = window.model.row_of_run(run_id)
    shown = window.model.time_format.shown(when, window.model.run_at(row).organization_timezone)
    assert window.model.index(row, scheduled_for).data() == shown
    assert window.model.index(row, run_column).data() == str(run_id)
