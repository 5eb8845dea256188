"""On SQLite a query param's candidates are inserted by ranges of customer ids, so
that no single statement holds the database's one write lock for long (the run's
heartbeat must get through). Splitting must change nothing a user can see."""

from __future__ import annotations

from enroller_desktop.engine import funnel
from tests.builders import campaign, customer, execute, named, organization, potentials, query_param, run_params


def run_everything(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=None)
    first = query_param(db, campaign_id, {"any": [named("Ann"), named("Bob")]}, process_order=1)
    second = query_param(db, campaign_id, {"any": [named("Bob"), named("Cy")]}, process_order=2)
    for name in ("Ann", "Bob", "Cy", "Dee", "Ann", "Cy", "Bob"):
        customer(db, org, first_name=name, vehicles=2)
    outcome = execute(db, campaign_id)
    rows = sorted((p["customer_id"], p["vehicle_id"], p["query_param_id"]) for p in potentials(db, outcome.id))
    totals = {p["query_param_id"]: p["total_customers"] for p in run_params(db, outcome.id)}
    return outcome, rows, totals, {first: "first", second: "second"}


def test_splitting_by_customer_ids_gives_the_same_candidates_credits_and_totals(sqlite_db, monkeypatch):
    monkeypatch.setattr(funnel, "SQLITE_BATCH", 2)
    outcome, rows, totals, names = run_everything(sqlite_db)

    assert outcome.status == "completed"
    assert len(rows) == 12  # Ann, Bob, Cy, Ann, Cy, Bob with two vehicles each
    credited = {names[qp] for *_, qp in rows}
    assert credited == {"first", "second"}
    assert sorted(totals.values()) == [8, 8]  # each matched 4 customers x 2 vehicles
    assert outcome.counts["query_param_customers"] == 12


def test_a_split_param_counts_one_attempt_when_nothing_was_retried(sqlite_db, monkeypatch):
    monkeypatch.setattr(funnel, "SQLITE_BATCH", 2)
    outcome, *_ = run_everything(sqlite_db)
    assert {p["query_attempts"] for p in run_params(sqlite_db, outcome.id)} == {1}
