"""The run lifecycle of RULES §2: scheduling, claiming, canceling (a scheduled run,
a cancel token, a cancel from another connection), the heartbeat, interrupted
runs, runs that cannot be executed or canceled again, and what a user sees of a
run while it advances (events, counts, progress)."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import pytest
import sqlalchemy as sa

from enroller_desktop.db import engine as engine_module
from enroller_desktop.db.engine import open_database
from enroller_desktop.db.enums import EventLevel, RunPurpose, RunStatus, RunStep
from enroller_desktop.engine import retry, runs
from enroller_desktop.engine.runs import (
    INTERRUPTED,
    CancelToken,
    cancel_run,
    claim,
    create_run,
    execute_claimed,
    execute_run,
    recover_interrupted,
)
from enroller_desktop.errors import UserError
from tests.polling import wait_until
from tests.builders import (
    EVENTS,
    RUN_PARAMS,
    RUNS,
    campaign,
    customer,
    enrollments,
    events,
    execute,
    organization,
    potentials,
    run_in_progress,
    run_params,
    run_row,
)

SECOND = dt.timedelta(seconds=1)
#: The first words of the progress message of each stage, with the step it is in.
STAGES = [
    ("Checking the campaign", RunStep.MAIN),
    ("Query param 1", RunStep.CRITERIONS),
    ("Validating contact details", RunStep.ENROLLER_RUN_CUSTOMERS),
    ("Counting the funnel", RunStep.CUSTOMER_VALIDATION),
    ("Enrolling", RunStep.CAMPAIGN_CUSTOMERS),
]


@pytest.fixture
def campaign_id(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org, vehicles=2)
    customer(db, org, first_name="Bob", email="bob@example.com")
    return campaign_id


def when(prefix: str, action):
    """A progress callback doing ``action()`` once, at the stage whose message starts with ``prefix``."""
    done = []

    def progress(fraction: float, message: str) -> None:
        if message.startswith(prefix) and not done:
            done.append(True)
            action()
    return progress


# -- scheduling and claiming --------------------------------------------------------

def test_a_new_run_is_scheduled_in_main_with_no_counts(db, campaign_id):
    run_id = create_run(db, campaign_id=campaign_id)
    row = run_row(db, run_id)
    assert (row["status"], row["step"], row["in_progress_at"], row["as_of"]) == (RunStatus.SCHEDULED, RunStep.MAIN, None, None)
    assert row["scheduled_for"] == row["created_at"]
    assert (row["query_param_customers"], row["success"]) == (None, None)


def test_a_run_scheduled_for_later_keeps_its_time(db, campaign_id):
    later = dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    run_id = create_run(db, campaign_id=campaign_id, scheduled_for=later)
    assert (run_row(db, run_id)["status"], run_row(db, run_id)["scheduled_for"]) == (RunStatus.SCHEDULED, later)


def test_only_one_of_two_claims_of_a_run_wins(db, campaign_id):
    run_id = create_run(db, campaign_id=campaign_id)
    assert [claim(db, run_id), claim(db, run_id)] == [True, False]
    assert run_row(db, run_id)["status"] == RunStatus.IN_PROGRESS


# -- canceling --------------------------------------------------------------------

def test_canceling_a_scheduled_run_cancels_it_at_once(db, campaign_id):
    run_id = create_run(db, campaign_id=campaign_id)
    assert cancel_run(db, run_id) == RunStatus.CANCELED
    row = run_row(db, run_id)
    assert (row["status"], row["step"], row["in_progress_at"]) == (RunStatus.CANCELED, RunStep.MAIN, None)
    assert row["completed_at"] is not None
    assert [e["stage"] for e in events(db, run_id)] == [RunStep.MAIN]


def test_a_canceled_scheduled_run_is_never_executed(db, campaign_id):
    run_id = create_run(db, campaign_id=campaign_id)
    cancel_run(db, run_id)
    with pytest.raises(UserError, match="canceled"):
        execute_run(db, run_id)
    assert (potentials(db, run_id), enrollments(db)) == ([], [])


@pytest.mark.parametrize(("prefix", "step"), STAGES, ids=[step.value for _, step in STAGES])
def test_a_cancel_token_set_during_a_stage_cancels_the_run_enrolling_nobody(db, campaign_id, prefix, step):
    token = CancelToken()
    outcome = execute(db, campaign_id, cancel=token, progress=when(prefix, token.cancel))
    assert (outcome.status, outcome.step) == (RunStatus.CANCELED, step)
    assert enrollments(db) == []
    assert run_row(db, outcome.id)["completed_at"] is not None


def test_a_canceled_run_records_why_in_its_events(db, campaign_id):
    token = CancelToken()
    outcome = execute(db, campaign_id, cancel=token, progress=when("Counting", token.cancel))
    last = events(db, outcome.id)[-1]
    assert (last["stage"], last["level"], "Canceled" in last["message"]) == (RunStep.CUSTOMER_VALIDATION, EventLevel.WARNING, True)


def test_a_cancel_token_set_during_a_simulation_cancels_it(db, campaign_id):
    token = CancelToken()
    outcome = execute(db, campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, cancel=token,
                      progress=when("Counting", token.cancel))
    assert outcome.status == RunStatus.CANCELED


@pytest.mark.parametrize(("prefix", "step"), STAGES[1:], ids=[step.value for _, step in STAGES[1:]])
def test_a_cancel_from_another_connection_is_honoured_before_enrolling(db, campaign_id, prefix, step):
    """A user cancels from another window or the command line while the run is in
    progress: whatever the heartbeat's rhythm, a run canceled before its
    enrollment commit enrolls nobody and ends canceled (RULES §2)."""
    outcome = execute(db, campaign_id, progress=when(prefix, lambda: cancel_run(db, run_in_progress(db))))
    assert outcome.status == RunStatus.CANCELED
    assert enrollments(db) == []


def test_canceling_a_run_in_progress_asks_it_to_stop(db, campaign_id):
    run_id = create_run(db, campaign_id=campaign_id)
    claim(db, run_id)
    assert cancel_run(db, run_id) == RunStatus.IN_PROGRESS
    row = run_row(db, run_id)
    assert (row["status"], row["cancel_requested_at"] is not None) == (RunStatus.IN_PROGRESS, True)


def test_a_cancel_waiting_for_a_run_that_completes_meanwhile_says_it_finished(pg_db):
    """On PostgreSQL the cancel reads "in progress", then waits for the row the
    run's final commit holds: the user must hear that the run completed."""
    db = pg_db
    run_id = create_run(db, campaign_id=campaign(db, organization(db)))
    claim(db, run_id)
    failures = []

    def cancel():
        try:
            cancel_run(db, run_id)
        except UserError as exc:
            failures.append(str(exc))

    with db.write() as conn:
        conn.execute(RUNS.update().where(RUNS.c.id == run_id).values(status=RunStatus.COMPLETED))
        canceler = threading.Thread(target=cancel)
        canceler.start()
        wait_until(lambda: waiting_for_a_lock(db))
    canceler.join()
    assert failures == [f"Run {run_id} is completed: only a scheduled or in-progress run can be canceled"]
    assert run_row(db, run_id)["cancel_requested_at"] is None


