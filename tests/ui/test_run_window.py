"""The run detail window, driven as a person would, on runs the engine executed."""

from __future__ import annotations

import csv
from zoneinfo import ZoneInfo

import pyqtgraph as pg
import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from enroller_desktop import export, run_detail, tables
from enroller_desktop.db import detail_queries
from enroller_desktop.db import models as m
from enroller_desktop.db.folding import fold_ascii
from enroller_desktop.db.enums import Check, PotentialStatus, RunPurpose, RunStatus, RunStep
from enroller_desktop.engine import criteria
from enroller_desktop.ui import theme
from enroller_desktop.ui.query_param_chart import QueryParamChart
from enroller_desktop.ui.table_models import PAGE_SIZE, EventTreeModel, PagedTableModel, RowsTableModel
from enroller_desktop.ui.run_window import RunWindow, show_run_window
from tests.builders import CHECKS, build_run, engine_run
from tests.pictures import area_of, assert_colour_drawn, assert_funnel_bars_drawn, assert_not_blank, assert_text_whole, shoot

from .answering import saving

PURPOSES = list(RunPurpose)


def loaded(qtbot, model: PagedTableModel) -> PagedTableModel:
    qtbot.waitUntil(lambda: model.total is not None and not model.busy and model.rowCount() == model.total, timeout=10_000)
    return model


def open_window(qtbot, db, run_id: int) -> RunWindow:
    window = show_run_window(db, run_id)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.summary_model.rowCount() > 0, timeout=10_000)
    loaded(qtbot, window.potentials_model)
    loaded(qtbot, window.campaign_customers_model)
    return window


def column_texts(model, key: str) -> list[str]:
    column = model.table.column_index(key)
    return [model.index(row, column).data() for row in range(model.rowCount())]


def run_row(db, run_id):
    with db.read() as conn:
        return conn.execute(sa.select(m.EnrollerRun.__table__).where(m.EnrollerRun.id == run_id)).one()


def potentials_of(db, run_id, *where):
    table = m.EnrollerRunCustomer.__table__
    with db.read() as conn:
        return conn.execute(sa.select(table).where(table.c.run_id == run_id, *where).order_by(table.c.id)).all()


# -- one window per run -------------------------------------------------------------


def test_opening_a_run_again_raises_its_window_instead_of_a_second(qtbot, db):
    run_id = build_run(db).run_id
    first = open_window(qtbot, db, run_id)
    assert show_run_window(db, run_id) is first


def test_the_title_names_the_campaign_and_the_run_time(qtbot, db):
    run_id = build_run(db).run_id
    window = open_window(qtbot, db, run_id)
    # 09:30 UTC on the organization's clock (America/Toronto, EST), in the locale's short form.
    assert window.windowTitle() == f"Lease — maturité — Default run {run_id} of 2026-03-02 04:30"


# -- Summary --------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", PURPOSES, ids=lambda p: p.value)
def test_summary_shows_the_runs_fields_and_counts(qtbot, db, purpose):
    run_id = engine_run(db, purpose)
    window = open_window(qtbot, db, run_id)
    run = run_row(db, run_id)
    fields = dict((window.summary_model.index(row, 0).data(), window.summary_model.index(row, 1).data()) for row in range(window.summary_model.rowCount()))
    assert fields["Purpose"] == purpose.label
    assert fields["Status"] == run.status.label
    assert fields["Step"] == run.step.label
    organization_clock = ZoneInfo(window.summary.organization_timezone or "UTC")  # none set: UTC
    assert fields["Created At"] == run.created_at.astimezone(organization_clock).strftime("%Y-%m-%d %H:%M")
    for field, column in (("Query Param Customers", "query_param_customers"), ("Potential Customers", "potential_customers"), ("Eligible", "eligible"), ("Success", "success")):
        value = getattr(run, column)
        assert fields[field] == ("" if value is None else f"{value:,}")
    assert ("Expired" in fields) == (purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE)


