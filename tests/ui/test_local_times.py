"""Times on the dealership's clock (issue 11): every time shown is the stored UTC
time converted by zoneinfo to the chosen zone (View ▸ Time Zone), the Created
filter counts days in that zone, an unknown zone is UTC and says so, one
duration rule everywhere, and a CSV keeps ISO 8601 UTC unless asked otherwise."""

from __future__ import annotations

import csv
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QDate, QDateTime, QLocale, Qt, QTime, QTimeZone
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from enroller_desktop import export, tables
from enroller_desktop.db import models as m
from enroller_desktop.db import index_queries
from enroller_desktop.db.index_queries import RunFilter, RunSort, count_runs
from enroller_desktop.times import TimeFormat, ZoneChoice, day_bounds
from enroller_desktop.ui import run_window as run_window_module
from enroller_desktop.ui.main_window import MainWindow
from enroller_desktop.ui.new_run_dialog import NewRunDialog
from enroller_desktop.run_index import COLUMN_OF_KEY, COLUMNS
from enroller_desktop.ui.time_format import locale_form

from .answering import answering, saving
from tests.builders import T0, add_organizations, add_run, build_run
from .test_main_window import make_settings, open_window
from .test_run_window import open_window as open_run_window

UTC = dt.timezone.utc
CREATED = dt.datetime(2026, 1, 15, 3, 30, tzinfo=UTC)  # still the 14th in Vancouver and Toronto
COMPUTER_ZONE = "Asia/Tokyo"
CLOCKS = {"Maple Motors": "America/Vancouver", "Bayside Auto Group": "America/Toronto"}


@pytest.fixture(autouse=True)
def c_locale():
    """The C locale's form (``yyyy-MM-dd HH:mm``), whatever the machine's language."""
    before = QLocale()
    QLocale.setDefault(QLocale.c())
    yield
    QLocale.setDefault(before)


@pytest.fixture
def computer_in_tokyo(monkeypatch):
    monkeypatch.setenv("TZ", COMPUTER_ZONE)  # what Qt and Python read as this computer's zone


def wall_text(value: dt.datetime, zone_name: str, *, abbreviated: bool = False) -> str:
    wall = value.astimezone(ZoneInfo(zone_name))
    return wall.strftime("%Y-%m-%d %H:%M") + (f" {wall.tzname()}" if abbreviated else "")


def expected_zone(choice: ZoneChoice, organization_zone: str) -> str:
    return {ZoneChoice.ORGANIZATION: organization_zone, ZoneChoice.COMPUTER: COMPUTER_ZONE, ZoneChoice.UTC: "UTC"}[choice]


def choose_zone(window: MainWindow, choice: ZoneChoice) -> None:
    """View ▸ Time Zone ▸ ``choice``, as a person picks it."""
    action = next(a for a in window.zone_menu.actions() if a.data() == choice.value)
    action.trigger()
    assert action.isChecked()


def set_clocks(db, ids: dict[str, int], clocks: dict[str, str | None]) -> None:
    with db.write() as conn:
        for name, clock in clocks.items():
            conn.execute(sa.update(m.Organization.__table__).where(m.Organization.id == ids[name]).values(timezone=clock))


@pytest.fixture
def two_clocks(db):
    ids = add_organizations(db)
    set_clocks(db, ids, CLOCKS)
    runs = {
        name: add_run(db, ids, organization_id=ids[name], campaign_id=ids[campaign], created_at=CREATED,
                      in_progress_at=CREATED + dt.timedelta(seconds=2), completed_at=CREATED + dt.timedelta(seconds=75))
        for name, campaign in (("Maple Motors", "Service Due"), ("Bayside Auto Group", "Warranty Expiry"))
    }
    return ids, runs


# -- the runs index -------------------------------------------------------------------


@pytest.mark.parametrize("choice", list(ZoneChoice), ids=lambda c: c.value)
def test_the_runs_index_shows_each_time_on_the_chosen_clock(qtbot, db, tmp_path, computer_in_tokyo, two_clocks, choice):
    _ids, runs = two_clocks
    window = open_window(qtbot, db, make_settings(tmp_path))
    choose_zone(window, choice)
    model = window.model
    for name, run_id in runs.items():
        row = model.row_of_run(run_id)
        zone_name = expected_zone(choice, CLOCKS[name])
        mixed = choice is ZoneChoice.ORGANIZATION  # Vancouver and Toronto rows side by side: each names its zone
        for key, value in (("created_at", CREATED), ("completed_at", CREATED + dt.timedelta(seconds=75))):
            index = model.index(row, COLUMN_OF_KEY[key])
            assert index.data() == wall_text(value, zone_name, abbreviated=mixed)
            assert index.data(Qt.ItemDataRole.ToolTipRole).startswith(value.strftime("%Y-%m-%dT%H:%M:%SZ (UTC)"))
    window.close()


def test_the_zone_choice_is_remembered(qtbot, db, tmp_path, two_clocks):
    settings = make_settings(tmp_path)
    window = open_window(qtbot, db, settings)
    choose_zone(window, ZoneChoice.UTC)
    window.close()
    again = open_window(qtbot, db, settings)
    assert next(a for a in again.zone_menu.actions() if a.isChecked()).data() == "utc"
    row = again.model.row_of_run(two_clocks[1]["Maple Motors"])
    assert again.model.index(row, COLUMN_OF_KEY["created_at"]).data() == wall_text(CREATED, "UTC")
    again.close()


@pytest.mark.parametrize("stored", ["Mars/Olympus_Mons", "", None])
def test_an_unknown_or_empty_zone_is_shown_in_utc_and_says_so(qtbot, db, tmp_path, two_clocks, stored):
    ids, runs = two_clocks
    set_clocks(db, ids, {"Maple Motors": stored})
    window = open_window(qtbot, db, make_settings(tmp_path))
    row = window.model.row_of_run(runs["Maple Motors"])
    index = window.model.index(row, COLUMN_OF_KEY["created_at"])
    assert index.data() == wall_text(CREATED, "UTC", abbreviated=True)
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith("2026-01-15T03:30:00Z (UTC)")
    problem = "names an unknown time zone, 'Mars/Olympus_Mons'" if stored else "has no time zone set"
    assert tip == f"2026-01-15T03:30:00Z (UTC); the organization {problem}, so it is shown in UTC"
    window.close()


# -- the Created filter -----------------------------------------------------------------