def waiting_for_a_lock(db) -> bool:
    with db.read() as conn:
        return conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).scalar() > 0


def test_a_cancel_from_another_connection_reaches_the_run_through_its_heartbeat(db, campaign_id, monkeypatch):
    """The heartbeat picks up the request while the run is busy in a long stage."""
    monkeypatch.setattr(runs, "HEARTBEAT_INTERVAL_S", 0.05)
    token = CancelToken()

    def cancel_and_wait_for_the_heartbeat():
        cancel_run(db, run_in_progress(db))
        wait_until(lambda: token.cancelled)

    outcome = execute(db, campaign_id, cancel=token, progress=when("Query param 1", cancel_and_wait_for_the_heartbeat))
    assert (outcome.status, outcome.step) == (RunStatus.CANCELED, RunStep.CRITERIONS)


# -- finished runs ------------------------------------------------------------------

@pytest.fixture(params=["completed", "canceled", "error", "not_applicable"])
def finished_run(request, db, campaign_id):
    if request.param == "completed":
        return execute(db, campaign_id).id
    if request.param == "canceled":
        run_id = create_run(db, campaign_id=campaign_id)
        cancel_run(db, run_id)
        return run_id
    if request.param == "error":
        broken = campaign(db, organization(db, name="Broken"), criterion='{"all": []}')
        return execute(db, broken).id
    return execute(db, campaign(db, organization(db, name="Idle"), active=False)).id


def test_a_finished_run_cannot_be_executed_again(db, finished_run):
    status = run_row(db, finished_run)["status"]
    with pytest.raises(UserError, match="cannot be executed"):
        execute_run(db, finished_run)
    assert run_row(db, finished_run)["status"] == status


def test_a_finished_run_cannot_be_canceled(db, finished_run):
    status = run_row(db, finished_run)["status"]
    with pytest.raises(UserError, match="only a scheduled or in-progress run can be canceled"):
        cancel_run(db, finished_run)
    assert run_row(db, finished_run)["status"] == status


def test_a_missing_run_cannot_be_executed_or_canceled(db):
    with pytest.raises(UserError, match="no run with id 77"):
        execute_run(db, 77)
    with pytest.raises(UserError, match="no run with id 77"):
        cancel_run(db, 77)