def test_a_run_in_error_shows_its_message_standing_out(qtbot, db):
    run_id = build_run(db, status=RunStatus.ERROR).run_id
    window = open_window(qtbot, db, run_id)
    model = window.summary_model
    row = next(row for row in range(model.rowCount()) if model.index(row, 0).data() == "Error Message")
    assert model.index(row, 1).data() == "The database stopped answering"
    assert model.index(row, 1).data(Qt.ItemDataRole.FontRole).bold()


def test_events_are_grouped_under_the_five_stages_with_errors_standing_out(qtbot, db):
    run_id = build_run(db).run_id
    window = open_window(qtbot, db, run_id)
    model = window.event_model
    stages = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert stages == [
        "Main — 1 event",
        "Criterions — 2 events",
        "Enroller Run Customers — 0 events",
        "Customer Validation — 1 event, 1 error",
        "Campaign Customers — 1 event",
    ]
    error = model.index(0, 2, model.index(3, 0))
    assert error.data() == "-Validation failed, twice"
    assert error.data(Qt.ItemDataRole.FontRole).bold()


def test_events_of_an_engine_run_match_the_database(qtbot, db):
    run_id = engine_run(db, RunPurpose.DEFAULT)
    window = open_window(qtbot, db, run_id)
    events = m.EnrollerRunEvent.__table__
    with db.read() as conn:
        stored = conn.execute(sa.select(events.c.stage, events.c.message).where(events.c.run_id == run_id).order_by(events.c.id)).all()
    model = window.event_model
    shown = []
    for row, stage in enumerate(RunStep):
        parent = model.index(row, 0)
        shown += [(stage, model.index(child, 2, parent).data()) for child in range(model.rowCount(parent))]
    assert sorted(shown, key=lambda pair: list(RunStep).index(pair[0])) == sorted(stored, key=lambda pair: list(RunStep).index(pair[0]))
    assert shown


# -- Query Params ---------------------------------------------------------------------


def test_query_params_show_totals_and_criteria_in_words(qtbot, db):
    run_id = engine_run(db, RunPurpose.CRITERION_STATS)
    window = open_window(qtbot, db, run_id)
    rqp, qp = m.EnrollerRunQueryParam.__table__, m.QueryParam.__table__
    with db.read() as conn:
        stored = conn.execute(
            sa.select(rqp.c.process_order, rqp.c.total_customers, qp.c.criterion).join(qp, qp.c.id == rqp.c.query_param_id).where(rqp.c.run_id == run_id).order_by(rqp.c.process_order, rqp.c.id)
        ).all()
    model = window.query_param_model
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    shown = [{titles[c]: model.index(row, c).data() for c in range(model.columnCount())} for row in range(model.rowCount())]
    assert [(r["Process Order"], r["Total Customers"], r["Criterion"]) for r in shown] == [
        (str(order), str(total), criteria.describe(criteria.parse(text))) for order, total, text in stored
    ]
    assert window.query_param_chart.totals == [float(total) for _, total, _ in stored]


@pytest.mark.parametrize(("durations", "unit"), [
    ([0.069, 0.0525], " ms"),
    ([0.5, 12.0], ".0 s"),
    ([30.0, 300.0], " min 00 s"),
])
def test_the_duration_chart_reads_as_the_query_params_table(qtbot, durations, unit):
    """Its bars are the durations in seconds, its ticks written as the table writes
    durations ("60 ms", "5 min 00 s"): no unit label, never a scale factor."""
    chart = QueryParamChart()
    qtbot.addWidget(chart)
    chart.resize(900, 400)
    chart.set_params(["1. Recent", "2. Everyone"], [26.0, 46.0], durations)
    (bars,) = [item for item in chart.duration_plot.getPlotItem().items if isinstance(item, pg.BarGraphItem)]
    axis = chart.duration_plot.getAxis("left")
    assert axis.labelText == ""
    assert list(bars.opts["height"]) == pytest.approx(durations)
    assert chart.durations == durations  # kept in seconds
    low, high = chart.duration_plot.getViewBox().viewRange()[1]
    (spacing, values), = axis.tickValues(low, high, 200)
    ticks = axis.tickStrings(values, 1, spacing)
    assert ticks == [tables.format_seconds(value) for value in values]
    assert ticks[0] == "0 ms" and ticks[-1].endswith(unit)


