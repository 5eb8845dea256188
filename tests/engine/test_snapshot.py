"""A run decides on one snapshot (RULES §3 "Snapshot"), whatever another system commits meanwhile.

Each test builds one world, copies the database, and executes the same Default run
twice: on the untouched copy, in this process; and on the original, in a process
of its own (``enroller-desktop run``), which is stopped (``paused_when``) once its
snapshot is taken and while it is still computing its checks. While it is stopped,
a writer process (``tests/engine/snapshot_writer.py``) commits what the dealership's
other systems would; for (a)-(c) it then goes on committing every 20 ms until the
run ends. The run cannot pass by timing luck: every write of the first round is
committed after the run's snapshot and before its checks are done; and the same
writes made on the copy (its run's enrollments undone) change the checks of a
Campaign Simulation that sees them, so they are writes that matter.

The campaign has two query params, so that the candidates credited to the second
(the targets) are computed after the first's: every param sees the same moment.
"""

from __future__ import annotations

import json
import select
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from enroller_desktop.db.engine import normalize_url, open_database
from enroller_desktop.db.enums import PotentialStatus, RunPurpose, RunStatus, RunStep
from tests.conftest import PG_URL
from tests.builders import (
    AS_OF,
    CHECKS,
    ENROLLER,
    ENROLLMENTS,
    EVENTS,
    FAILED,
    PASSED,
    RUNS,
    campaign,
    customer,
    enrollments,
    events,
    execute,
    many_customers,
    no_write_in_progress,
    organization,
    paused_when,
    potential,
    potentials,
    query_param,
    run_row,
)

ROOT = Path(__file__).resolve().parents[2]
TARGETS = 12
FILLER = 10_000
COUNTS = ("query_param_customers", "potential_customers", "potential_events", "eligible", "success")


@dataclass
class World:
    campaign_id: int
    other_campaign_id: int
    targets: list  # Person


def build(db) -> World:
    """A Canadian organization; a campaign with a 30-day marketing buffer whose
    first param credits the filler customers (last name Doe) and whose second
    credits everyone else (the targets, one vehicle each, keyed by VIN); another,
    non-exempt campaign of the organization."""
    org = organization(db)
    campaign_id = campaign(db, org, criterion={"field": "customer.last_name", "op": "eq", "value": "Doe"},
                           marketing_exclusion_days=30)
    query_param(db, campaign_id, {"field": "customer.first_name", "op": "not_null"}, process_order=2,
                event_key="vehicle.vin")
    other = campaign(db, org, name="Win back", criterion=None)
    many_customers(db, org, FILLER)
    targets = [customer(db, org, first_name=f"Target {n}", last_name="Target", vehicles=1) for n in range(TARGETS)]
    return World(campaign_id, other, targets)


# -- an untouched copy --------------------------------------------------------------

def copy_of(db, tmp_path: Path):
    """An open copy of ``db`` and a function that removes it."""
    if db.dialect == "sqlite":
        path = tmp_path / "untouched.sqlite3"
        source, target = sqlite3.connect(db.engine.url.database), sqlite3.connect(path)
        source.backup(target)
        source.close()
        target.close()
        copy = open_database(f"sqlite:///{path}")
        return copy, copy.dispose
    name = f"untouched_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    db.dispose()  # a template database must have no other connection
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{db.engine.url.database}"')
    copy = open_database(db.engine.url.set(database=name).render_as_string(hide_password=False))

    def drop():
        copy.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    return copy, drop


# -- the run under writes -------------------------------------------------------------

def snapshot_taken(db):
    """A condition: the run (its id in ``seen``) has taken its snapshot and is still
    computing its checks, and holds no write (so another writer need not wait)."""
    seen: list[int] = []

    def condition() -> bool:
        with db.read() as conn:
            row = conn.execute(
                sa.select(RUNS.c.id, RUNS.c.step).where(RUNS.c.status == RunStatus.IN_PROGRESS.value)
            ).first()
            if row is None or row.step != RunStep.CRITERIONS:
                return False
            taken = conn.execute(sa.select(sa.exists().where(
                EVENTS.c.run_id == row.id, EVENTS.c.message.startswith("Decided on the data as of")))).scalar()
        seen[:] = [row.id]
        return taken and no_write_in_progress(db, row.id)
    return condition, seen


