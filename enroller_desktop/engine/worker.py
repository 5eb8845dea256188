"""The worker: executes scheduled runs as they fall due, one at a time, by
``scheduled_for`` then id. Several workers (and windows) share the due runs and
none executes a run twice: on PostgreSQL the next run is picked with
``FOR UPDATE SKIP LOCKED``; everywhere the claim itself is a conditional update
that only one client can win.

A worker holds two database connections at most (``worker_database``): the run's
own, which keeps its snapshot and runs its long statements (``engine.snapshot``),
and one pooled connection shared by the worker's short writes and its one
heartbeat thread (``runs.Heartbeat``: its registration's beat and its run's).
A dealer group's PostgreSQL serves many workers and desktops: its
``max_connections`` is what this keeps within reach.
"""

from __future__ import annotations

import datetime as dt
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from enroller_desktop.db.engine import APPLICATION_NAME, Database, describe_error, open_database
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.engine.runs import (
    RUNS,
    RunOutcome,
    claim,
    claim_values,
    execute_claimed,
    recover_interrupted,
    utcnow,
)
from enroller_desktop.engine.cancel import CancelToken
from enroller_desktop.engine.sql_time import time_literal
from enroller_desktop.engine.worker_registry import Registration

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 5.0
#: The worker's pool: one connection, besides the run's own (see the module's text).
WORKER_POOL = {"pool_size": 1, "max_overflow": 0}


def worker_name(name: str | None = None) -> str:
    """The name a worker is listed by: the one given, else the host's."""
    return name or socket.gethostname()


def worker_database(url: str, name: str | None = None) -> Database:
    """Open ``url`` as a worker does: a pool of one connection, named
    ``enroller-desktop worker NAME`` in PostgreSQL's ``pg_stat_activity``."""
    return open_database(url, application_name=f"{APPLICATION_NAME} worker {worker_name(name)}", **WORKER_POOL)


def claim_next_due(db: Database) -> int | None:
    """Claim the next due scheduled run, or return None when none is due."""
    due = (
        sa.select(RUNS.c.id)
        .where(RUNS.c.status == RunStatus.SCHEDULED.value, RUNS.c.scheduled_for <= time_literal(utcnow()))
        .order_by(RUNS.c.scheduled_for, RUNS.c.id)
    )
    if db.dialect == "postgresql":
        with db.write() as conn:
            run_id = conn.execute(due.limit(1).with_for_update(skip_locked=True)).scalar()
            if run_id is None:
                return None
            conn.execute(sa.update(RUNS).where(RUNS.c.id == run_id).values(**claim_values(utcnow())))
            return run_id
    while True:
        with db.read() as conn:
            candidates = conn.execute(due.limit(8)).scalars().all()
        if not candidates:
            return None
        for run_id in candidates:
            if claim(db, run_id):
                return run_id


@dataclass(frozen=True)
class Backlog:
    """The scheduled runs waiting for a worker or a window to execute them, and the
    workers alive now (by name) that will: running or idle, heartbeating within
    the minute (``worker_registry``)."""

    scheduled: int
    first_due: dt.datetime | None
    live_workers: tuple[str, ...] = ()


def backlog(db: Database) -> Backlog:
    from enroller_desktop.engine.worker_registry import WorkerState, list_workers

    with db.read() as conn:
        count, first = conn.execute(
            sa.select(sa.func.count(), sa.func.min(RUNS.c.scheduled_for)).where(RUNS.c.status == RunStatus.SCHEDULED.value)
        ).one()
    alive = tuple(dict.fromkeys(w.name for w in list_workers(db) if w.state in (WorkerState.RUNNING, WorkerState.IDLE)))
    return Backlog(count, first, alive)


def run_worker(
    db: Database,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    on_outcome: Callable[[RunOutcome], None] | None = None,
    name: str | None = None,
    cancel: CancelToken | None = None,
) -> list[RunOutcome]:
    """Execute due runs until ``stop`` is set (with ``once``: those due now).

    A worker left running outlives the database going away (a restart, a network
    cut): it logs, waits and polls again. A run it was executing then ends in error
    or is marked interrupted by the next poll; nothing it did is lost or doubled.
    With ``once`` the failure is raised, so the command says why it stopped.

    The worker registers itself as ``name`` (default: the host's name) and
    heartbeats while it lives (:mod:`enroller_desktop.engine.worker_registry`).
    ``stop`` is looked at between runs: a run once claimed is finished, never left
    half-done. ``cancel`` cancels the run in progress (it enrolls nobody).
    """
    with Registration(db, worker_name(name)) as registration:
        return _serve(db, registration, once=once, stop=stop or threading.Event(), on_outcome=on_outcome, cancel=cancel)


def _serve(db: Database, registration: Registration, *, once: bool, stop: threading.Event,
           on_outcome: Callable[[RunOutcome], None] | None, cancel: CancelToken | None) -> list[RunOutcome]:
    outcomes: list[RunOutcome] = []
    while not stop.is_set():
        try:
            recover_interrupted(db)
            run_id = claim_next_due(db)
            if run_id is not None:
                log.info("worker executing run %s", run_id)
                registration.running(run_id)
                outcome = execute_claimed(db, run_id, cancel=cancel, heartbeat=registration.heartbeat)
                registration.finished()
        except sa.exc.OperationalError as exc:
            if once:
                raise
            log.warning("worker cannot reach the database, polling again in %.0f s: %s",
                        POLL_INTERVAL_S, describe_error(exc, db.url))
            stop.wait(POLL_INTERVAL_S)
            continue
        if run_id is None:
            if once:
                break
            stop.wait(POLL_INTERVAL_S)
            continue
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes
