"""Workers that can be seen: each ``worker`` process registers itself in our table
``workers`` and heartbeats, so the command line (``workers``) and the window show
every worker of the database, its state, its current run and what it has done.

A worker's state is read, never stored:

- ``stopped``: it stopped cleanly (``stopped_at`` set);
- ``lost``: no heartbeat for a minute (``LOST_AFTER``), the run heartbeat's own
  limit: the process died, or its machine or network did. Its run, whose heartbeat
  stopped with it, is recovered by the next client or worker that polls
  (``runs.recover_interrupted``: ``error`` "interrupted", RULES §2);
- ``running``: it is executing ``current_run_id``;
- ``idle``: it is waiting for a due run.

A worker that starts again under the same name on the same host replaces its
earlier rows that are stopped or lost; a stopped row is kept a week for the record.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import os
import socket
from dataclasses import dataclass

import sqlalchemy as sa

from enroller_desktop import __version__
from enroller_desktop.db.engine import Database
from enroller_desktop.db.models import Worker
from enroller_desktop.engine.runs import HEARTBEAT_TIMEOUT, Heartbeat, utcnow
from enroller_desktop.errors import one_line

log = logging.getLogger(__name__)

WORKERS = Worker.__table__
#: A worker whose heartbeat is older than this is lost (as a run is, RULES §2).
LOST_AFTER = HEARTBEAT_TIMEOUT
#: A stopped worker's row is kept this long, then dropped when a worker registers.
KEEP_STOPPED = dt.timedelta(days=7)


class WorkerState(enum.Enum):
    RUNNING = "running"
    IDLE = "idle"
    LOST = "lost"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        return self.value.capitalize()


@dataclass(frozen=True)
class WorkerInfo:
    """One row of ``workers`` as a person reads it, at ``now``."""

    id: int
    name: str
    host: str
    pid: int
    version: str
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    stopped_at: dt.datetime | None
    current_run_id: int | None
    runs_done: int
    runs_today: int
    state: WorkerState

    def as_dict(self) -> dict:
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["state"] = self.state.value
        return {name: value.isoformat() if hasattr(value, "isoformat") else value for name, value in values.items()}


def state_of(row, now: dt.datetime) -> WorkerState:
    if row.stopped_at is not None:
        return WorkerState.STOPPED
    if row.heartbeat_at < now - LOST_AFTER:
        return WorkerState.LOST
    return WorkerState.RUNNING if row.current_run_id is not None else WorkerState.IDLE


def list_workers(db: Database, *, now: dt.datetime | None = None) -> list[WorkerInfo]:
    """Every registered worker: those alive first (by name), then lost, then stopped."""
    now = now or utcnow()
    with db.read() as conn:
        rows = conn.execute(sa.select(WORKERS).order_by(WORKERS.c.name, WORKERS.c.started_at.desc(), WORKERS.c.id)).all()
    order = {WorkerState.RUNNING: 0, WorkerState.IDLE: 0, WorkerState.LOST: 1, WorkerState.STOPPED: 2}
    workers = [
        WorkerInfo(
            id=row.id, name=row.name, host=row.host, pid=row.pid, version=row.version, started_at=row.started_at,
            heartbeat_at=row.heartbeat_at, stopped_at=row.stopped_at,
            # A dead worker's run is no longer its own: the run shows how it ended.
            current_run_id=row.current_run_id if row.stopped_at is None else None,
            runs_done=row.runs_done, runs_today=row.runs_today if row.runs_today_on == now.date() else 0,
            state=state_of(row, now),
        )
        for row in rows
    ]
    return sorted(workers, key=lambda worker: order[worker.state])


class Registration:
    """This process's row in ``workers``, with the thread that keeps its heartbeat
    fresh: ``heartbeat``, the worker's one heartbeat thread, which also beats the
    run the worker executes (``runs.execute_claimed(heartbeat=...)``).

    Use as a context manager: entering registers, leaving marks the worker stopped.
    """

    def __init__(self, db: Database, name: str | None = None) -> None:
        self.db = db
        self.host = socket.gethostname()
        self.name = name or self.host
        self.id: int | None = None
        self.heartbeat = Heartbeat(db, name="worker heartbeat")

    def __enter__(self) -> Registration:
        now = utcnow()
        w = WORKERS.c
        replaced = sa.and_(w.name == self.name, w.host == self.host,
                           sa.or_(w.stopped_at.is_not(None), w.heartbeat_at < now - LOST_AFTER))
        with self.db.write() as conn:
            conn.execute(sa.delete(WORKERS).where(sa.or_(replaced, w.stopped_at < now - KEEP_STOPPED)))
            self.id = conn.execute(
                sa.insert(WORKERS).values(name=self.name, host=self.host, pid=os.getpid(), version=__version__,
                                          started_at=now, heartbeat_at=now, runs_done=0, runs_today=0)
                .returning(w.id)
            ).scalar_one()
        self.heartbeat.add(f"worker {self.name!r}", self._beat)
        self.heartbeat.start()
        log.info("worker %r registered (id %s)", self.name, self.id)
        return self

    def __exit__(self, *_exc) -> None:
        self.heartbeat.stop()
        self.heartbeat.join()
        self._record(stopped_at=utcnow(), current_run_id=None)  # if the database is away, the row reads as lost

    def running(self, run_id: int) -> None:
        self._record(current_run_id=run_id, heartbeat_at=utcnow())

    def finished(self) -> None:
        """The current run ended (whatever its status): one more run done."""
        now = utcnow()
        w = WORKERS.c
        today = now.date()
        self._record(
            current_run_id=None, heartbeat_at=now, runs_done=w.runs_done + 1,
            runs_today=sa.case((w.runs_today_on == today, w.runs_today + 1), else_=1), runs_today_on=today,
        )

    def _record(self, **values) -> None:
        """Write what the worker does; a failure only makes the record late, never
        stops the run (whose own row and heartbeat are what count)."""
        try:
            self._update(**values)
        except sa.exc.SQLAlchemyError as exc:
            log.warning("worker %r could not record %s: %s", self.name, ", ".join(values), one_line(exc))

    def _update(self, **values) -> None:
        with self.db.write() as conn:
            conn.execute(sa.update(WORKERS).where(WORKERS.c.id == self.id).values(**values))

    def _beat(self, conn) -> None:
        conn.execute(sa.update(WORKERS).where(WORKERS.c.id == self.id).values(heartbeat_at=utcnow()))
