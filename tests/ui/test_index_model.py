"""The runs model without a window: laziness, sort in SQL, live rows, formatting."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from enroller_desktop.db import index_queries
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.db.index_queries import RunFilter, RunSort
from enroller_desktop.run_index import COLUMNS, STATUS_COLUMN, format_count, format_duration
from enroller_desktop.ui.index_model import RawRole, IndexModel

from tests.builders import NOW, add_organizations, add_run, add_runs, update_run
from tests.polling import read_to_the_end
from tests.db.test_index_queries import expected_order


def loaded_model(qtbot, db, *, page_size=7, run_filter=RunFilter(), sort=RunSort()) -> IndexModel:  # noqa: B008
    model = IndexModel(db, page_size=page_size)
    with qtbot.waitSignal(model.reloaded, timeout=10_000):
        model.configure(run_filter, sort)
    return model


def read_every_row(qtbot, model: IndexModel) -> list[int]:
    """What a user scrolling to the bottom gets: each page asked for as it is painted."""
    read_to_the_end(qtbot, model)
    return [model.run_at(r).id for r in range(model.rowCount())]


@pytest.fixture
def seeded(db):
    ids = add_organizations(db)
    add_runs(db, ids, 45)
    return db, ids


def test_the_model_passes_qtmodeltester(qtbot, qtmodeltester, seeded):
    db, _ids = seeded
    model = loaded_model(qtbot, db)
    read_every_row(qtbot, model)
    qtmodeltester.check(model, force_py=True)


def test_only_the_first_page_is_read_until_more_is_painted(qtbot, seeded):
    db, _ids = seeded
    model = loaded_model(qtbot, db, page_size=10)
    assert model.rowCount() == 45
    assert model.is_loaded(0, 9) and model.run_at(10) is None and model.run_at(44) is None
    with qtbot.waitSignal(model.dataChanged, timeout=10_000):
        assert model.data(model.index(44, 1)) is None  # not there yet: asked for
    assert model.is_loaded(40, 44) and model.run_at(20) is None


@pytest.mark.parametrize("column", range(len(COLUMNS)), ids=[c.key for c in COLUMNS])
def test_a_header_sort_orders_every_row_in_sql(qtbot, seeded, column):
    db, _ids = seeded
    with db.read() as conn:
        rows = index_queries.page(conn, RunFilter(), RunSort("id", False), limit=1000)
    model = loaded_model(qtbot, db, sort=RunSort("id", False) if column else RunSort())
    for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
        with qtbot.waitSignal(model.reloaded, timeout=10_000):
            model.sort(column, order)
        descending = order == Qt.SortOrder.DescendingOrder
        assert read_every_row(qtbot, model) == expected_order(rows, COLUMNS[column].key, descending)


def test_newest_runs_come_first_by_default(qtbot, seeded):
    db, _ids = seeded
    model = loaded_model(qtbot, db)
    created = [model.index(r, 0).data(RawRole) and model.run_at(r).created_at for r in range(7)]
    assert created == sorted(created, reverse=True)


def test_a_run_changed_by_another_client_is_shown_at_the_next_poll(qtbot, db):
    ids = add_organizations(db)
    run_id = add_run(db, ids, status=RunStatus.IN_PROGRESS, in_progress_at=dt.datetime.now(dt.timezone.utc))
    model = loaded_model(qtbot, db)
    update_run(db, run_id, status=RunStatus.COMPLETED, query_param_customers=12_345, completed_at=dt.datetime.now(dt.timezone.utc))
    with qtbot.waitSignal(model.dataChanged, timeout=10_000):
        model.poll(0, 0)
    assert model.index(0, STATUS_COLUMN).data() == "Completed"
    assert model.index(0, 6).data() == "12,345"


def test_new_runs_are_put_on_top_in_the_default_order(qtbot, seeded):
    db, ids = seeded
    model = loaded_model(qtbot, db)
    first = model.run_at(0).id
    new_id = add_run(db, ids)
    with qtbot.waitSignal(model.rowsInserted, timeout=10_000):
        model.poll(0, 6)
    assert model.rowCount() == 46
    assert [model.run_at(0).id, model.run_at(1).id] == [new_id, first]


def test_new_runs_that_do_not_match_the_filter_stay_out(qtbot, seeded):
    db, ids = seeded
    model = loaded_model(qtbot, db, run_filter=RunFilter(statuses=frozenset({RunStatus.COMPLETED})))
    count = model.rowCount()
    add_run(db, ids, status=RunStatus.SCHEDULED)
    with qtbot.waitSignal(model.databaseAnswered, timeout=10_000):
        model.poll(0, 6)
    qtbot.waitUntil(lambda: not model.busy, timeout=10_000)
    assert model.rowCount() == count


def test_new_runs_in_another_order_wait_for_a_refresh(qtbot, seeded):
    db, ids = seeded
    model = loaded_model(qtbot, db, sort=RunSort("organization", False))
    add_run(db, ids)
    qtbot.waitUntil(lambda: (model.poll(0, 6), model.newer_waiting)[1] == 1, timeout=10_000)
    assert model.rowCount() == 45


def test_pages_placed_after_new_runs_land_on_their_rows(qtbot, seeded):
    db, ids = seeded
    model = loaded_model(qtbot, db, page_size=10)
    expected = read_order = None
    with db.read() as conn:
        expected = [r.id for r in index_queries.page(conn, RunFilter(), RunSort(), limit=1000)]
    model.data(model.index(25, 1))  # a page in flight while new runs arrive
    new_id = add_run(db, ids, created_at=NOW + dt.timedelta(days=2))
    with qtbot.waitSignal(model.rowsInserted, timeout=10_000):
        model.poll(0, 5)
    read_order = read_every_row(qtbot, model)
    assert read_order == [new_id, *expected]


def test_numbers_have_thousands_separators_and_durations_follow_the_run_windows_rule():
    assert format_count(1234567) == "1,234,567"
    assert format_count(None) == ""
    assert format_duration(dt.timedelta(hours=27, minutes=3, seconds=9)) == "27 h 03 min"
    assert format_duration(dt.timedelta(seconds=59.9)) == "59.9 s"
    assert format_duration(dt.timedelta(milliseconds=161)) == "161 ms"
    assert format_duration(None) is None


def test_counts_are_right_aligned_and_headers_quote_the_seed(qtbot, seeded):
    db, _ids = seeded
    model = loaded_model(qtbot, db)
    eligible = next(i for i, c in enumerate(COLUMNS) if c.key == "eligible")
    assert model.index(0, eligible).data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert model.headerData(eligible, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole).startswith(
        "Eligible: of those who met the query parameter, potential customer, and potential event criteria"
    )
    assert [c.title for c in COLUMNS[1:]] == [
        "Created", "Organization", "Campaign", "Purpose", "Status", "Query Param Customers", "Potential Customers",
        "Potential Events", "Eligible", "Success", "In Progress At", "Completed At", "Duration",
        "Run", "Scheduled For",  # ours, after the old help page's, hidden until chosen
    ]  # fmt: skip
