"""Every box and arrow of every demo run's funnel lists exactly as many potentials
as it counts: the counts (written by the engine) and the lists (the Potentials
filter) come from the predicates of ``db.stages``, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from enroller_desktop import demo
from enroller_desktop.db import detail_queries
from enroller_desktop.db.enums import RunPurpose
from enroller_desktop.db.models import EnrollerRun, EnrollerRunCustomer
from enroller_desktop.db.engine import open_database
from enroller_desktop.db.stages import FunnelBox, FunnelSlice, arrow_count, box_count, lists_potentials
from tests.conftest import BACKENDS, make_db_url

TODAY = dt.date(2026, 3, 16)


@pytest.fixture(scope="module", params=BACKENDS)
def db(request, tmp_path_factory, sqlite_template, pg_server):
    """One demo per backend for the module's tests, which only read it."""
    database = open_database(make_db_url(request.param, tmp_path_factory.mktemp("demo"), sqlite_template, pg_server))
    demo.load_demo(database, customers=800, seed=3, today=TODAY)
    yield database
    database.dispose()


@pytest.fixture
def demo_runs(db):
    with db.read() as conn:
        ids = conn.execute(sa.select(EnrollerRun.id).order_by(EnrollerRun.id)).scalars().all()
        return [detail_queries.run_summary(conn, run_id) for run_id in ids]


def listed(conn, summary, funnel: FunnelSlice) -> int:
    listing = detail_queries.potential_listing(summary, filter=detail_queries.PotentialFilter(funnel=funnel))
    return listing.count(conn)


def test_every_box_and_arrow_of_every_demo_run_lists_what_it_counts(db, demo_runs):
    compared = set()
    fell_out_with_a_check_not_applicable = 0
    with db.read() as conn:
        for run in demo_runs:
            if not lists_potentials(run.purpose):
                # Criterion Stats counts candidates it never writes: nothing to list.
                assert listed(conn, run, FunnelSlice(FunnelBox.QUERY_PARAM_CUSTOMERS)) == 0
                continue
            for box in FunnelBox:
                count = box_count(run, box)
                if count is not None:
                    assert listed(conn, run, FunnelSlice(box)) == count, f"run {run.id} ({run.purpose.value}) box {box.label}"
                    compared.add((run.purpose, box))
                if box.previous is not None and (fell_out := arrow_count(run, box)) is not None:
                    assert listed(conn, run, FunnelSlice(box, fell_out=True)) == fell_out, f"run {run.id} arrow into {box.label}"
            if run.potential_customers is not None:
                fell_out_with_a_check_not_applicable += conn.execute(sa.text(
                    "SELECT count(*) FROM enroller_run_customers WHERE run_id = :run"
                    " AND (valid_email IS NULL OR valid_phone IS NULL OR valid_message IS NULL)"
                    " AND NOT (deleted = 1 AND (valid_email = 1 OR valid_phone = 1 OR valid_message = 1))"
                    " AND (valid_email IS NOT NULL OR valid_phone IS NOT NULL OR valid_message IS NOT NULL)"
                ), {"run": run.id}).scalar_one()
    purposes = {purpose for purpose, _ in compared}
    assert {RunPurpose.DEFAULT, RunPurpose.CAMPAIGN_SIMULATION, RunPurpose.CUSTOMER_EVALUATION,
            RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE} <= purposes
    assert {box for _, box in compared} == set(FunnelBox)
    # The case the issue met: candidates with a check not applicable falling out at Potential Customers.
    assert fell_out_with_a_check_not_applicable > 0



def test_the_demo_potentials_were_validated_while_their_run_ran(db, demo_runs):
    """Not when the demo was loaded: the history moves each run to its day."""
    potentials = EnrollerRunCustomer.__table__
    checked = 0
    with db.read() as conn:
        for run in demo_runs:
            if run.in_progress_at is None or run.completed_at is None:
                continue
            first, last = conn.execute(sa.select(sa.func.min(potentials.c.validated_at), sa.func.max(potentials.c.validated_at))
                                       .where(potentials.c.run_id == run.id)).one()
            if first is None:
                continue
            assert run.in_progress_at <= first <= last <= run.completed_at, f"run {run.id}"
            checked += 1
    assert checked > 10
