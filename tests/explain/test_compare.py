"""``compare``: the set-based SQL counts equal a Python set computation over the two
runs' potentials, for random pairs of demo runs of one campaign (those with no
potentials among them), on both databases; runs of two campaigns are refused."""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import subprocess

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enroller_desktop import explain, tables
from enroller_desktop.db import explain_queries as eq
from enroller_desktop.db.compare_listing import DifferenceListing
from tests.builders import ENROLLER
from tests.cli.test_engine_cli import assert_one_line_refusal
from tests.explain.conftest import potentials_of

WORD = {1: "passed", 0: "failed", None: "na", True: "passed", False: "failed"}


def runs_by_campaign(db) -> dict[int, list[int]]:
    with db.read() as conn:
        rows = conn.execute(sa.text("SELECT campaign_id, id FROM enroller_runs ORDER BY created_at, id")).all()
    grouped: dict[int, list[int]] = {}
    for campaign_id, run_id in rows:
        grouped.setdefault(campaign_id, []).append(run_id)
    return {c: r for c, r in grouped.items() if len(r) >= 2}


def keyed(db, run_id: int) -> dict[tuple, dict]:
    return {(row["customer_id"], row["vehicle_id"] or 0): row for row in potentials_of(db, run_id)}


def python_comparison(db, run_a: int, run_b: int) -> dict:
    a, b = keyed(db, run_a), keyed(db, run_b)
    both = a.keys() & b.keys()
    checks = {name: {t: 0 for t in eq.TRANSITIONS} for name in eq.COMPARED}
    for key in both:
        for name in eq.COMPARED:
            before, after = WORD[a[key][name]], WORD[b[key][name]]
            if before != after:
                checks[name][f"{before}_to_{after}"] += 1
    return {
        "run_a": run_a, "run_b": run_b,
        "entered": len(b.keys() - a.keys()), "left": len(a.keys() - b.keys()),
        "became_eligible": sum(1 for k in both if not a[k]["is_valid"] and b[k]["is_valid"]),
        "lost_eligibility": sum(1 for k in both if a[k]["is_valid"] and not b[k]["is_valid"]),
        "checks": checks,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_compare_counts_equal_a_python_set_computation(demo_db, data):
    grouped = runs_by_campaign(demo_db)
    campaign = data.draw(st.sampled_from(sorted(grouped)))
    first, second = data.draw(st.lists(st.sampled_from(grouped[campaign]), min_size=2, max_size=2, unique=True))
    compared = explain.comparison(demo_db, first, second)
    older, newer = sorted((first, second), key=grouped[campaign].index)
    assert (compared.run_a, compared.run_b) == (older, newer)
    assert compared.as_dict() == python_comparison(demo_db, older, newer)


def test_the_demo_has_pairs_that_differ_and_runs_without_potentials(demo_db):
    """The property above sees what it must: changes of every kind, empty runs."""
    grouped = runs_by_campaign(demo_db)
    empty = [r for runs in grouped.values() for r in runs if not potentials_of(demo_db, r)]
    assert empty
    seen = set()
    for runs in grouped.values():
        for first, second in zip(runs, runs[1:]):
            got = explain.comparison(demo_db, first, second)
            seen |= {k for k in ("entered", "left", "became_eligible", "lost_eligibility") if getattr(got, k)}
            seen |= {f"check {name}" for name, moves in got.checks.items() if any(moves.values())}
    assert {"entered", "left", "lost_eligibility", "check unique_event", "check already_in_queue"} <= seen


def _a_differing_pair(db) -> tuple[int, int]:
    for runs in runs_by_campaign(db).values():
        for first, second in itertools.combinations(runs, 2):
            got = explain.comparison(db, first, second)
            if (got.entered or got.left) and (got.lost_eligibility or got.became_eligible):
                return first, second
    pytest.fail("no pair of runs that differ")


def test_the_differences_list_holds_every_potential_whose_outcome_differs(demo_db):
    run_a, run_b = _a_differing_pair(demo_db)
    a, b = keyed(demo_db, run_a), keyed(demo_db, run_b)
    expected = {("entered", b[k]["id"]) for k in b.keys() - a.keys()} | {("left", a[k]["id"]) for k in a.keys() - b.keys()}
    expected |= {("both", b[k]["id"]) for k in a.keys() & b.keys() if any(WORD[a[k][n]] != WORD[b[k][n]] for n in eq.COMPARED)}
    listing = explain.difference_source(run_a, run_b).listing
    with demo_db.read() as conn:
        rows = listing.page_after(conn, None, 100_000)
        assert listing.count(conn) == len(expected)
    assert {r.id for r in rows} == {i for _, i in expected}
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    for kind in eq.CHANGE_KINDS:
        kind_listing = explain.difference_source(run_a, run_b, kind).listing
        allowed = {"checks_changed", "became_eligible", "lost_eligibility"} if kind == "checks_changed" else {kind}
        with demo_db.read() as conn:
            assert {r.change for r in kind_listing.page_after(conn, None, 100_000)} <= allowed


_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_LAST = "\U0010ffff"


def _python_sort_key(sort: str, row) -> object:
    """What the list sorts by, computed in Python from a row (compare_listing's readings)."""
    if sort in ("first_name", "last_name"):
        return (getattr(row, sort) or _LAST).translate(_FOLD)
    if sort == "vehicle":
        return (tables.format_vehicle(row.year, row.make, row.model) if row.vehicle_id is not None else "").translate(_FOLD) or _LAST
    if sort == "change":
        return row.change
    if sort in ("a_is_valid", "b_is_valid"):
        value = getattr(row, sort)
        return 2 if value is None else value
    if sort == "checks_changed":
        if row.change in ("entered", "left"):
            return 0
        return sum(getattr(row, f"a_{n}") != getattr(row, f"b_{n}") for n in eq.COMPARED)
    raise AssertionError(sort)


@pytest.mark.parametrize("descending", [False, True])
def test_the_differences_list_sorts_by_each_column_in_keyset_pages(demo_db, descending):
    """Every sortable column, both ways: pages walked forward, one page read
    backwards and one read by position all follow the order Python finds."""
    with demo_db.read() as conn:
        pairs = [eq.run_pair(conn, *pair) for runs in runs_by_campaign(demo_db).values() for pair in itertools.combinations(runs, 2)]
        listings = [explain.difference_source(a.id, b.id).listing for a, b in pairs]
        every = {listing: listing.page_after(conn, None, 100_000) for listing in listings}
    # The pair with most kinds of change, then most rows.
    listing, rows = max(every.items(), key=lambda item: (len({r.change for r in item[1]}), len(item[1])))
    assert len(rows) > 20 and len({r.change for r in rows}) >= 3
    for sort in DifferenceListing.SORT_KEYS:
        ordered = dataclasses.replace(listing, sort=sort, descending=descending)
        expected = [r.id for r in sorted(rows, key=lambda r: (_python_sort_key(sort, r), r.id), reverse=descending)]
        pages = []
        with demo_db.read() as conn:
            page = ordered.page_after(conn, None, 7)
            while page:
                pages.append(page)
                page = ordered.page_after(conn, ordered.key_of(page[-1]), 7)
            assert [r.id for page in pages for r in page] == expected, sort
            assert [r.id for r in ordered.page_before(conn, ordered.key_of(pages[2][0]), 7)] == [r.id for r in pages[1]], sort
            assert [r.id for r in ordered.page_at(conn, 10, 5)] == expected[10:15], sort


def test_changed_checks_are_said_in_words():
    results = [1, 1] * len(eq.COMPARED)
    casl = eq.COMPARED.index("casl")
    results[2 * casl + 1] = 0
    valid = eq.COMPARED.index("is_valid")
    results[2 * valid + 1] = 0
    assert explain.changed_checks("lost_eligibility", *results) == "CASL: Passed → Failed; Is Valid: Valid → Invalid"
    assert explain.changed_checks("entered", *results) == ""


def enroller(db, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(ENROLLER), "--db", db.url, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_compare_json_and_csv_from_the_command_line(demo_db, tmp_path):
    run_a, run_b = _a_differing_pair(demo_db)
    out = tmp_path / "differences.csv"
    result = enroller(demo_db, "compare", run_b, run_a, "--json", "--out", out)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == python_comparison(demo_db, run_a, run_b)
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == explain.DIFFERENCES.titles
    with demo_db.read() as conn:
        assert len(rows) - 1 == explain.difference_source(run_a, run_b).listing.count(conn)


def test_compare_of_runs_of_two_campaigns_is_refused_with_exit_2(demo_db):
    grouped = runs_by_campaign(demo_db)
    one, two = sorted(grouped)[:2]
    result = enroller(demo_db, "compare", grouped[one][0], grouped[two][0])
    assert_one_line_refusal(result)
    assert "different campaigns" in result.stderr


def test_compare_of_a_missing_run_is_refused_with_exit_2(demo_db):
    assert_one_line_refusal(enroller(demo_db, "compare", 1, 999_999))