def start_writer(db, scenario: str, ids: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.engine.snapshot_writer", db.url, scenario, json.dumps(ids)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def await_commit(writer: subprocess.Popen, timeout: float = 60.0) -> None:
    ready, _, _ = select.select([writer.stdout], [], [], timeout)
    line = writer.stdout.readline() if ready else ""
    assert line.strip() == "committed", f"the writer did not commit: {line!r} {writer.stderr.read() if writer.poll() is not None else ''}"


def run_under_writes(db, world: World, scenario: str, ids: dict) -> int:
    """Execute the run in its own process, with the writer committing once its
    snapshot is taken; the run's id."""
    run = subprocess.Popen([str(ENROLLER), "--db", db.url, "run", "--campaign", str(world.campaign_id),
                            "--as-of", AS_OF.isoformat()], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    condition, seen = snapshot_taken(db)
    writer = None
    try:
        with paused_when(run, condition):
            writer = start_writer(db, scenario, ids)
            await_commit(writer)
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    finally:
        run.kill()
        if writer is not None:
            writer.terminate()
            writer.communicate(timeout=60)
    return seen[0]


def decisions(db, run_id: int) -> dict:
    """Every potential of the run, by its customer and vehicle: credited param,
    event key, every check and is_valid."""
    return {(p["customer_id"], p["vehicle_id"]): (p["query_param_id"], p["event_key"], p["is_valid"],
                                                  *(p[check] for check in CHECKS))
            for p in potentials(db, run_id)}


def statuses(db, run_id: int) -> dict:
    return {(p["customer_id"], p["vehicle_id"]): p["status"] for p in potentials(db, run_id)}


def seen_with_the_writes(untouched, world: World, reference_id: int, scenario: str, ids: dict, person) -> dict:
    """The checks of ``person`` in a Campaign Simulation of the copy as it was
    before its run, plus one round of the writer's writes."""
    with untouched.write() as conn:
        conn.execute(sa.delete(ENROLLMENTS).where(ENROLLMENTS.c.run_id == reference_id))
    writer = start_writer(untouched, scenario, {**ids, "keep_going": False})
    await_commit(writer)
    writer.communicate(timeout=60)
    outcome = execute(untouched, world.campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION)
    return potential(untouched, outcome.id, person.id, person.vehicle_id)


@pytest.fixture
def world(db, tmp_path):
    world = build(db)
    untouched, remove = copy_of(db, tmp_path)
    reference = execute(untouched, world.campaign_id)
    assert reference.status is RunStatus.COMPLETED
    yield world, untouched, reference
    remove()


# -- (a)-(c): the run's checks are those of the untouched copy -------------------------

SCENARIOS = {
    # scenario: the checks a run that saw the writes would fail
    "queue": ("already_in_queue",),
    "buffer": ("marketing_exclusion",),
    "flags": ("deleted", "opt_out_all", "casl"),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_what_others_commit_after_the_snapshot_changes_none_of_the_run_s_checks(db, world, scenario):
    world, untouched, reference = world
    ids = {"campaign_id": world.campaign_id, "other_campaign_id": world.other_campaign_id,
           "targets": [t.id for t in world.targets], "keep_going": True}

    run_id = run_under_writes(db, world, scenario, ids)

    expected = decisions(untouched, reference.id)
    assert len(expected) == FILLER + TARGETS
    assert decisions(db, run_id) == expected
    assert statuses(db, run_id) == statuses(untouched, reference.id)
    assert {name: run_row(db, run_id)[name] for name in COUNTS} == {name: reference.counts[name] for name in COUNTS}
    for target in world.targets:
        assert potential(db, run_id, target.id, target.vehicle_id)["status"] == PotentialStatus.SUCCESS
    # The writes matter: a run that sees them fails the targets on them.
    seen_now = seen_with_the_writes(untouched, world, reference.id, scenario, ids, world.targets[0])
    assert {check: seen_now[check] for check in SCENARIOS[scenario]} == {check: FAILED for check in SCENARIOS[scenario]}


# -- (d): an enrollment of the same key committed after the snapshot --------------------

def test_an_event_enrolled_by_another_system_after_the_snapshot_ends_in_error_and_is_not_doubled(db, world):
    world, untouched, reference = world
    taken = world.targets[3]
    with db.read() as conn:
        vin = conn.execute(sa.text("SELECT vin FROM vehicles WHERE id = :v"), {"v": taken.vehicle_id}).scalar_one()
    ids = {"campaign_id": world.campaign_id, "customer_id": taken.id, "vehicle_id": taken.vehicle_id, "event_key": vin}

    run_id = run_under_writes(db, world, "same_key", ids)

    # Decided on the snapshot: the same checks as on the untouched copy, the event unique then.
    assert decisions(db, run_id) == decisions(untouched, reference.id)
    mine = potential(db, run_id, taken.id, taken.vehicle_id)
    assert (mine["unique_event"], mine["is_valid"], mine["status"]) == (PASSED, True, PotentialStatus.ERROR)
    # Every other potential as on the copy.
    expected = statuses(untouched, reference.id)
    expected[(taken.id, taken.vehicle_id)] = PotentialStatus.ERROR
    assert statuses(db, run_id) == expected
    # Nothing doubled: the key has the writer's enrollment only.
    same_key = [e for e in enrollments(db, world.campaign_id)
                if (e["customer_id"], e["vehicle_id"], e["event_key"]) == (taken.id, taken.vehicle_id, vin)]
    assert [e["run_id"] for e in same_key] == [None]
    # The counts say so.
    run = run_row(db, run_id)
    assert {name: run[name] for name in COUNTS} == {**{name: reference.counts[name] for name in COUNTS},
                                                    "success": reference.counts["success"] - 1}
    assert sum(e["run_id"] == run_id for e in enrollments(db, world.campaign_id)) == run["success"]
    assert sum(p["status"] == PotentialStatus.ERROR for p in potentials(db, run_id)) == 1
    assert any("1 eligible potential(s) in error" in e["message"] for e in events(db, run_id))
    # The write matters: a run that sees it fails Unique Event on it.
    assert seen_with_the_writes(untouched, world, reference.id, "same_key", ids, taken)["unique_event"] == FAILED


# -- the Events say which moment -------------------------------------------------------

def test_the_events_say_which_moment_the_run_decided_on(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org, vehicles=1)
    outcome = execute(db, campaign_id)
    (said,) = [e for e in events(db, outcome.id) if e["message"].startswith("Decided on the data as of")]
    assert said["stage"] == RunStep.CRITERIONS
    run = run_row(db, outcome.id)
    moment = said["message"].removeprefix("Decided on the data as of ").split(" UTC")[0]
    assert run["in_progress_at"].strftime("%Y-%m-%d %H:%M:%S") <= moment <= said["created_at"].strftime("%Y-%m-%d %H:%M:%S.%f")
    assert ("PostgreSQL snapshot" if db.dialect == "postgresql" else "SQLite read transaction") in said["message"]
