"""Workers that can be seen and managed: each ``worker`` registers itself and
heartbeats; one gone silent for a minute is lost and its run recovered by the
others (RULES §2 "interrupted"); SIGTERM finishes the run in progress, a second one
cancels it; ``workers`` lists them."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import json
import signal
import subprocess
import threading

import pytest
import sqlalchemy as sa

from enroller_desktop.db.enums import RunStatus, RunStep
from enroller_desktop.engine import runs
from enroller_desktop.engine.runs import INTERRUPTED, create_run, utcnow
from enroller_desktop.engine.worker import run_worker, worker_database
from enroller_desktop.engine.worker_registry import WORKERS, WorkerState, list_workers
from tests.polling import wait_until
from tests.builders import (
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
    monkeypatch.setattr(runs, "HEARTBEAT_INTERVAL_S", 0.05)


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


# -- connections: two per worker at most ------------------------------------------------

def _connections_of(db, application_name: str) -> int:
    """PostgreSQL's own count (a transaction of its own: the view is read once per transaction)."""
    with db.read() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
                            {"name": application_name}).scalar_one()


def test_a_worker_holds_two_postgresql_connections_at_most_while_it_executes_a_run(pg_db, monkeypatch):
    """Counted in pg_stat_activity under the worker's own application_name, all
    through a run, with its heartbeats (the worker's and the run's) beating all the
    time so that they overlap every statement of the run."""
    db = pg_db
    monkeypatch.setattr(runs, "HEARTBEAT_INTERVAL_S", 0.01)
    run_id = due_run(db, slow_campaign(db))
    worker_db = worker_database(db.url, "counted")
    application_name = "enroller-desktop worker counted"
    counts, beats = [], set()
    finished = threading.Event()

    def sample() -> None:
        while not finished.is_set():
            counts.append(_connections_of(db, application_name))
            row = run_row(db, run_id)
            if row["status"] == RunStatus.IN_PROGRESS:
                beats.add(row["heartbeat_at"])

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        [outcome] = run_worker(worker_db, once=True, name="counted")
    finally:
        finished.set()
        sampler.join(60)
        worker_db.dispose()
    assert outcome.status == RunStatus.COMPLETED
    assert len(beats) >= 3, "the run's heartbeat did not beat during the run"
    assert max(counts) == 2, collections.Counter(counts)  # the run's own connection and the pooled one, never more
    wait_until(lambda: _connections_of(db, application_name) == 0)  # a backend ends a moment after its client left


@contextlib.contextmanager
def _held_inside_the_candidates_insert(db, worker_db):
    """Hold the worker's run inside its first candidate INSERT (a long statement) for
    the block: on PostgreSQL it waits for a lock on customers; on SQLite a progress
    handler stops it mid-statement."""
    if db.is_sqlite:
        inside, leave = threading.Event(), threading.Event()

        @sa.event.listens_for(worker_db.engine, "before_cursor_execute")
        def hold(conn, cursor, statement, *_):
            if statement.lstrip().startswith("INSERT INTO run_snapshot_candidates") and not leave.is_set():
                dbapi = conn.connection.dbapi_connection

                def handler():
                    inside.set()
                    leave.wait(60)
                    dbapi.set_progress_handler(None, 0)
                    return 0
                dbapi.set_progress_handler(handler, 1000)

        yield inside.wait
        leave.set()
        return
    with db.write() as holder:
        holder.exec_driver_sql("LOCK TABLE customers IN ACCESS EXCLUSIVE MODE")

        def waiting() -> bool:
            with db.read() as conn:
                return conn.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND application_name = 'enroller-desktop worker held'").scalar() > 0
        yield lambda timeout: wait_until(waiting, timeout=timeout)


def test_a_worker_s_heartbeats_go_on_while_its_run_is_inside_a_long_statement(db, monkeypatch):
    """The run's long statements hold the run's own connection; the worker's one
    pooled connection stays free for the heartbeat thread, whose beats (the run's
    and the worker's) get through meanwhile, on SQLite too (the statement writes
    only the run's temporary table, so no lock keeps the beat out)."""
    monkeypatch.setattr(runs, "HEARTBEAT_INTERVAL_S", 0.05)
    run_id = due_run(db, slow_campaign(db))
    worker_db = worker_database(db.url, "held")
    thread = threading.Thread(target=run_worker, args=(worker_db,), kwargs={"once": True, "name": "held"})
    try:
        with _held_inside_the_candidates_insert(db, worker_db) as inside:
            thread.start()
            inside(60)
            run_beat, worker_beat = run_row(db, run_id)["heartbeat_at"], the_worker(db, "held").heartbeat_at
            wait_until(lambda: run_row(db, run_id)["heartbeat_at"] > run_beat
                     and the_worker(db, "held").heartbeat_at > worker_beat, timeout=8)
            assert run_row(db, run_id)["step"] == RunStep.CRITERIONS
        thread.join(120)
    finally:
        thread.join(120)
        worker_db.dispose()
    assert run_row(db, run_id)["status"] == RunStatus.COMPLETED