# -- Potentials -----------------------------------------------------------------------


@pytest.mark.parametrize("purpose", [p for p in PURPOSES if p is not RunPurpose.CRITERION_STATS], ids=lambda p: p.value)
def test_potentials_show_every_candidate_with_every_check(qtbot, db, purpose):
    run_id = engine_run(db, purpose)
    window = open_window(qtbot, db, run_id)
    model = window.potentials_model
    stored = potentials_of(db, run_id)
    assert model.rowCount() == len(stored) > 0
    assert column_texts(model, "last_name") == [p.last_name or "" for p in stored]
    assert column_texts(model, "status") == [p.status.label for p in stored]
    for check in CHECKS:
        assert column_texts(model, check) == [{1: "Passed", 0: "Failed", None: "NA"}[getattr(p, check)] for p in stored]


def test_potentials_open_in_the_order_the_run_wrote_them(qtbot, db):
    window = open_window(qtbot, db, build_run(db).run_id)
    assert window.potentials_model.listing.sort is None
    assert window.potentials_tab.view.horizontalHeader().sortIndicatorSection() == -1


def test_checks_are_coloured_passed_failed_and_na(qtbot, db):
    window = open_window(qtbot, db, build_run(db).run_id)
    model = window.potentials_model
    column = model.table.column_index("valid_message")
    email = model.table.column_index("valid_email")
    passed, failed, na = model.index(0, email), model.index(2, email), model.index(0, column)
    assert (passed.data(), failed.data(), na.data()) == ("Passed", "Failed", "NA")
    colours = {index.data(Qt.ItemDataRole.ForegroundRole).color().name() for index in (passed, failed, na)}
    assert len(colours) == 3


def test_why_not_enrolled_names_the_failed_checks(qtbot, db):
    window = open_window(qtbot, db, build_run(db).run_id)
    assert column_texts(window.potentials_model, "why_not_enrolled")[:8] == [
        "",
        "",
        "No valid email or phone",
        "Customer deleted",
        "Already enrolled for this event",
        "Already in queue",
        "No CASL consent",
        "Opted out of all; marketing exclusion",
    ]


def test_failed_check_filter_shows_only_those_that_failed_it(qtbot, db):
    run_id = engine_run(db, RunPurpose.DEFAULT)
    window = open_window(qtbot, db, run_id)
    window.tabs.setCurrentWidget(window.potentials_tab)
    window.potentials_tab.check_filter.setCurrentIndex(window.potentials_tab.check_filter.findData(Check.UNIQUE_EVENT))
    model = loaded(qtbot, window.potentials_model)
    stored = potentials_of(db, run_id, m.EnrollerRunCustomer.unique_event == 0)
    assert column_texts(model, "last_name") == [p.last_name or "" for p in stored]
    assert set(column_texts(model, "unique_event")) <= {"Failed"}


def test_status_filter_shows_only_that_status(qtbot, db):
    run_id = build_run(db).run_id
    window = open_window(qtbot, db, run_id)
    window.potentials_tab.status_filter.setCurrentIndex(window.potentials_tab.status_filter.findData(PotentialStatus.SUCCESS))
    model = loaded(qtbot, window.potentials_model)
    assert column_texts(model, "first_name") == ["Zoë", "Smith, John"]


def test_typing_a_name_finds_first_and_last_names_without_regard_to_case(qtbot, db):
    window = open_window(qtbot, db, build_run(db).run_id)
    qtbot.keyClicks(window.potentials_tab.search, "LEE")
    qtbot.waitUntil(lambda: window.potentials_model.listing.filter.name == "LEE", timeout=10_000)
    model = loaded(qtbot, window.potentials_model)
    assert column_texts(model, "last_name") == ["Lee", "lee"]


def test_a_thousand_potentials_scroll_in_keyset_pages_matching_the_sql_order(qtbot, db):
    built = build_run(db)
    table = m.EnrollerRunCustomer.__table__
    with db.write() as conn:
        conn.execute(
            table.insert(),
            [
                {"run_id": built.run_id, "customer_id": built.customer_ids[i % 10], "first_name": f"F{i:04d}", "last_name": f"L{(i * 7919) % 1000:04d}", "status": "pending", "is_valid": False, "deleted": 1}
                for i in range(1000)
            ],
        )
    window = open_window(qtbot, db, built.run_id)
    window.tabs.setCurrentWidget(window.potentials_tab)
    window.show()
    qtbot.waitExposed(window)
    view = window.potentials_tab.view
    column = window.potentials_model.table.column_index("last_name")
    view.horizontalHeader().setSortIndicator(column, Qt.SortOrder.DescendingOrder)
    model = window.potentials_model
    qtbot.waitUntil(lambda: model.listing.sort == "last_name" and model.total == 1010, timeout=10_000)
    for row in range(0, model.rowCount(), PAGE_SIZE):  # as scrolling would
        view.scrollTo(model.index(row, 0))
        qtbot.waitUntil(lambda row=row: model.row_text(row, column) is not None, timeout=10_000)
    qtbot.waitUntil(lambda: all(model.row_text(row, column) is not None for row in range(model.rowCount())), timeout=10_000)
    shown = [model.row_text(row, column) for row in range(model.rowCount())]
    stored = potentials_of(db, built.run_id)
    # Empty last: first when descending; ASCII case folded; ties by id.
    in_sql_order = sorted(stored, key=lambda p: ("\U0010ffff" if p.last_name is None else fold_ascii(p.last_name), p.id), reverse=True)
    assert shown == [p.last_name or "" for p in in_sql_order]


def test_a_jump_to_the_end_reads_the_last_page(qtbot, db):
    built = build_run(db)
    table = m.EnrollerRunCustomer.__table__
    with db.write() as conn:
        conn.execute(table.insert(), [{"run_id": built.run_id, "customer_id": built.customer_ids[0], "first_name": f"F{i:04d}", "status": "pending", "is_valid": False} for i in range(990)])
    window = open_window(qtbot, db, built.run_id)
    window.tabs.setCurrentWidget(window.potentials_tab)
    window.show()
    qtbot.waitExposed(window)
    model = window.potentials_model
    window.potentials_tab.view.scrollToBottom()
    qtbot.waitUntil(lambda: model.row_text(999, 0) is not None, timeout=10_000)
    assert model.row_text(999, 0) == "F0989"


# -- the funnel -----------------------------------------------------------------------


def test_funnel_boxes_show_the_runs_counts_shares_and_proportional_widths(qtbot, db):
    run_id = engine_run(db, RunPurpose.DEFAULT)
    window = open_window(qtbot, db, run_id)
    run = run_row(db, run_id)
    boxes = list(window.funnel_scene.boxes.values())
    counts = [run.query_param_customers, run.potential_customers, run.potential_events, run.eligible, run.success]
    assert [box.count for box in boxes] == counts
    assert boxes[1].lines[1] == f"{run.potential_customers:,} ({run.potential_customers / run.query_param_customers:.1%} of Query Param Customers)"
    assert boxes[3].lines[1] == f"{run.eligible:,} ({run.eligible / run.potential_events:.1%} of Potential Events)"
    assert boxes[3].lines[2] == "the runs index's Eligible" and boxes[4].lines[2] == "the runs index's Success"
    widths = [box.bar_width for box in boxes]
    for width, count in zip(widths[1:], counts[1:]):
        assert width == pytest.approx(max(6.0, widths[0] * count / counts[0]) if count else 0)
    assert [arrow.label for arrow in window.funnel_scene.arrows.values()] == [
        f"−{a - b:,} fell out" if a != b else "none fell out" for a, b in zip(counts, counts[1:])
    ]


def click_item(qtbot, window, item) -> None:
    view = window.funnel_view
    point = view.mapFromScene(item.mapToScene(item.shape().boundingRect().center()))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


@pytest.mark.parametrize("purpose", [RunPurpose.DEFAULT, RunPurpose.CAMPAIGN_SIMULATION], ids=lambda p: p.value)
def test_clicking_a_box_shows_the_candidates_that_reached_it(qtbot, db, purpose):
    window = open_window(qtbot, db, engine_run(db, purpose))
    window.show()
    qtbot.waitExposed(window)
    for box in window.funnel_scene.boxes.values():
        click_item(qtbot, window, box)
        assert window.tabs.currentWidget() is window.potentials_tab
        qtbot.waitUntil(lambda box=box: window.potentials_model.listing.filter.funnel == box.slice, timeout=10_000)
        assert loaded(qtbot, window.potentials_model).total == box.count


def test_clicking_an_arrow_shows_the_candidates_that_fell_out_there(qtbot, db):
    window = open_window(qtbot, db, engine_run(db, RunPurpose.DEFAULT))
    window.show()
    qtbot.waitExposed(window)
    for arrow in window.funnel_scene.arrows.values():
        window.tabs.setCurrentIndex(0)
        click_item(qtbot, window, arrow)
        qtbot.waitUntil(lambda arrow=arrow: window.potentials_model.listing.filter.funnel == arrow.slice, timeout=10_000)
        assert loaded(qtbot, window.potentials_model).total == arrow.fell_out
        assert window.potentials_tab.funnel_filter.currentText() == f"Fell out before {arrow.slice.box.label}"


def test_the_funnel_scales_with_the_window(qtbot, db):
    window = open_window(qtbot, db, build_run(db).run_id)
    window.show()
    qtbot.waitExposed(window)
    window.resize(800, 600)  # the funnel has all but the Summary's fields: about 480 pixels
    qtbot.waitUntil(lambda: window.funnel_view.width() < 520, timeout=10_000)
    small = window.funnel_view.transform().m11()
    window.resize(1600, 1100)
    qtbot.waitUntil(lambda: window.funnel_view.transform().m11() > small * 1.3, timeout=10_000)
    assert window.funnel_view.mapFromScene(window.funnel_view.sceneRect()).boundingRect().width() <= window.funnel_view.viewport().width() + 1


# -- Campaign Customers ---------------------------------------------------------------


@pytest.mark.parametrize("purpose", [RunPurpose.DEFAULT, RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE], ids=lambda p: p.value)
def test_campaign_customers_show_the_enrollments_with_their_vehicle(qtbot, db, purpose):
    run_id = engine_run(db, purpose)
    window = open_window(qtbot, db, run_id)
    run = run_row(db, run_id)
    cc, v, c = m.CampaignCustomer.__table__, m.Vehicle.__table__, m.Customer.__table__
    mine = cc.c.run_id == run_id
    if purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE:
        mine = sa.or_(mine, sa.and_(cc.c.campaign_id == run.campaign_id, cc.c.expired_at == run.as_of))
    with db.read() as conn:
        stored = conn.execute(
            sa.select(c.c.last_name, v.c.year, v.c.make, v.c.model, cc.c.status).select_from(cc.join(c, c.c.id == cc.c.customer_id).outerjoin(v, v.c.id == cc.c.vehicle_id)).where(mine).order_by(cc.c.id)
        ).all()
    model = window.campaign_customers_model
    assert model.rowCount() == len(stored) > 0
    assert column_texts(model, "vehicle") == [" ".join(str(p) for p in (row.year, row.make, row.model) if p not in (None, "")) for row in stored]
    assert column_texts(model, "status") == [row.status.label for row in stored]


# -- while the run is in progress -----------------------------------------------------


def test_the_window_follows_a_run_in_progress_until_it_ends(qtbot, db):
    built = build_run(db, status=RunStatus.IN_PROGRESS)
    window = open_window(qtbot, db, built.run_id)
    runs = m.EnrollerRun.__table__
    with db.write() as conn:
        conn.execute(runs.update().where(runs.c.id == built.run_id).values(success=3, status=RunStatus.COMPLETED))
    qtbot.waitUntil(lambda: window.funnel_scene.boxes[list(window.funnel_scene.boxes)[-1]].count == 3, timeout=10_000)
    assert "Completed" in window.header_label.text()
    qtbot.waitUntil(lambda: not window._poll.isActive(), timeout=10_000)


# -- export ---------------------------------------------------------------------------


def test_ctrl_e_exports_the_potentials_of_the_current_filter(qtbot, db, tmp_path):
    window = open_window(qtbot, db, build_run(db).run_id)
    window.show()
    qtbot.waitExposed(window)
    out = tmp_path / "chosen.csv"
    window.tabs.setCurrentWidget(window.potentials_tab)
    window.potentials_tab.check_filter.setCurrentIndex(window.potentials_tab.check_filter.findData(Check.CASL))
    loaded(qtbot, window.potentials_model)
    with qtbot.waitSignal(window.export_finished, timeout=10_000) as finished, saving(qtbot, out):
        qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert finished.args == [2]
    with open(out, encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert header == window.potentials_model.table.titles
    model = window.potentials_model
    times = model.table.time_columns

    def in_csv(row: int, col: int) -> str:
        # A time is its exact UTC value, which the shown time's tooltip begins with (RULES §8).
        index = model.index(row, col)
        return (index.data(Qt.ItemDataRole.ToolTipRole) or "").split(" ")[0] if col in times else index.data()

    assert rows == [[in_csv(row, col) for col in range(model.columnCount())] for row in range(model.rowCount())]


def test_the_export_button_of_the_events_tab_exports_the_events(qtbot, db, tmp_path):
    window = open_window(qtbot, db, build_run(db).run_id)
    out = tmp_path / "events.csv"
    window.summary_tabs.setCurrentWidget(window.event_view)
    with qtbot.waitSignal(window.export_finished, timeout=10_000), saving(qtbot, out):
        qtbot.mouseClick(window._export_buttons[0], Qt.MouseButton.LeftButton)
    with open(out, encoding="utf-8-sig", newline="") as handle:
        assert next(csv.reader(handle)) == run_detail.EVENTS.titles


def test_cancel_stops_the_export_and_leaves_no_file(qtbot, db, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "BATCH_SIZE", 1)
    window = open_window(qtbot, db, build_run(db).run_id)
    window.tabs.setCurrentWidget(window.potentials_tab)
    out = tmp_path / "exports" / "potentials.csv"
    out.parent.mkdir()
    window.export_progress.valueChanged.connect(lambda value: window.export_cancel.click())
    with qtbot.waitSignal(window.export_finished, timeout=10_000) as finished, saving(qtbot, out):
        window.export_current_tab()
    assert finished.args == [None]
    assert list(out.parent.iterdir()) == []
    qtbot.waitUntil(lambda: not window.exporting, timeout=10_000)  # Export is offered again


def test_an_export_to_a_vanished_folder_says_so(qtbot, db, tmp_path, monkeypatch):
    window = open_window(qtbot, db, build_run(db).run_id)
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: None)  # no modal box in a test
    with qtbot.waitSignal(window.export_failed, timeout=10_000) as failed, saving(qtbot, tmp_path / "gone" / "x.csv"):
        window.export_current_tab()
    assert "does not exist" in failed.args[0]


# -- the models -----------------------------------------------------------------------


def test_the_paged_model_passes_qtmodeltester(qtbot, qtmodeltester, db):
    built = build_run(db)
    with db.read() as conn:
        summary = detail_queries.run_summary(conn, built.run_id)
    model = PagedTableModel(db, run_detail.potentials_table(summary.purpose, summary.status), detail_queries.potential_listing(summary))
    loaded(qtbot, model)
    qtmodeltester.check(model, force_py=True)


