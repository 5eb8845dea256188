"""The main window's queries, on both databases: keyset pages, filters, trends, search."""

from __future__ import annotations

import datetime as dt
import statistics

import pytest
import sqlalchemy as sa

from enroller_desktop.db import choice_queries, index_queries
from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.db.index_queries import SORT_KEYS, RunFilter, RunSort

from tests.builders import NOW, RUNS, add_organizations, add_runs, insert_customer


@pytest.fixture
def seeded(db):
    ids = add_organizations(db)
    add_runs(db, ids, 60)
    return db, ids


def expected_order(rows, key: str, descending: bool) -> list[int]:
    """Python's reading of the SQL order: empty values sort as the largest, ties by
    id; a duration sorts only once the run finished."""

    def value(row):
        if key == "duration":
            v = (row.completed_at - row.in_progress_at).total_seconds() if row.completed_at and row.in_progress_at else None
        else:
            v = getattr(row, "id" if key == "run_id" else key)
        return (v is None, v if v is not None else 0, row.id)

    return [r.id for r in sorted(rows, key=value, reverse=descending)]


def all_rows(conn):
    return index_queries.page(conn, RunFilter(), RunSort("id", False), limit=10_000)


@pytest.mark.parametrize("key", SORT_KEYS)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_keyset_pages_read_every_run_once_in_the_sort_order(seeded, key, descending):
    db, _ids = seeded
    sort = RunSort(key, descending)
    with db.read() as conn:
        rows = all_rows(conn)
        pages, after = [], None
        while True:
            chunk = index_queries.page(conn, RunFilter(), sort, limit=7, after=after)
            if not chunk:
                break
            pages.extend(chunk)
            after = chunk[-1].sort_key
    assert [r.id for r in pages] == expected_order(rows, key, descending)


@pytest.mark.parametrize("key", ["created_at", "organization", "duration", "eligible"])
def test_reading_backwards_and_from_the_end_gives_the_same_rows(seeded, key):
    db, _ids = seeded
    sort = RunSort(key, True)
    with db.read() as conn:
        forward = index_queries.page(conn, RunFilter(), sort, limit=10_000)
        last = index_queries.page(conn, RunFilter(), sort, limit=9, from_end=True)
        before = index_queries.page(conn, RunFilter(), sort, limit=9, before=forward[30].sort_key)
        seek = index_queries.page(conn, RunFilter(), sort, limit=9, offset=20)
    assert [r.id for r in last] == [r.id for r in forward[-9:]]
    assert [r.id for r in before] == [r.id for r in forward[21:30]]
    assert [r.id for r in seek] == [r.id for r in forward[20:29]]


def _sql_count(db, *where) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(RUNS).where(*where)).scalar_one()


def test_each_filter_counts_what_sql_counts(seeded):
    db, ids = seeded
    day = NOW.date() - dt.timedelta(days=3)
    cases = [
        (RunFilter(created_from=day), [RUNS.c.created_at >= dt.datetime.combine(day, dt.time())]),
        (RunFilter(created_to=day), [RUNS.c.created_at < dt.datetime.combine(day + dt.timedelta(days=1), dt.time())]),
        (RunFilter(organization_id=ids["Maple Motors"]), [RUNS.c.organization_id == ids["Maple Motors"]]),
        (RunFilter(campaign_id=ids["Win Back"]), [RUNS.c.campaign_id == ids["Win Back"]]),
        (RunFilter(purposes=frozenset({RunPurpose.CRITERION_STATS})), [RUNS.c.purpose == "criterion_stats"]),
        (RunFilter(statuses=frozenset({RunStatus.ERROR, RunStatus.CANCELED})), [RUNS.c.status.in_(["error", "canceled"])]),
        (RunFilter(statuses=frozenset()), [sa.false()]),
    ]
    for run_filter, where in cases:
        with db.read() as conn:
            assert index_queries.count_runs(conn, run_filter) == _sql_count(db, *where), run_filter


def test_the_watermark_hides_runs_added_later(seeded):
    db, ids = seeded
    with db.read() as conn:
        watermark = index_queries.max_run_id(conn)
    add_runs(db, ids, 3, seed=99, start=NOW + dt.timedelta(days=1))
    with db.read() as conn:
        assert index_queries.count_runs(conn, RunFilter(), watermark=watermark) == 60
        newer = index_queries.newer_runs(conn, RunFilter(), RunSort(), watermark=watermark)
    assert len(newer) == 3 and all(r.id > watermark for r in newer)
    assert [r.created_at for r in newer] == sorted((r.created_at for r in newer), reverse=True)


def test_runs_per_day_adds_up_to_the_matching_runs(seeded):
    db, ids = seeded
    run_filter = RunFilter(organization_id=ids["Maple Motors"])
    with db.read() as conn:
        per_day = index_queries.runs_per_day(conn, run_filter)
        total = index_queries.count_runs(conn, run_filter)
    assert sum(c.runs for c in per_day) == total
    assert len({c.day for c in per_day}) > 5


def test_median_duration_per_day_is_the_middle_of_that_days_durations(seeded):
    db, _ids = seeded
    with db.read() as conn:
        rows = all_rows(conn)
        medians = dict(index_queries.median_duration_per_day(conn, RunFilter()))
    by_day: dict[dt.date, list[float]] = {}
    for r in rows:
        if r.in_progress_at and r.completed_at:
            by_day.setdefault(r.created_at.date(), []).append((r.completed_at - r.in_progress_at).total_seconds())
    assert medians.keys() == by_day.keys()
    for day, seconds in by_day.items():
        assert medians[day] == pytest.approx(statistics.median(seconds), abs=0.01)


def test_customer_search_finds_by_name_email_and_phone_within_the_organization(db):
    ids = add_organizations(db)
    maple, bayside = ids["Maple Motors"], ids["Bayside Auto Group"]
    with db.write() as conn:
        ada = insert_customer(conn, maple, first_name="Ada", last_name="Lovelace", email="ada@example.com", mobile="(416) 555-0199")
        insert_customer(conn, maple, first_name="Alan", last_name="Turing", email="alan@example.com", phone="416-555-0100")
        insert_customer(conn, bayside, first_name="Ada", last_name="Byron", email="byron@example.com")
    with db.read() as conn:
        assert [c.id for c in choice_queries.customer_choices(conn, maple, "ada")] == [ada]
        assert [c.id for c in choice_queries.customer_choices(conn, maple, "LOVELACE")] == [ada]
        assert [c.id for c in choice_queries.customer_choices(conn, maple, "ada@exa")] == [ada]
        assert [c.id for c in choice_queries.customer_choices(conn, maple, "5550199")] == [ada]
        assert choice_queries.customer_choices(conn, maple, "ad%") == []  # % is a letter here, not a wildcard