# -- heartbeat and interrupted runs ---------------------------------------------------

def test_the_heartbeat_advances_while_a_run_is_in_progress(db, campaign_id, monkeypatch):
    monkeypatch.setattr(runs, "HEARTBEAT_INTERVAL_S", 0.05)

    def heartbeat_advanced():
        row = run_row(db, run_in_progress(db))
        wait_until(lambda: run_row(db, row["id"])["heartbeat_at"] > row["heartbeat_at"])

    outcome = execute(db, campaign_id, progress=when("Counting", heartbeat_advanced))
    assert outcome.status == RunStatus.COMPLETED


def claimed_run(db, campaign_id) -> tuple[int, dt.datetime]:
    """A run in progress whose executing process went quiet; its last heartbeat."""
    run_id = create_run(db, campaign_id=campaign_id)
    claim(db, run_id)
    return run_id, run_row(db, run_id)["heartbeat_at"]


def test_a_run_without_heartbeat_for_more_than_60_seconds_becomes_interrupted(db, campaign_id):
    run_id, heartbeat = claimed_run(db, campaign_id)
    assert recover_interrupted(db, now=heartbeat + dt.timedelta(seconds=61)) == [run_id]
    row = run_row(db, run_id)
    assert (row["status"], row["error_message"], row["step"]) == (RunStatus.ERROR, INTERRUPTED, RunStep.MAIN)
    assert events(db, run_id)[-1]["level"] == EventLevel.ERROR


def test_a_run_with_a_recent_heartbeat_is_left_in_progress(db, campaign_id):
    run_id, heartbeat = claimed_run(db, campaign_id)
    assert recover_interrupted(db, now=heartbeat + dt.timedelta(seconds=59)) == []
    assert run_row(db, run_id)["status"] == RunStatus.IN_PROGRESS


