"""Runs at the same time (RULES §3 "Atomic enrollment", RULES §2 interrupted runs, the
worker order): two runs of one campaign, three worker processes over thirty
scheduled runs, and a run whose process is killed mid-way."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from enroller_desktop.db.enums import PotentialStatus, RunStatus, RunStep
from enroller_desktop.engine.runs import INTERRUPTED, create_run, execute_run, recover_interrupted
from enroller_desktop.errors import UserError
from tests.builders import (
    ENROLLER,
    POTENTIALS,
    RUNS,
    campaign,
    customer,
    enrollments,
    events,
    organization,
    paused_when,
    potentials,
    run_row,
    slow_campaign,
)


def in_threads(*targets) -> list:
    """Run each target in its own thread; their results (or exceptions), in order."""
    results: list = [None] * len(targets)

    def call(index, target):
        try:
            results[index] = target()
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            results[index] = exc

    threads = [threading.Thread(target=call, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


# -- two runs of one campaign ---------------------------------------------------------

@pytest.fixture
def crowded_campaign(db):
    """Six candidates, every one eligible."""
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org, vehicles=3)
    customer(db, org, vehicles=2)
    customer(db, org)
    return campaign_id


def two_runs_at_once(db, campaign_id):
    """Two runs of the campaign, held at their enrollment step until both reach
    it, so that both evaluated the same snapshot; their outcomes."""
    barrier = threading.Barrier(2, timeout=60)

    def at_enrollment(fraction: float, message: str) -> None:
        if message.startswith("Enrolling"):
            barrier.wait()

    run_ids = [create_run(db, campaign_id=campaign_id) for _ in range(2)]
    return in_threads(*(lambda r=r: execute_run(db, r, progress=at_enrollment) for r in run_ids))


def test_two_runs_of_one_campaign_at_once_never_enroll_a_candidate_twice(db, crowded_campaign):
    first, second = two_runs_at_once(db, crowded_campaign)
    assert (first.status, second.status) == (RunStatus.COMPLETED, RunStatus.COMPLETED)
    assert (first.counts["eligible"], second.counts["eligible"]) == (6, 6)
    rows = enrollments(db, crowded_campaign)
    assert len(rows) == 6
    by_run = Counter(e["run_id"] for e in rows)
    assert set(by_run) <= {first.id, second.id}
    assert (by_run[first.id], by_run[second.id]) == (first.counts["success"], second.counts["success"])


def test_the_potentials_another_run_enrolled_first_end_in_error(db, crowded_campaign):
    outcomes = two_runs_at_once(db, crowded_campaign)
    enrolled_by = {(e["customer_id"], e["vehicle_id"]): e["run_id"] for e in enrollments(db, crowded_campaign)}
    for outcome in outcomes:
        for p in potentials(db, outcome.id):
            expected = PotentialStatus.SUCCESS if enrolled_by[(p["customer_id"], p["vehicle_id"])] == outcome.id else PotentialStatus.ERROR
            assert p["status"] == expected
    assert sum(p["status"] == PotentialStatus.ERROR for o in outcomes for p in potentials(db, o.id)) == 6


def test_two_clients_executing_one_run_execute_it_once(db, crowded_campaign):
    run_id = create_run(db, campaign_id=crowded_campaign)
    results = in_threads(lambda: execute_run(db, run_id), lambda: execute_run(db, run_id))
    refused = [r for r in results if isinstance(r, UserError)]
    assert len(refused) == 1
    assert [e["stage"] for e in events(db, run_id)].count(RunStep.MAIN) == 1
    assert len(enrollments(db, crowded_campaign)) == 6


# -- three workers ------------------------------------------------------------------

def enroller(db, *args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([str(ENROLLER), "--db", db.url, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)


@pytest.mark.slow
def test_three_workers_execute_each_of_thirty_due_runs_exactly_once(db):
    org = organization(db)
    campaign_ids = [campaign(db, org, name=f"Campaign {n}") for n in range(3)]
    for n in range(4):
        customer(db, org, first_name=f"Customer {n}", vehicles=n % 2)
    due = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    run_ids = [create_run(db, campaign_id=campaign_ids[n % 3], scheduled_for=due + dt.timedelta(seconds=n))
               for n in range(30)]
    later = create_run(db, campaign_id=campaign_ids[0], scheduled_for=due + dt.timedelta(days=1))

    workers = [enroller(db, "worker", "--once") for _ in range(3)]
    outputs = [worker.communicate(timeout=300) for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0, 0], [err for _, err in outputs]
    executed = [int(n) for out, _ in outputs for n in re.findall(r"^Run (\d+): ", out, re.MULTILINE)]
    assert sorted(executed) == run_ids
    assert {run_row(db, r)["status"] for r in run_ids} == {RunStatus.COMPLETED}
    assert run_row(db, later)["status"] == RunStatus.SCHEDULED


def test_a_worker_executes_due_runs_by_scheduled_time_then_id(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org)
    due = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    last = create_run(db, campaign_id=campaign_id, scheduled_for=due + dt.timedelta(seconds=2))
    second = create_run(db, campaign_id=campaign_id, scheduled_for=due)
    first = create_run(db, campaign_id=campaign_id, scheduled_for=due - dt.timedelta(seconds=1))
    third = create_run(db, campaign_id=campaign_id, scheduled_for=due)
    out, err = enroller(db, "worker", "--once").communicate(timeout=120)
    assert [int(n) for n in re.findall(r"^Run (\d+): ", out, re.MULTILINE)] == [first, second, third, last], err


# -- a run killed mid-way -------------------------------------------------------------

@pytest.mark.slow
def test_a_run_killed_mid_way_enrolls_nobody_and_becomes_interrupted(db):
    campaign_id = slow_campaign(db)

    process = enroller(db, "run", "--campaign", str(campaign_id))
    seen: list[int] = []

    def mid_way() -> bool:
        """In progress, with the potentials of its first query param committed."""
        with db.read() as conn:
            seen[:] = conn.execute(sa.select(RUNS.c.id).where(RUNS.c.status == RunStatus.IN_PROGRESS.value)).scalars().all()
            return bool(seen) and conn.execute(sa.select(sa.exists().where(POTENTIALS.c.run_id == seen[0]))).scalar()

    try:
        with paused_when(process, mid_way):
            process.kill()
    finally:
        process.kill()
        process.communicate()
    run = run_row(db, seen[0])
    assert (run["status"], enrollments(db)) == (RunStatus.IN_PROGRESS, [])

    assert recover_interrupted(db, now=run["heartbeat_at"] + dt.timedelta(seconds=61)) == [run["id"]]
    after = run_row(db, run["id"])
    assert (after["status"], after["error_message"]) == (RunStatus.ERROR, INTERRUPTED)
    assert enrollments(db) == []


def test_eligible_potentials_of_a_run_interrupted_while_enrolling_end_in_error(db, crowded_campaign):
    """The run's process died in its enrollment step (here: it stops answering
    once there); when another client marks it interrupted, its eligible
    potentials' enrollment has failed (RULES §3 ``error``), as for any run in error."""
    stalled = threading.Event()
    run_id = create_run(db, campaign_id=crowded_campaign)

    def stall_at_enrollment(fraction: float, message: str) -> None:
        if message.startswith("Enrolling"):
            heartbeat = run_row(db, run_id)["heartbeat_at"]
            assert recover_interrupted(db, now=heartbeat + dt.timedelta(seconds=61)) == [run_id]
            stalled.set()

    outcome = execute_run(db, run_id, progress=stall_at_enrollment)
    assert stalled.is_set()
    assert (outcome.status, outcome.error_message) == (RunStatus.ERROR, INTERRUPTED)
    assert {p["status"] for p in potentials(db, run_id)} == {PotentialStatus.ERROR}
    assert enrollments(db) == []