def test_the_small_table_model_passes_qtmodeltester(qtbot, qtmodeltester, db):
    built = build_run(db)
    with db.read() as conn:
        rows = [run_detail.QUERY_PARAMS.format(row) for row in detail_queries.run_query_param_rows(conn, built.run_id)]
    model = RowsTableModel(run_detail.QUERY_PARAMS)
    model.set_rows(rows)
    qtmodeltester.check(model, force_py=True)


def test_the_event_tree_passes_qtmodeltester(qtbot, qtmodeltester, db):
    built = build_run(db)
    with db.read() as conn:
        events = detail_queries.run_events(conn, built.run_id)
    model = EventTreeModel()
    model.set_events(events)
    qtmodeltester.check(model, force_py=True)


# -- how it looks ---------------------------------------------------------------------


def test_screenshots_of_each_tab_on_demo_data(qtbot, sqlite_db, tmp_path):
    run_id = engine_run(sqlite_db, RunPurpose.DEFAULT)
    window = open_window(qtbot, sqlite_db, run_id)
    window.show()
    qtbot.waitExposed(window)
    highlight = window.palette().color(QPalette.ColorRole.Highlight)
    # Each tab's picture, and what a regression would change in it: the table left
    # blank, the funnel without its bars, the chart without its bars, a count cut short.
    shots = {
        "summary": (0, 0, lambda picture: (assert_funnel_bars_drawn(picture, window),
                                           assert_not_blank(picture, area_of(window.summary_view.viewport(), window)))),
        "events": (0, 1, lambda picture: assert_not_blank(picture, area_of(window.event_view.viewport(), window))),
        "query_params": (1, None, lambda picture: (
            assert_not_blank(picture, area_of(window.query_param_view.viewport(), window)),
            assert_colour_drawn(picture, area_of(window.query_param_chart, window), highlight, least=0.01))),
        "potentials": (2, None, lambda picture: (
            assert_not_blank(picture, area_of(window.potentials_tab.view.viewport(), window)),
            assert_text_whole(window.potentials_tab.count_label))),
        "campaign_customers": (3, None, lambda picture: (
            assert_not_blank(picture, area_of(window.campaign_customers_tab.view.viewport(), window)),
            assert_text_whole(window.campaign_customers_tab.count_label))),
    }
    for name, (tab, inner, check) in shots.items():
        window.tabs.setCurrentIndex(tab)
        if inner is not None:
            window.summary_tabs.setCurrentIndex(inner)
        qtbot.wait(50)
        check(shoot(window, tmp_path / f"run_window_{name}.png"))
    app = QApplication.instance()
    light = app.palette()
    try:
        app.setPalette(theme.dark_palette())  # what View ▸ Appearance ▸ Dark sets
        window.tabs.setCurrentIndex(0)
        for name, inner in (("summary", 0), ("events", 1)):
            window.summary_tabs.setCurrentIndex(inner)
            qtbot.wait(50)
            shots[name][2](shoot(window, tmp_path / f"run_window_{name}_dark.png"))
    finally:
        app.setPalette(light)


def test_a_not_applicable_run_says_why_in_its_summary_and_its_funnel_does_not_wait(qtbot, db):
    from enroller_desktop.engine.runs import create_run, execute_run
    from tests.builders import campaign, customer, organization

    org = organization(db)
    campaign_id = campaign(db, org, name="Winter tires", active=False)
    customer(db, org)
    run_id = create_run(db, campaign_id=campaign_id)
    assert execute_run(db, run_id).status is RunStatus.NOT_APPLICABLE
    window = open_window(qtbot, db, run_id)
    fields = [(window.summary_model.index(r, 0).data(), window.summary_model.index(r, 1).data())
              for r in range(window.summary_model.rowCount())]
    assert fields[4:6] == [("Status", "Not Applicable"), ("Not Applicable Because", "the campaign 'Winter tires' is inactive")]
    details = [box.lines[1] for box in window.funnel_scene.boxes.values()]
    assert details == ["not applicable: nobody was checked"] * len(details)