def a_zone_whose_date_is_not_utcs(now: dt.datetime) -> str:
    """A zone whose date differs from UTC's now (at every hour one of these does)."""
    return next(name for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago") if now.astimezone(ZoneInfo(name)).date() != now.date())


@pytest.mark.parametrize("choice", [ZoneChoice.COMPUTER, ZoneChoice.ORGANIZATION], ids=lambda c: c.value)
def test_today_counts_the_day_of_the_chosen_zone(qtbot, db, tmp_path, monkeypatch, choice):
    now = dt.datetime.now(UTC)
    zone_name = a_zone_whose_date_is_not_utcs(now)
    monkeypatch.setenv("TZ", zone_name)
    ids = add_organizations(db)
    set_clocks(db, ids, {"Maple Motors": zone_name, "Bayside Auto Group": zone_name})
    # Just before the later of the two midnights: today on one clock, yesterday on the other.
    local_midnight, _ = day_bounds(now.astimezone(ZoneInfo(zone_name)).date(), None, zone_name)
    utc_midnight = dt.datetime.combine(now.date(), dt.time(), UTC)
    between = max(local_midnight, utc_midnight) - dt.timedelta(minutes=1)
    created = [now - dt.timedelta(seconds=5), between, now - dt.timedelta(days=3)]
    run_ids = [add_run(db, ids, created_at=when) for when in created]
    window = open_window(qtbot, db, make_settings(tmp_path))
    dock = window.filter_dock

    def todays(zone: str) -> set[int]:
        return {run_id for run_id, when in zip(run_ids, created) if when.astimezone(ZoneInfo(zone)).date() == now.astimezone(ZoneInfo(zone)).date()}

    with qtbot.waitSignal(window.model.reloaded, timeout=10_000):
        choose_zone(window, ZoneChoice.UTC)
        dock.preset.setCurrentIndex(dock.preset.findData("today"))
        dock.apply_now()
    assert {window.model.run_at(row).id for row in range(window.model.rowCount())} == todays("UTC")

    with qtbot.waitSignal(window.model.reloaded, timeout=10_000):
        choose_zone(window, choice)
        dock.apply_now()
    assert dock.created_from.date().toPython() == now.astimezone(ZoneInfo(zone_name)).date() != now.date()
    shown = {window.model.run_at(row).id for row in range(window.model.rowCount())}
    assert shown == todays(zone_name) != todays("UTC")
    window.close()


def test_each_organization_counts_its_own_day(db):
    """With the organizations' zones, "the 14th" is the 14th of each run's own clock."""
    ids = add_organizations(db)
    set_clocks(db, ids, {"Maple Motors": "America/Vancouver", "Bayside Auto Group": "Asia/Tokyo"})
    # 03:30 UTC on the 15th: the 14th in Vancouver, the 15th in Tokyo.
    vancouver = add_run(db, ids, organization_id=ids["Maple Motors"], created_at=CREATED)
    tokyo = add_run(db, ids, organization_id=ids["Bayside Auto Group"], campaign_id=ids["Win Back"], created_at=CREATED)
    the_14th = dt.date(2026, 1, 14)
    with db.read() as conn:
        by_own_clock = count_runs(conn, RunFilter(created_from=the_14th, created_to=the_14th, day_zone=None))
        by_utc = count_runs(conn, RunFilter(created_from=the_14th, created_to=the_14th))
        in_tokyo = count_runs(conn, RunFilter(created_from=the_14th, created_to=the_14th, day_zone="Asia/Tokyo"))
    assert (by_own_clock, by_utc, in_tokyo) == (1, 0, 0)
    assert vancouver != tokyo


# -- the run window ---------------------------------------------------------------------


@pytest.mark.parametrize("clock", ["America/Vancouver", "America/Toronto"])
@pytest.mark.parametrize("choice", list(ZoneChoice), ids=lambda c: c.value)
def test_the_run_window_shows_every_time_on_the_chosen_clock(qtbot, db, tmp_path, computer_in_tokyo, clock, choice):
    built = build_run(db)
    with db.write() as conn:
        run = conn.execute(sa.select(m.EnrollerRun.__table__).where(m.EnrollerRun.id == built.run_id)).one()
        conn.execute(sa.update(m.Organization.__table__).where(m.Organization.id == run.organization_id).values(timezone=clock))
    settings = make_settings(tmp_path)
    settings.set("view/time_zone", choice.value)
    window = run_window_module.show_run_window(db, built.run_id, settings=settings)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.summary_model.rowCount() > 0 and window.event_model.rowCount() > 0, timeout=10_000)
    zone_name = expected_zone(choice, clock)
    fields = {window.summary_model.index(row, 0).data(): row for row in range(window.summary_model.rowCount())}
    created = window.summary_model.index(fields["Created At"], 1)
    assert created.data() == wall_text(T0, zone_name)
    assert created.data(Qt.ItemDataRole.ToolTipRole).startswith("2026-03-02T09:30:00Z (UTC)")
    assert window.summary_model.index(fields["Completed At"], 1).data() == wall_text(run.completed_at, zone_name)
    first_stage = window.event_model.index(0, 0)
    event_time = window.event_model.index(0, 0, first_stage)
    assert event_time.data() == wall_text(T0, zone_name)
    params = window.query_param_model
    created_column = params.table.column_index("created_at")
    assert params.index(0, created_column).data() == wall_text(T0, zone_name)
    potentials = window.potentials_model
    qtbot.waitUntil(lambda: potentials.total is not None and not potentials.busy, timeout=10_000)
    validated = potentials.table.column_index("validated_at")
    with db.read() as conn:
        stored = conn.execute(sa.select(m.EnrollerRunCustomer.__table__.c.validated_at)
                              .where(m.EnrollerRunCustomer.__table__.c.run_id == built.run_id).order_by(m.EnrollerRunCustomer.__table__.c.id)).scalars().all()
    shown = [potentials.index(row, validated).data() for row in range(potentials.rowCount())]
    assert shown == [wall_text(value, zone_name) if value else "" for value in stored]


def test_changing_the_zone_updates_an_open_run_window(qtbot, db, tmp_path):
    built = build_run(db)  # an organization in America/Toronto
    settings = make_settings(tmp_path)
    main = MainWindow(db, settings=settings)
    qtbot.addWidget(main)
    window = run_window_module.show_run_window(db, built.run_id, settings=settings)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.summary_model.rowCount() > 0, timeout=10_000)
    assert window.summary_model.index(0, 1).data() == wall_text(T0, "America/Toronto")
    with qtbot.waitSignal(window.details_loaded, timeout=10_000):
        choose_zone(main, ZoneChoice.UTC)
    assert window.summary_model.index(0, 1).data() == wall_text(T0, "UTC")
    main.close()


# -- durations and counts ---------------------------------------------------------------