def test_recovering_interrupted_runs_leaves_scheduled_ones(db, campaign_id):
    run_id = create_run(db, campaign_id=campaign_id)
    recover_interrupted(db, now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    assert run_row(db, run_id)["status"] == RunStatus.SCHEDULED


def test_a_thousand_interrupted_runs_are_recovered_at_once_each_with_its_event_and_params(db, campaign_id):
    """After an outage there may be many: more than one IN list's worth here."""
    stale = dt.datetime(2020, 1, 1)
    ids = [create_run(db, campaign_id=campaign_id) for _ in range(3)]
    with db.write() as conn:
        template = conn.execute(RUNS.select().where(RUNS.c.id == ids[0])).mappings().one()
        row = {k: v for k, v in template.items() if k != "id"} | {"status": RunStatus.IN_PROGRESS, "heartbeat_at": stale}
        conn.execute(RUNS.insert(), [row] * 1_200)
        conn.execute(RUNS.update().values(status=RunStatus.IN_PROGRESS, heartbeat_at=stale))
        everyone = conn.execute(sa.select(RUNS.c.id)).scalars().all()
        conn.execute(RUN_PARAMS.insert(), [{"run_id": run_id, "query_param_id": 1, "process_order": 1,
                                            "status": RunStatus.IN_PROGRESS, "created_at": stale} for run_id in everyone])
    assert sorted(recover_interrupted(db)) == sorted(everyone)
    with db.read() as conn:
        assert conn.execute(sa.select(RUNS.c.status).distinct()).scalars().all() == [RunStatus.ERROR]
        assert conn.execute(sa.select(RUN_PARAMS.c.status).distinct()).scalars().all() == [RunStatus.ERROR]
        per_run = conn.execute(sa.select(EVENTS.c.run_id, sa.func.count()).group_by(EVENTS.c.run_id)).all()
    assert sorted(run_id for run_id, _ in per_run) == sorted(everyone) and {n for _, n in per_run} == {1}


def test_a_run_marked_interrupted_never_completes_afterwards(db, campaign_id):
    """Its process was only slow: when it wakes, the run stays in error and enrolls nobody."""
    run_id, heartbeat = claimed_run(db, campaign_id)
    recover_interrupted(db, now=heartbeat + dt.timedelta(seconds=61))
    outcome = execute_claimed(db, run_id)
    assert (outcome.status, outcome.error_message) == (RunStatus.ERROR, INTERRUPTED)
    assert enrollments(db) == []


# -- faults -----------------------------------------------------------------------

def test_a_query_param_waiting_too_long_for_a_lock_is_retried_and_its_attempts_counted(pg_db, monkeypatch):
    """Another system holds the customers table while the first query param runs:
    the statement's lock wait runs out, the attempt is retried after a backoff,
    and ``query_attempts`` says 2. (The run's database waits 1 s for a lock here
    instead of the product's 10 s, to keep the test short.)"""
    monkeypatch.setattr(engine_module, "LOCK_WAIT_SECONDS", 1)
    impatient = open_database(pg_db.url)
    org = organization(pg_db)
    campaign_id = campaign(pg_db, org)
    customer(pg_db, org)
    holder = pg_db.engine.connect()
    holder_transaction = holder.begin()

    def hold_the_customers_table():
        holder.exec_driver_sql("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")

    class ReleaseWhenTheFirstAttemptGivesUp(logging.Handler):
        """The retry's warning is written between the attempt that gave up and
        the backoff: the lock goes then, so the second attempt finds it free."""

        def emit(self, record):
            if holder_transaction.is_active and "transient database error" in record.getMessage():
                holder_transaction.commit()

    releaser = ReleaseWhenTheFirstAttemptGivesUp()
    logging.getLogger(retry.__name__).addHandler(releaser)
    try:
        outcome = execute(impatient, campaign_id, progress=when("Query param 1", hold_the_customers_table))
    finally:
        logging.getLogger(retry.__name__).removeHandler(releaser)
        holder.close()
        impatient.dispose()
    (param,) = run_params(pg_db, outcome.id)
    assert (outcome.status, outcome.counts["success"]) == (RunStatus.COMPLETED, 1)
    assert (param["query_attempts"], param["total_customers"]) == (2, 1)


# -- what a user sees of a run ------------------------------------------------------

def test_a_completed_run_has_events_of_each_of_the_five_stages(db, campaign_id):
    outcome = execute(db, campaign_id)
    rows = events(db, outcome.id)
    assert {e["stage"] for e in rows} == set(RunStep)
    assert all(e["duration_ms"] is not None and e["duration_ms"] >= 0 for e in rows)


def test_counts_are_written_as_each_stage_completes(db, campaign_id):
    seen = {}

    def look(fraction: float, message: str) -> None:
        for prefix, _ in STAGES:
            if message.startswith(prefix):
                row = run_row(db, run_in_progress(db))
                seen[prefix] = (row["query_param_customers"], row["eligible"], row["success"])

    execute(db, campaign_id, progress=look)
    assert seen == {
        "Checking the campaign": (None, None, None),
        "Query param 1": (None, None, None),
        "Validating contact details": (3, None, None),
        "Counting the funnel": (3, None, None),
        "Enrolling": (3, 3, None),
    }


def test_the_step_is_on_the_runs_row_while_it_advances(db, campaign_id):
    seen = {}

    def look(fraction: float, message: str) -> None:
        for prefix, _ in STAGES:
            if message.startswith(prefix):
                seen[prefix] = run_row(db, run_in_progress(db))["step"]

    execute(db, campaign_id, progress=look)
    assert seen == dict(STAGES)


def test_progress_rises_from_zero_to_one(db, campaign_id):
    fractions = []
    execute(db, campaign_id, progress=lambda fraction, message: fractions.append(fraction))
    assert (fractions[0], fractions[-1]) == (0.0, 1.0)
    assert fractions == sorted(fractions)


def test_a_run_in_progress_is_seen_in_progress_by_another_connection(db, campaign_id):
    seen = []
    execute(db, campaign_id, progress=when("Counting", lambda: seen.append(run_row(db, run_in_progress(db))["status"])))
    assert seen == [RunStatus.IN_PROGRESS]


# -- the heartbeat ------------------------------------------------------------------

def _in_progress_run(db, campaign_id) -> int:
    run_id = create_run(db, campaign_id=campaign_id)
    with db.write() as conn:
        conn.execute(RUNS.update().where(RUNS.c.id == run_id).values(status=RunStatus.IN_PROGRESS,
                                                                     heartbeat_at=dt.datetime(2020, 1, 1)))
    return run_id


def test_a_heartbeat_refreshes_the_run_it_keeps_alive(db, campaign_id):
    run_id = _in_progress_run(db, campaign_id)
    runs.RunBeat(db, run_id, CancelToken()).beat()
    assert run_row(db, run_id)["heartbeat_at"] > dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def test_a_heartbeat_passes_over_a_run_row_its_enrollment_holds(pg_db, caplog):
    """On PostgreSQL the enrolling transaction holds the run's row for as long as it
    enrolls: the beat neither waits for it (ending in a lock timeout) nor warns."""
    db = pg_db
    run_id = _in_progress_run(db, campaign(db, organization(db)))
    with db.write() as holder:
        holder.execute(RUNS.select().where(RUNS.c.id == run_id).with_for_update())
        beat = threading.Thread(target=runs.RunBeat(db, run_id, CancelToken()).beat)
        beat.start()
        beat.join(timeout=5)
        assert not beat.is_alive(), "the heartbeat waited for the row"
    assert run_row(db, run_id)["heartbeat_at"].year == 2020
    assert "missed" not in caplog.text
