"""What each check alone holds back: the SQL counts equal a Python count over the
potentials, for every demo run, on both databases."""

from __future__ import annotations

import sqlalchemy as sa

from enroller_desktop.db import explain_queries as eq
from enroller_desktop.db.detail_queries import PotentialFilter, PotentialListing

from tests.explain.conftest import potentials_of, run_ids


def _passed(row: dict) -> dict[str, bool]:
    return {
        "deleted": row["deleted"] == 1,
        "channels": any(row[c] == 1 for c in ("valid_email", "valid_phone", "valid_message")),
        "unique_event": row["unique_event"] == 1,
        "already_in_queue": row["already_in_queue"] == 1,
        "casl": row["casl"] in (None, 1),
        "opt_out_all": row["opt_out_all"] == 1,
        "marketing_exclusion": row["marketing_exclusion"] == 1,
    }


def python_blockers(rows: list[dict]) -> eq.SoleBlockers:
    counted = eq.SoleBlockers.empty()
    for row in rows:
        failed = [name for name, ok in _passed(row).items() if not ok]
        for name in failed:
            (counted.alone if len(failed) == 1 else counted.among_others)[name] += 1
    return counted


def test_sole_blockers_equal_a_python_count_for_every_demo_run(demo_db):
    runs = run_ids(demo_db)
    assert len(runs) > 20
    nonzero = set()
    for run_id in runs:
        rows = potentials_of(demo_db, run_id)
        with demo_db.read() as conn:
            counted = eq.sole_blockers(conn, run_id)
        assert counted == python_blockers(rows), f"run {run_id}"
        nonzero |= {name for name, n in counted.alone.items() if n}
    assert {"channels", "unique_event"} <= nonzero  # the demo exercises the count


def test_no_potential_is_both_eligible_and_held_back(demo_db):
    for run_id in run_ids(demo_db)[:30]:
        rows = potentials_of(demo_db, run_id)
        held = python_blockers(rows)
        with demo_db.read() as conn:
            counted = eq.sole_blockers(conn, run_id)
        eligible = sum(1 for row in rows if row["is_valid"])
        assert eligible + sum(1 for row in rows if not all(_passed(row).values())) == len(rows)
        assert counted == held


def test_query_param_blockers_add_up_to_the_run(demo_db):
    for run_id in run_ids(demo_db)[:40]:
        with demo_db.read() as conn:
            whole = eq.sole_blockers(conn, run_id)
            per_param = eq.query_param_blockers(conn, run_id)
        assert per_param, f"run {run_id} has query params"
        for name in eq.CONDITIONS:
            assert sum(p.blockers.alone[name] for p in per_param) == whole.alone[name]
            assert sum(p.blockers.among_others[name] for p in per_param) == whole.among_others[name]
        rows = potentials_of(demo_db, run_id)
        for param in per_param:
            assert param.blockers == python_blockers([r for r in rows if r["query_param_id"] == param.query_param_id])


def test_a_run_without_potentials_counts_zeros(demo_db):
    with demo_db.read() as conn:
        missing = conn.execute(sa.text("SELECT coalesce(max(id), 0) + 1000 FROM enroller_runs")).scalar()
        assert eq.sole_blockers(conn, missing) == eq.SoleBlockers.empty()


def test_the_failed_only_filter_lists_exactly_the_sole_blocked(demo_db):
    run_id = max(run_ids(demo_db), key=lambda r: len(potentials_of(demo_db, r)))
    rows = potentials_of(demo_db, run_id)
    for name in eq.CONDITIONS:
        expected = sorted(r["id"] for r in rows if [n for n, ok in _passed(r).items() if not ok] == [name])
        listing = PotentialListing(run_id=run_id, filter=PotentialFilter(failed_only=name))
        with demo_db.read() as conn:
            got = sorted(row.id for row in listing.page_after(conn, None, 100_000))
            assert listing.count(conn) == len(expected)
        assert got == expected, name