def test_one_duration_rule_in_the_index_the_summary_and_the_query_params(qtbot, db, tmp_path):
    built = build_run(db)
    runs, params = m.EnrollerRun.__table__, m.EnrollerRunQueryParam.__table__
    with db.write() as conn:
        start = T0 + dt.timedelta(seconds=1)
        conn.execute(sa.update(runs).where(runs.c.id == built.run_id).values(in_progress_at=start, completed_at=start + dt.timedelta(milliseconds=161)))
        first = conn.execute(sa.select(sa.func.min(params.c.id)).where(params.c.run_id == built.run_id)).scalar_one()
        conn.execute(sa.update(params).where(params.c.id == first).values(in_progress_at=start, completed_at=start + dt.timedelta(milliseconds=57)))
    main = open_window(qtbot, db, make_settings(tmp_path))
    index_text = main.model.index(main.model.row_of_run(built.run_id), COLUMN_OF_KEY["duration"]).data()
    window = open_run_window(qtbot, db, built.run_id)
    summary = {window.summary_model.index(row, 0).data(): window.summary_model.index(row, 1).data() for row in range(window.summary_model.rowCount())}
    param_text = window.query_param_model.index(0, window.query_param_model.table.column_index("duration")).data()
    assert index_text == summary["Duration"] == "161 ms" == tables.format_seconds(0.161)
    assert param_text == "57 ms" == tables.format_seconds(0.057)
    main.close()


def test_counts_have_thousands_separators_on_screen_and_plain_digits_in_a_csv(qtbot, db, tmp_path, monkeypatch):
    built = build_run(db)
    with db.write() as conn:
        conn.execute(sa.update(m.EnrollerRun.__table__).where(m.EnrollerRun.id == built.run_id).values(query_param_customers=12345))
    window = open_run_window(qtbot, db, built.run_id)
    summary = {window.summary_model.index(row, 0).data(): window.summary_model.index(row, 1).data() for row in range(window.summary_model.rowCount())}
    assert summary["Query Param Customers"] == "12,345"
    exported = read_export(qtbot, window, tmp_path / "summary.csv")
    assert exported["Query Param Customers"] == "12345"


# -- CSV --------------------------------------------------------------------------------


def read_export(qtbot, window, out, *, times_as_shown: bool | None = None) -> dict[str, str]:
    """The Summary tab exported, saved as ``out`` in the Export dialog with
    "Times as shown" as asked, and read back as field: value."""
    window.tabs.setCurrentIndex(0)
    with qtbot.waitSignal(window.export_finished, timeout=10_000), saving(qtbot, out, times_as_shown=times_as_shown):
        window.export_current_tab()
    qtbot.waitUntil(lambda: not window.exporting)  # the next export is refused until this one has ended
    return read_csv_fields(out)


def test_a_run_csv_holds_iso_utc_unless_times_as_shown_is_ticked_where_it_is_saved(qtbot, db, tmp_path):
    built = build_run(db)  # America/Toronto
    settings = make_settings(tmp_path)
    window = run_window_module.show_run_window(db, built.run_id, settings=settings)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.summary_model.rowCount() > 0, timeout=10_000)

    window.tabs.setCurrentIndex(0)
    with qtbot.waitSignal(window.export_finished, timeout=10_000), saving(qtbot, tmp_path / "default.csv") as offered:
        qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.exporting)
    text, ticked, enabled = offered[0]
    assert (ticked, enabled) == (False, True)  # off until the user ticks it (RULES §8)
    assert text == "Times as shown (in the zone chosen in View: Organization's Time Zone)"
    assert read_csv_fields(tmp_path / "default.csv")["Created At"] == "2026-03-02T09:30:00Z"

    shown = read_export(qtbot, window, tmp_path / "shown.csv", times_as_shown=True)
    assert shown["Created At"] == wall_text(T0, "America/Toronto")
    assert settings.get("export/times_as_shown")  # remembered: the next export offers it ticked

    again = read_export(qtbot, window, tmp_path / "again.csv")
    assert again["Created At"] == wall_text(T0, "America/Toronto")
    plain = read_export(qtbot, window, tmp_path / "plain.csv", times_as_shown=False)
    assert plain["Created At"] == "2026-03-02T09:30:00Z"
    assert not settings.get("export/times_as_shown")


