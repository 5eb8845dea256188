"""Runs over the demo data: the engine's checks agree with the enrollments it saw.

Small hand-built cases let SQLite plan each statement simply; the demo's
thousands of customers make it plan like a real database (on SQLite 3.40 a
Bloom filter on the enrollment key's expression index once let customers
already enrolled pass Unique Event). Each check that looks at campaign
customers is recomputed here with a plain correlated query.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from enroller_desktop import demo
from enroller_desktop.db.enums import RunPurpose
from enroller_desktop.engine.runs import create_run, execute_run

TODAY = dt.date(2026, 3, 16)
AS_OF = dt.datetime(2026, 3, 16, 15, 0, tzinfo=dt.timezone.utc)

SAME_EVENT_ENROLLED_BEFORE = """
    SELECT count(*) FROM enroller_run_customers p
    WHERE p.run_id = :run AND p.unique_event = :passed AND EXISTS (
        SELECT 1 FROM campaign_customers cc
        WHERE cc.campaign_id = :campaign AND cc.customer_id = p.customer_id
          AND coalesce(cc.vehicle_id, 0) = coalesce(p.vehicle_id, 0)
          AND coalesce(cc.event_key, '') = p.event_key
          AND (cc.run_id IS NULL OR cc.run_id <> :run))
"""
IN_QUEUE_BEFORE = """
    SELECT count(*) FROM enroller_run_customers p
    WHERE p.run_id = :run AND p.already_in_queue = :passed AND EXISTS (
        SELECT 1 FROM campaign_customers cc
        WHERE cc.campaign_id = :campaign AND cc.customer_id = p.customer_id AND cc.expired_at IS NULL
          AND cc.status IN ('queued', 'pending_deployment', 'assigned', 'in_progress')
          AND (cc.run_id IS NULL OR cc.run_id <> :run))
"""


@pytest.fixture
def demo_campaigns(db):
    demo.load_data(db, customers=3_000, seed=1, today=TODAY)
    with db.read() as conn:
        return conn.execute(sa.text("SELECT id FROM campaigns WHERE active ORDER BY id")).scalars().all()


def test_no_candidate_already_enrolled_for_the_same_event_passes_unique_event(db, demo_campaigns):
    for campaign_id in demo_campaigns:
        run_id = create_run(db, campaign_id=campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=AS_OF)
        execute_run(db, run_id)
        with db.read() as conn:
            wrong = conn.execute(sa.text(SAME_EVENT_ENROLLED_BEFORE), {"run": run_id, "campaign": campaign_id, "passed": 1})
            assert wrong.scalar() == 0, f"campaign {campaign_id}"


def test_unique_event_fails_only_for_candidates_enrolled_for_the_same_event(db, demo_campaigns):
    failed_somewhere = 0
    for campaign_id in demo_campaigns:
        run_id = create_run(db, campaign_id=campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=AS_OF)
        execute_run(db, run_id)
        with db.read() as conn:
            failed = conn.execute(sa.text("SELECT count(*) FROM enroller_run_customers WHERE run_id = :run AND unique_event = 0"),
                                  {"run": run_id}).scalar()
            justified = conn.execute(sa.text(SAME_EVENT_ENROLLED_BEFORE), {"run": run_id, "campaign": campaign_id, "passed": 0}).scalar()
        assert failed == justified, f"campaign {campaign_id}"
        failed_somewhere += failed
    assert failed_somewhere > 0  # the demo does hold enrollments the runs meet


def test_already_in_queue_agrees_with_the_active_enrollments_of_a_default_run(db, demo_campaigns):
    for campaign_id in demo_campaigns:
        run_id = create_run(db, campaign_id=campaign_id, as_of=AS_OF)
        outcome = execute_run(db, run_id)
        with db.read() as conn:
            params = {"run": run_id, "campaign": campaign_id}
            assert conn.execute(sa.text(IN_QUEUE_BEFORE), {**params, "passed": 1}).scalar() == 0
            failed = conn.execute(sa.text("SELECT count(*) FROM enroller_run_customers WHERE run_id = :run AND already_in_queue = 0"),
                                  params).scalar()
            assert failed == conn.execute(sa.text(IN_QUEUE_BEFORE), {**params, "passed": 0}).scalar()
            errors = conn.execute(sa.text("SELECT count(*) FROM enroller_run_customers WHERE run_id = :run AND status = 'error'"),
                                  params).scalar()
        assert errors == 0, f"campaign {campaign_id}: eligible candidates the unique index refused"
        assert outcome.status.value in ("completed", "not_applicable")
