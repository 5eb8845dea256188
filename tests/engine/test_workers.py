"""Workers that can be seen and managed: each ``worker`` registers itself and
heartbeats; one gone silent for a minute is lost and its run recovered by the
others (RULES §2 "interrupted"); SIGTERM finishes the run in progress, a second one
cancels it; ``workers`` lists them."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import threading

import pytest
import sqlalchemy as sa

from enroller_desktop.db.enums import RunStatus, RunStep
from enroller_desktop.engine import worker_registry
from enroller_desktop.engine.runs import INTERRUPTED, create_run, utcnow
from enroller_desktop.engine.worker import run_worker
from enroller_desktop.engine.worker_registry import WORKERS, WorkerState, list_workers
from tests.polling import wait_until
from tests.engine.builders import (
    ENROLLER,
    RUNS,
    campaign,
    customer,
    enrollments,
    events,
    organization,
    paused_when,
    run_row,
    slow_campaign,
)


def enroller(db, *args: str) -> subprocess.Popen:
    return subprocess.Popen([str(ENROLLER), "--db", db.url, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def due_run(db, campaign_id: int) -> int:
    return create_run(db, campaign_id=campaign_id, scheduled_for=utcnow() - dt.timedelta(minutes=1))


def the_worker(db, name: str):
    [found] = [w for w in list_workers(db) if w.name == name]
    return found


def a_minute_passes(db) -> None:
    """Age every heartbeat by 61 s, as if its process had been silent that long."""
    minute = dt.timedelta(seconds=61)
    with db.write() as conn:
        for table, rows in ((WORKERS, sa.true()), (RUNS, RUNS.c.status == RunStatus.IN_PROGRESS.value)):
            for row in conn.execute(sa.select(table.c.id, table.c.heartbeat_at).where(rows)).all():
                conn.execute(sa.update(table).where(table.c.id == row.id).values(heartbeat_at=row.heartbeat_at - minute))


@pytest.fixture
def quick_heartbeat(monkeypatch):
    monkeypatch.setattr(worker_registry, "HEARTBEAT_INTERVAL_S", 0.05)


@pytest.fixture
def worker_thread(db):
    """``start(name)``: ``run_worker`` in a thread of this process until the test ends."""
    stop = threading.Event()
    threads = []

    def start(name: str) -> threading.Thread:
        thread = threading.Thread(target=run_worker, args=(db,), kwargs={"stop": stop, "name": name}, daemon=True)
        thread.start()
        threads.append(thread)
        wait_until(lambda: any(w.name == name for w in list_workers(db)))
        return thread
    yield start
    stop.set()
    for thread in threads:
        thread.join(60)


def test_a_worker_registers_with_its_host_pid_and_version_and_is_idle(db, worker_thread):
    import os
    import socket

    from enroller_desktop import __version__

    worker_thread("north")
    north = the_worker(db, "north")
    assert (north.host, north.pid, north.version, north.state) == (socket.gethostname(), os.getpid(), __version__, WorkerState.IDLE)
    assert (north.current_run_id, north.runs_done, north.runs_today) == (None, 0, 0)


def test_a_worker_heartbeats_while_it_waits(db, quick_heartbeat, worker_thread):
    worker_thread("north")
    first = the_worker(db, "north").heartbeat_at
    wait_until(lambda: the_worker(db, "north").heartbeat_at > first)


def test_a_worker_without_a_name_takes_its_host_s(db):
    import socket

    run_worker(db, once=True)
    assert [w.name for w in list_workers(db)] == [socket.gethostname()]


def test_a_worker_that_stopped_is_shown_stopped(db):
    run_worker(db, once=True, name="once")
    assert the_worker(db, "once").state is WorkerState.STOPPED


def test_a_worker_shows_the_run_it_executes_then_counts_it_done_today(db, worker_thread):
    campaign_id = slow_campaign(db)
    run_id = due_run(db, campaign_id)
    worker_thread("north")
    wait_until(lambda: the_worker(db, "north").current_run_id == run_id)
    assert the_worker(db, "north").state is WorkerState.RUNNING
    wait_until(lambda: the_worker(db, "north").runs_done == 1)
    north = the_worker(db, "north")
    assert (north.state, north.current_run_id, north.runs_today) == (WorkerState.IDLE, None, 1)
    assert run_row(db, run_id)["status"] == RunStatus.COMPLETED


def test_runs_done_yesterday_are_not_runs_done_today(db):
    org = organization(db)
    customer(db, org)
    due_run(db, campaign(db, org))
    run_worker(db, once=True, name="north")
    with db.write() as conn:
        conn.execute(sa.update(WORKERS).values(runs_today_on=utcnow().date() - dt.timedelta(days=1)))
    north = the_worker(db, "north")
    assert (north.runs_done, north.runs_today) == (1, 0)


def test_a_worker_silent_for_a_minute_is_lost(db):
    run_worker(db, once=True, name="north")
    with db.write() as conn:
        conn.execute(sa.update(WORKERS).values(stopped_at=None))
    assert the_worker(db, "north").state is WorkerState.IDLE
    a_minute_passes(db)
    assert the_worker(db, "north").state is WorkerState.LOST


def test_a_worker_started_again_replaces_its_stopped_row(db):
    run_worker(db, once=True, name="north")
    run_worker(db, once=True, name="north")
    run_worker(db, once=True, name="south")
    assert sorted(w.name for w in list_workers(db)) == ["north", "south"]


def test_a_killed_worker_is_shown_lost_and_its_run_recovered_by_another(db):
    campaign_id = slow_campaign(db)
    run_id = due_run(db, campaign_id)
    process = enroller(db, "worker", "--name", "doomed")
    try:
        with paused_when(process, lambda: _running(db, "doomed", run_id)):
            process.kill()
    finally:
        process.kill()
        process.communicate()
    assert the_worker(db, "doomed").state is WorkerState.RUNNING  # nobody can know yet
    a_minute_passes(db)
    assert the_worker(db, "doomed").state is WorkerState.LOST

    out, err = enroller(db, "worker", "--once", "--name", "rescuer").communicate(timeout=120)
    run = run_row(db, run_id)
    assert (run["status"], run["error_message"]) == (RunStatus.ERROR, INTERRUPTED), err
    assert enrollments(db) == []
    assert the_worker(db, "rescuer").runs_done == 0  # it recovered the run; it did not execute it


def _running(db, name: str, run_id: int) -> bool:
    with db.read() as conn:
        status = conn.execute(sa.select(RUNS.c.status).where(RUNS.c.id == run_id)).scalar()
        current = conn.execute(sa.select(WORKERS.c.current_run_id).where(WORKERS.c.name == name)).scalar()
    return status == RunStatus.IN_PROGRESS.value and current == run_id


def test_sigterm_during_a_run_finishes_it_then_the_worker_stops(db):
    campaign_id = slow_campaign(db)
    run_id = due_run(db, campaign_id)
    later = due_run(db, campaign_id)  # due too, but the worker was asked to stop
    process = enroller(db, "worker", "--name", "north")
    with paused_when(process, lambda: _running(db, "north", run_id)):
        process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)

    assert process.returncode == 0, err
    assert f"Run {run_id}: Completed" in out
    assert "Stopping after the run in progress" in err
    assert run_row(db, run_id)["status"] == RunStatus.COMPLETED
    assert run_row(db, later)["status"] == RunStatus.SCHEDULED
    north = the_worker(db, "north")
    assert (north.state, north.runs_done) == (WorkerState.STOPPED, 1)


def test_a_second_signal_cancels_the_run_in_progress_enrolling_nobody(db):
    campaign_id = slow_campaign(db)
    run_id = due_run(db, campaign_id)
    process = enroller(db, "worker", "--name", "north")

    def before_enrolling() -> bool:
        return _running(db, "north", run_id) and run_row(db, run_id)["step"] in (RunStep.CRITERIONS, RunStep.ENROLLER_RUN_CUSTOMERS)

    with paused_when(process, before_enrolling):
        # Two different signals: two of one kind sent to a stopped process arrive as one.
        process.send_signal(signal.SIGTERM)
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)

    assert process.returncode == 0, err
    assert "Canceling the run in progress" in err
    assert run_row(db, run_id)["status"] == RunStatus.CANCELED
    assert enrollments(db) == []
    assert "Canceled by a user; nothing was enrolled" in [e["message"] for e in events(db, run_id)]
    assert the_worker(db, "north").state is WorkerState.STOPPED


def test_workers_json_lists_each_worker_with_its_state(db):
    run_worker(db, once=True, name="north")
    result = subprocess.run([str(ENROLLER), "--db", db.url, "workers", "--json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    [north] = json.loads(result.stdout)
    assert (north["name"], north["state"], north["runs_done"], north["current_run_id"]) == ("north", "stopped", 0, None)
    assert dt.datetime.fromisoformat(north["heartbeat_at"]).tzinfo is not None


def test_workers_prints_a_table_a_person_reads(db):
    run_worker(db, once=True, name="north")
    result = subprocess.run([str(ENROLLER), "--db", db.url, "workers"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    header, row, total = result.stdout.splitlines()
    assert header.split()[:4] == ["Name", "Host", "Pid", "State"]
    assert row.split()[0] == "north" and "Stopped" in row
    assert total == "1 worker(s)"