def read_csv_fields(path) -> dict[str, str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return dict(list(csv.reader(handle))[1:])


def test_the_runs_csv_of_times_as_shown_holds_the_times_as_shown(db, tmp_path, two_clocks):
    times = TimeFormat(ZoneChoice.ORGANIZATION, locale_form(), "UTC", abbreviate=True)
    columns = [column for column in COLUMNS if column.key == "created_at"]
    plain, shown = tmp_path / "plain.csv", tmp_path / "shown.csv"
    export.export_runs(db, RunFilter(), RunSort("id", False), columns, plain)
    export.export_runs(db, RunFilter(), RunSort("id", False), columns, shown, times=times)
    def read(path) -> list[str]:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return [row[0] for row in list(csv.reader(handle))[1:]]

    assert read(plain) == ["2026-01-15T03:30:00Z"] * 2
    assert read(shown) == [wall_text(CREATED, "America/Vancouver", abbreviated=True), wall_text(CREATED, "America/Toronto", abbreviated=True)]


# -- the locale's form ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["en_US", "en_GB", "de_DE", "fr_CA", "ja_JP"])
def test_the_short_form_is_the_locales(name):
    locale = QLocale(name)
    form = locale_form(locale)
    for moment in (dt.datetime(2026, 1, 5, 9, 7), dt.datetime(2026, 12, 24, 23, 59), dt.datetime(2026, 7, 1, 0, 0)):
        expected = locale.toString(QDateTime(moment.date(), moment.time()), QLocale.FormatType.ShortFormat)
        assert form.render(moment) == expected


# -- Trends -----------------------------------------------------------------------------


def test_trends_count_days_on_the_chosen_clock_across_a_daylight_saving_change(db):
    ids = add_organizations(db)
    set_clocks(db, ids, {"Maple Motors": "America/Vancouver", "Bayside Auto Group": "Asia/Tokyo"})
    # Vancouver moves to PDT at 10:00 UTC on 2026-03-08.
    moments = [dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC), dt.datetime(2026, 3, 9, 7, 30, tzinfo=UTC)]
    for when in moments:
        add_run(db, ids, created_at=when, in_progress_at=when, completed_at=when + dt.timedelta(seconds=4))
    add_run(db, ids, organization_id=ids["Bayside Auto Group"], campaign_id=ids["Win Back"], created_at=moments[0])

    def days(day_zone: str | None) -> dict[dt.date, int]:
        with db.read() as conn:
            counts: dict[dt.date, int] = {}
            for count in index_queries.runs_per_day(conn, RunFilter(day_zone=day_zone)):
                counts[count.day] = counts.get(count.day, 0) + count.runs
            return counts

    def expected(zone_of_run) -> dict[dt.date, int]:
        counts: dict[dt.date, int] = {}
        for when, clock in zip([*moments, moments[0]], zone_of_run):
            day = when.astimezone(ZoneInfo(clock)).date()
            counts[day] = counts.get(day, 0) + 1
        return counts

    assert days("UTC") == expected(["UTC"] * 3) == {dt.date(2026, 3, 8): 2, dt.date(2026, 3, 9): 1}
    assert days("America/Vancouver") == expected(["America/Vancouver"] * 3) == {dt.date(2026, 3, 7): 2, dt.date(2026, 3, 9): 1}
    assert days(None) == expected(["America/Vancouver", "America/Vancouver", "Asia/Tokyo"])
    with db.read() as conn:
        medians = index_queries.median_duration_per_day(conn, RunFilter(day_zone="America/Vancouver"))
    assert medians == [(dt.date(2026, 3, 7), 4.0), (dt.date(2026, 3, 9), 4.0)]


# -- New Run ----------------------------------------------------------------------------


def test_new_run_takes_times_on_the_organizations_clock(qtbot, db, tmp_path, two_clocks):
    ids, _runs = two_clocks
    window = open_window(qtbot, db, make_settings(tmp_path))
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(NewRunDialog)
    qtbot.waitUntil(lambda: dialog.campaign.count() > 0, timeout=10_000)
    dialog.organization.setCurrentIndex(dialog.organization.findData(ids["Maple Motors"]))
    dialog.later_button.setChecked(True)
    vancouver = QTimeZone(b"America/Vancouver")
    dialog.scheduled_for.setDateTime(QDateTime(QDate(2030, 7, 1), QTime(9, 0), vancouver))
    assert dialog.scheduled_for.timeZone().id() == b"America/Vancouver"
    assert dialog.scheduled_for.text() == "2030-07-01 09:00 PDT"
    # The sample campaign has no query param: New Run says the run would be Not
    # Applicable, and the test creates it all the same to read the time it stored.
    with answering(qtbot, QMessageBox.StandardButton.Yes):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dialog.run_id is not None, timeout=10_000)
    with db.read() as conn:
        stored = conn.execute(sa.select(m.EnrollerRun.__table__.c.scheduled_for).where(m.EnrollerRun.id == dialog.run_id)).scalar_one()
    assert stored.replace(tzinfo=UTC) == dt.datetime(2030, 7, 1, 9, 0, tzinfo=ZoneInfo("America/Vancouver")).astimezone(UTC)
    window.close()
