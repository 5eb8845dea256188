"""The run lifecycle (RULES §2): create, claim, execute, cancel, recover.

A run moves ``scheduled`` → ``in_progress`` → ``completed`` | ``error`` |
``canceled`` (or ``scheduled`` → ``canceled`` / ``not_applicable``). Each stage is
one or more short transactions, and the run's row is updated between them so a
window polling it sees the funnel advance. The enrollment, the expiry and the
run's completion are one transaction: a run in error or canceled has enrolled
nobody, and a run whose process died has enrolled nobody either.

Every write to the run's row is conditional on the run still being
``in_progress``: a run that another client marked ``interrupted`` (its
heartbeat stopped for a while) can never complete afterwards.

Every check reads the data as of one moment, the start of the decision stage
(RULES §3 "Snapshot"): the run's own connection holds one read transaction while
the checks are computed into a temporary table, which is then copied into the
potentials in short transactions; the enrollment meets the present. The run's
Events say which moment it decided on. How, and why so: ``engine.snapshot``
and ``docs/snapshot.md``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from enroller_desktop.db.engine import Database, describe_error
from enroller_desktop.db.enums import EventLevel, RunPurpose, RunStatus, RunStep
from enroller_desktop.db.models import (
    Campaign,
    CampaignExcludedTag,
    Customer,
    EnrollerRun,
    EnrollerRunEvent,
    EnrollerRunQueryParam,
    Organization,
    QueryParam,
)
from enroller_desktop.engine import contacts, criteria, expiry, funnel, sql_time
from enroller_desktop.engine.cancel import CancelToken
from enroller_desktop.engine.retry import with_retries
from enroller_desktop.engine.snapshot import CARRIED, Snapshot
from enroller_desktop.errors import UserError, one_line

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]

RUNS = EnrollerRun.__table__
EVENTS = EnrollerRunEvent.__table__
RUN_PARAMS = EnrollerRunQueryParam.__table__

HEARTBEAT_INTERVAL_S = 5.0
#: A run in progress whose heartbeat is older than this is considered dead (RULES §2).
HEARTBEAT_TIMEOUT = dt.timedelta(seconds=60)
INTERRUPTED = "interrupted"
#: How the event of a Not Applicable run begins; the reason follows.
NOT_APPLICABLE_BECAUSE = "Not applicable: "

COUNT_COLUMNS = ("query_param_customers", "potential_customers", "potential_events", "eligible", "success", "expired")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class RunOutcome:
    """A run as it ended (or as it is): what ``run`` prints."""

    id: int
    status: RunStatus
    step: RunStep
    counts: dict[str, int | None] = field(default_factory=dict)
    error_message: str | None = None

    def as_dict(self) -> dict:
        return {"id": self.id, "status": self.status.value, "step": self.step.value, **self.counts,
                "error_message": self.error_message}


def load_outcome(conn: Connection, run_id: int) -> RunOutcome:
    row = conn.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).one()
    return RunOutcome(
        id=row.id,
        status=RunStatus(row.status),
        step=RunStep(row.step),
        counts={name: row._mapping[name] for name in COUNT_COLUMNS},
        error_message=row.error_message,
    )


# -- creating, claiming, canceling ------------------------------------------------

def create_run(
    db: Database,
    *,
    campaign_id: int,
    purpose: RunPurpose = RunPurpose.DEFAULT,
    customer_id: int | None = None,
    as_of: dt.datetime | None = None,
    scheduled_for: dt.datetime | None = None,
) -> int:
    """Record a ``scheduled`` run and return its id.

    A campaign or customer that does not exist, or a customer given to a purpose
    other than Customer Evaluation, is a bad argument: no run is recorded. A
    customer of another organization is recorded, and the run will be
    ``not_applicable`` (RULES §3, order of outcomes).
    """
    purpose = RunPurpose(purpose)
    with db.write() as conn:
        campaign = conn.execute(sa.select(Campaign.__table__).where(Campaign.id == campaign_id)).one_or_none()
        if campaign is None:
            raise UserError(f"There is no campaign with id {campaign_id}")
        if purpose is RunPurpose.CUSTOMER_EVALUATION:
            if customer_id is None:
                raise UserError("A Customer Evaluation needs a customer (--customer ID)")
            exists = conn.execute(sa.select(Customer.id).where(Customer.id == customer_id)).scalar()
            if exists is None:
                raise UserError(f"There is no customer with id {customer_id}")
        elif customer_id is not None:
            raise UserError(f"A customer is given only to a Customer Evaluation, not to {purpose.label}")
        now = utcnow()
        return conn.execute(
            RUNS.insert()
            .values(
                organization_id=campaign.organization_id,
                campaign_id=campaign_id,
                customer_id=customer_id,
                purpose=purpose,
                status=RunStatus.SCHEDULED,
                step=RunStep.MAIN,
                as_of=as_of,
                created_at=now,
                scheduled_for=scheduled_for or now,
            )
            .returning(RUNS.c.id)
        ).scalar_one()


def claim_values(now: dt.datetime) -> dict:
    """What a claim writes on the run's row, the one definition for every client
    that claims (a window, ``run``, a worker): in progress from ``now``, and a run
    without an as-of time takes ``now``."""
    return {
        "status": RunStatus.IN_PROGRESS,
        "in_progress_at": now,
        "heartbeat_at": now,
        "as_of": sa.func.coalesce(RUNS.c.as_of, sql_time.time_literal(now)),
    }


def claim(db: Database, run_id: int) -> bool:
    """Move a scheduled run to in progress, atomically: of several clients asking
    at once, exactly one gets it."""
    with db.write() as conn:
        result = conn.execute(
            sa.update(RUNS)
            .where(RUNS.c.id == run_id, RUNS.c.status == RunStatus.SCHEDULED.value)
            .values(**claim_values(utcnow()))
        )
        return result.rowcount == 1


def cancel_run(db: Database, run_id: int) -> RunStatus:
    """Cancel a scheduled run at once; ask an in-progress one to stop (the process
    executing it cancels at its next statement). Returns the status it now has."""
    now = utcnow()
    with db.write() as conn:
        status = conn.execute(sa.select(RUNS.c.status).where(RUNS.c.id == run_id)).scalar()
        if status is None:
            raise UserError(f"There is no run with id {run_id}")
        status = RunStatus(status)
        if status is RunStatus.SCHEDULED:
            conn.execute(
                sa.update(RUNS)
                .where(RUNS.c.id == run_id, RUNS.c.status == RunStatus.SCHEDULED.value)
                .values(status=RunStatus.CANCELED, completed_at=now, cancel_requested_at=now)
            )
            _event(conn, run_id, RunStep.MAIN, EventLevel.INFO, "Canceled by a user before it started")
            return RunStatus.CANCELED
        if status is RunStatus.IN_PROGRESS:
            # Conditional: on PostgreSQL the run may finish while this waits for its
            # row, and the user must then hear that it finished, not that it will stop.
            asked = conn.execute(
                sa.update(RUNS)
                .where(RUNS.c.id == run_id, RUNS.c.status == RunStatus.IN_PROGRESS.value)
                .values(cancel_requested_at=now)
            ).rowcount
            if asked:
                return RunStatus.IN_PROGRESS
            status = RunStatus(conn.execute(sa.select(RUNS.c.status).where(RUNS.c.id == run_id)).scalar_one())
    raise UserError(f"Run {run_id} is {status.label.lower()}: only a scheduled or in-progress run can be canceled")


def status_of(db: Database, run_id: int) -> RunStatus:
    with db.read() as conn:
        status = conn.execute(sa.select(RUNS.c.status).where(RUNS.c.id == run_id)).scalar()
    if status is None:
        raise UserError(f"There is no run with id {run_id}")
    return RunStatus(status)


def recover_interrupted(db: Database, *, now: dt.datetime | None = None) -> list[int]:
    """Runs left in progress by a process that died (no heartbeat for 60 s) become
    ``error`` "interrupted". Returns their ids."""
    now = now or utcnow()
    stale = sa.func.coalesce(RUNS.c.heartbeat_at, RUNS.c.in_progress_at, RUNS.c.created_at) < sql_time.time_literal(now - HEARTBEAT_TIMEOUT)
    with db.write() as conn:
        interrupted = conn.execute(
            sa.update(RUNS)
            .where(RUNS.c.status == RunStatus.IN_PROGRESS.value, stale)
            .values(status=RunStatus.ERROR, error_message=INTERRUPTED, completed_at=now)
            .returning(RUNS.c.id, RUNS.c.step)
        ).all()
        ids = [run.id for run in interrupted]
        # Set-based, a few hundred runs a statement: after a long outage there may
        # be thousands, and a statement per run would hold the window's interpreter.
        for start in range(0, len(ids), _IDS_PER_STATEMENT):
            chunk = interrupted[start : start + _IDS_PER_STATEMENT]
            funnel.fail_eligible(conn, [run.id for run in chunk if run.step == RunStep.CAMPAIGN_CUSTOMERS])
            _close_params(conn, [run.id for run in chunk], RunStatus.ERROR, now)
        if ids:
            conn.execute(EVENTS.insert(), [
                {"run_id": run_id, "stage": RunStep.MAIN, "level": EventLevel.ERROR, "created_at": now,
                 "message": "Interrupted: the process executing this run stopped (no heartbeat for 60 seconds). "
                            "Nothing was enrolled."}
                for run_id in ids
            ])
    if ids:
        log.warning("runs marked interrupted: %s", ids)
    return list(ids)


def execute_run(
    db: Database,
    run_id: int,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RunOutcome:
    """Claim the scheduled run ``run_id`` and execute it to its end."""
    if not claim(db, run_id):
        raise UserError(f"Run {run_id} is {status_of(db, run_id).label.lower()}, not scheduled: it cannot be executed")
    return execute_claimed(db, run_id, progress=progress, cancel=cancel)


def execute_claimed(db: Database, run_id: int, *, progress=None, cancel=None,
                    heartbeat: Heartbeat | None = None) -> RunOutcome:
    """Execute the claimed run ``run_id``. Its heartbeat is given by ``heartbeat``,
    the process's heartbeat thread when it has one (a worker's), else by a thread
    of the run's own."""
    return _Execution(db, run_id, progress, cancel or CancelToken(), heartbeat).execute()


# -- helpers shared by the lifecycle ----------------------------------------------

def _event(conn: Connection, run_id: int, stage: RunStep, level: EventLevel, message: str,
           row_count: int | None = None, duration_ms: float | None = None) -> None:
    conn.execute(EVENTS.insert().values(run_id=run_id, stage=stage, level=level, message=message,
                                        row_count=row_count, created_at=utcnow(), duration_ms=duration_ms))


#: Run ids per IN list (SQLite allows 32,766 bound values in a statement).
_IDS_PER_STATEMENT = 500


def _close_params(conn: Connection, run_ids: list[int], status: RunStatus, now: dt.datetime) -> None:
    """Query params not finished when their runs end take the runs' ending."""
    if not run_ids:
        return
    conn.execute(
        sa.update(RUN_PARAMS)
        .where(RUN_PARAMS.c.run_id.in_(run_ids),
               RUN_PARAMS.c.status.in_([RunStatus.SCHEDULED.value, RunStatus.IN_PROGRESS.value]))
        .values(status=status, completed_at=now)
    )


class _Canceled(Exception):
    pass


class _Lost(Exception):
    """The run is no longer ours: another client marked it finished."""


class _Failed(Exception):
    """The run stops in error with a message for the user."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail or message


@dataclass
class _Param:
    id: int
    name: str
    process_order: int
    node: object
    event_key: str | None
    run_param_id: int | None = None


class Heartbeat(threading.Thread):
    """The one thread of a process that keeps its heartbeats fresh: the run it
    executes (:class:`RunBeat`) and, in a worker, the worker's own row
    (``worker_registry.Registration``). One thread, so one connection at a time.

    Every ``HEARTBEAT_INTERVAL_S`` it borrows a pooled connection, gives each beat
    its own short write transaction on it, and gives it back. A worker's pool holds
    one connection (``worker.worker_database``), shared by this thread and the
    worker's short writes; the run's own connection (``engine.snapshot``) is the
    other: two at most. The pooled one is free whenever a beat falls during the
    run's long work, because that work runs on the run's connection: the candidate
    INSERTs, the copy into the potentials, the funnel's counts, the enrollment. On
    SQLite the long INSERTs write only the run's temporary tables (no lock on the
    database) and the copy goes by 100,000 rows, so the beat's write gets the lock
    between them, as before.
    """

    def __init__(self, db: Database, name: str = "heartbeat") -> None:
        super().__init__(name=name, daemon=True)
        self._db = db
        self._beats: dict[str, Callable[[Connection], None]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def add(self, name: str, beat: Callable[[Connection], None]) -> None:
        """Beat ``beat`` (one short statement or two on the connection given) from now on."""
        with self._lock:
            self._beats[name] = beat

    def remove(self, name: str) -> None:
        with self._lock:
            self._beats.pop(name, None)

    def run(self) -> None:
        while not self._stopping.wait(HEARTBEAT_INTERVAL_S):
            self.beat()

    def beat(self) -> None:
        """One beat of each; a missed beat is not fatal, the next one may pass."""
        with self._lock:
            beats = list(self._beats.items())
        if not beats:
            return
        try:
            with self._db.engine.connect() as conn:
                for name, beat in beats:
                    try:
                        with self._db.write_on(conn):
                            beat(conn)
                    except sa.exc.SQLAlchemyError as exc:
                        log.warning("heartbeat of %s missed: %s", name, one_line(exc))
                        if conn.invalidated:
                            return
        except sa.exc.SQLAlchemyError as exc:  # no connection to be had (the database away, the pool busy)
            log.warning("heartbeat of %s missed: %s", ", ".join(name for name, _ in beats), one_line(exc))

    def stop(self) -> None:
        self._stopping.set()


class RunBeat:
    """A run's beat: keeps ``heartbeat_at`` fresh and picks up a cancel asked by another process."""

    def __init__(self, db: Database, run_id: int, token: CancelToken) -> None:
        self._db, self._run_id, self._token = db, run_id, token
        self.name = f"run {run_id}"

    def __call__(self, conn: Connection) -> None:
        """Refresh ``heartbeat_at`` unless the run's row is locked.

        The run's own enrolling transaction holds that row (on PostgreSQL for
        half a minute at a million candidates): waiting for it would only end in
        a lock timeout and a warning, and a run holding its row is alive anyway.
        So the row is taken with SKIP LOCKED (SQLite has one writer and no row
        locks: there the write simply waits its turn).
        """
        unlocked = (
            sa.select(RUNS.c.id)
            .where(RUNS.c.id == self._run_id, RUNS.c.status == RunStatus.IN_PROGRESS.value)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        requested = conn.execute(
            sa.update(RUNS)
            .where(RUNS.c.id == unlocked)
            .values(heartbeat_at=utcnow())
            .returning(RUNS.c.cancel_requested_at)
        ).first()
        if requested is not None and requested.cancel_requested_at is not None:
            self._token.cancel()

    def beat(self) -> None:
        """One beat now, as the heartbeat thread gives it."""
        heartbeat = Heartbeat(self._db)
        heartbeat.add(self.name, self)
        heartbeat.beat()


class _Execution:
    """One run being executed, stage by stage."""

    def __init__(self, db: Database, run_id: int, progress: ProgressCallback | None, token: CancelToken,
                 heartbeat: Heartbeat | None = None) -> None:
        self.db = db
        self._heartbeat = heartbeat
        self.run_id = run_id
        self.token = token
        self._progress = progress
        self.step = RunStep.MAIN
        self.ctx: funnel.FunnelContext | None = None
        self.snapshot: Snapshot | None = None

    # -- plumbing

    def progress(self, fraction: float, message: str) -> None:
        if self._progress is not None:
            self._progress(min(max(fraction, 0.0), 1.0), message)

    def checkpoint(self) -> None:
        if self.token.cancelled:
            raise _Canceled()

    def write(self, work: Callable[[Connection], object], *, on_attempt=None):
        """``work`` in one write transaction, retried when the failure is transient."""
        def attempt():
            with self.db.write() as conn:
                return work(conn)
        return with_retries(attempt, on_attempt=on_attempt)

    def update_run(self, conn: Connection, **values) -> None:
        row = conn.execute(
            sa.update(RUNS).where(RUNS.c.id == self.run_id, RUNS.c.status == RunStatus.IN_PROGRESS.value).values(**values)
            .returning(RUNS.c.cancel_requested_at)
        ).first()
        if row is None:
            raise _Lost()
        # A cancel asked from another connection since the last heartbeat counts
        # too: a run canceled before its enrollment commit enrolls nobody (RULES §2).
        if row.cancel_requested_at is not None:
            self.token.cancel()

    def enter(self, step: RunStep, fraction: float, message: str) -> float:
        self.checkpoint()
        self.step = step
        self.write(lambda conn: self.update_run(conn, step=step))
        self.progress(fraction, message)
        return time.perf_counter()

    def log_event(self, started: float, message: str, row_count: int | None = None, conn: Connection | None = None) -> None:
        duration = (time.perf_counter() - started) * 1000
        if conn is not None:
            _event(conn, self.run_id, self.step, EventLevel.INFO, message, row_count, duration)
        else:
            self.write(lambda c: _event(c, self.run_id, self.step, EventLevel.INFO, message, row_count, duration))

    def finish(self, conn: Connection, status: RunStatus, **values) -> None:
        now = utcnow()
        self.update_run(conn, status=status, step=self.step, completed_at=now, heartbeat_at=now, **values)
        if status is RunStatus.COMPLETED:
            self.checkpoint()  # a cancel that came first rolls back the completion and what it wrote
        _close_params(conn, [self.run_id], status, now)

    # -- the run

    def execute(self) -> RunOutcome:
        beat = RunBeat(self.db, self.run_id, self.token)
        heartbeat = self._heartbeat or Heartbeat(self.db, name=f"heartbeat-{self.run_id}")
        heartbeat.add(beat.name, beat)
        if heartbeat is not self._heartbeat:
            heartbeat.start()
        try:
            self._execute()
        except _Canceled:
            self._end_canceled()
        except _Lost:
            log.warning("run %s was finished by another client while executing", self.run_id)
        except _Failed as failure:
            self._end_in_error(str(failure), failure.detail)
        except Exception as exc:  # noqa: BLE001 - any crash ends the run in error, with its cause
            log.exception("run %s failed", self.run_id)
            self._end_in_error(self._words_for(exc), describe_error(exc, self.db.url))
        finally:
            heartbeat.remove(beat.name)
            if heartbeat is not self._heartbeat:
                heartbeat.stop()
            if self.snapshot is not None:
                self.snapshot.close()
        with self.db.read() as conn:
            return load_outcome(conn, self.run_id)

    def _words_for(self, exc: Exception) -> str:
        step = self.step.label
        if isinstance(exc, sa.exc.OperationalError):
            return f"The database stopped answering during {step}; nothing was enrolled. Try the run again."
        if isinstance(exc, sa.exc.DBAPIError):
            return f"The database refused a statement during {step}; nothing was enrolled: {describe_error(exc, self.db.url)}"
        return f"Unexpected failure during {step}; nothing was enrolled: {type(exc).__name__}: {exc}".splitlines()[0]

    def _end_in_error(self, message: str, detail: str) -> None:
        def work(conn):
            _event(conn, self.run_id, self.step, EventLevel.ERROR, detail)
            self.finish(conn, RunStatus.ERROR, error_message=message)
            if self.step is RunStep.CAMPAIGN_CUSTOMERS:
                funnel.fail_eligible(conn, [self.run_id])
        try:
            self.write(work)
        except _Lost:
            pass
        except sa.exc.SQLAlchemyError:
            log.exception("run %s: could not record its error; it will be marked interrupted", self.run_id)

    def _end_canceled(self) -> None:
        def work(conn):
            _event(conn, self.run_id, self.step, EventLevel.WARNING, "Canceled by a user; nothing was enrolled")
            self.finish(conn, RunStatus.CANCELED)
        try:
            self.write(work)
        except _Lost:
            pass

    def _execute(self) -> None:
        started = self.enter(RunStep.MAIN, 0.0, "Checking the campaign")
        with self.db.read() as conn:
            run = conn.execute(sa.select(RUNS).where(RUNS.c.id == self.run_id)).one()
            campaign = conn.execute(sa.select(Campaign.__table__).where(Campaign.id == run.campaign_id)).one()
            country = conn.execute(
                sa.select(Organization.country).where(Organization.id == campaign.organization_id)
            ).scalar_one()
            params = conn.execute(
                sa.select(QueryParam.__table__)
                .where(QueryParam.campaign_id == campaign.id, QueryParam.active == sa.true())
                .order_by(QueryParam.process_order, QueryParam.id)
            ).all()
            customer_org = None
            if run.customer_id is not None:
                customer_org = conn.execute(
                    sa.select(Customer.organization_id).where(Customer.id == run.customer_id)
                ).scalar()
            has_excluded_tags = conn.execute(
                sa.select(sa.exists().where(CampaignExcludedTag.campaign_id == campaign.id))
            ).scalar()
        self.purpose = purpose = RunPurpose(run.purpose)
        as_of: dt.datetime = run.as_of
        self.ctx = funnel.FunnelContext(
            run_id=self.run_id,
            campaign_id=campaign.id,
            organization_id=campaign.organization_id,
            country=(country or "").upper(),
            as_of=as_of,
            customer_id=run.customer_id if purpose is RunPurpose.CUSTOMER_EVALUATION else None,
            uses_email=bool(campaign.uses_email),
            uses_phone=bool(campaign.uses_phone),
            uses_sms=bool(campaign.uses_sms),
            marketing_exclusion_days=campaign.marketing_exclusion_days,
            has_excluded_tags=bool(has_excluded_tags),
            dialect=self.db.dialect,
        )
        as_of_date = self.ctx.as_of_date
        ended = campaign.ends_on is not None and as_of_date > campaign.ends_on
        reason = not_applicable_reason(campaign, params, as_of_date, purpose, run.customer_id, customer_org)
        if reason:
            def end_not_applicable(conn):
                self.log_event(started, f"{NOT_APPLICABLE_BECAUSE}{reason}", conn=conn)
                self.finish(conn, RunStatus.NOT_APPLICABLE)
            self.write(end_not_applicable)
            return
        self.log_event(started, f"{purpose.label} of campaign '{campaign.name}' as of {as_of.isoformat()}")

        if purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE and ended:
            self._expire_only(campaign)
            return

        parsed = self._criterions(params)
        if purpose is RunPurpose.CRITERION_STATS:
            self._criterion_stats(parsed)
            return
        self._candidates(parsed)
        self._verdicts()
        self.snapshot.publish(between=self.checkpoint)
        counts = self._validate()
        if purpose is RunPurpose.CAMPAIGN_SIMULATION:
            def end_simulation(conn):
                self.finish(conn, RunStatus.COMPLETED, success=counts["eligible"])
            self.write(end_simulation)
            self.progress(1.0, "Simulation completed")
            return
        self._enroll(campaign, eligible=counts["eligible"], expire=purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE)

    # -- stages

    def _take_snapshot(self, *, tables: bool = True) -> Snapshot:
        """Fix the moment every check of this run reads (RULES §3 "Snapshot"); the Events say which."""
        started = time.perf_counter()
        self.snapshot = Snapshot(self.db, self.ctx)
        self.log_event(started, self.snapshot.take(tables=tables))
        return self.snapshot

    def _criterions(self, params) -> list[_Param]:
        started = self.enter(RunStep.CRITERIONS, 0.03, "Validating criteria")
        parsed: list[_Param] = []
        for row in params:
            try:
                node = criteria.parse(row.criterion)
                event_key = criteria.validate_event_key(row.event_key)
            except criteria.CriterionError as exc:
                raise _Failed(
                    f"Query param '{row.name}' (id {row.id}) has an invalid criterion: {exc}",
                    f"Query param '{row.name}' (id {row.id}), criterion {row.criterion!r}, event key {row.event_key!r}: {exc}",
                ) from None
            parsed.append(_Param(row.id, row.name, row.process_order, node, event_key))

        def create(conn):
            now = utcnow()
            for param in parsed:
                param.run_param_id = conn.execute(
                    RUN_PARAMS.insert()
                    .values(run_id=self.run_id, query_param_id=param.id, process_order=param.process_order,
                            status=RunStatus.SCHEDULED, query_attempts=0, created_at=now)
                    .returning(RUN_PARAMS.c.id)
                ).scalar_one()
            self.log_event(started, f"{len(parsed)} active query param(s) valid", len(parsed), conn=conn)
        self.write(create)
        return parsed

    def _run_param(self, param: _Param, index: int, total: int, batches: list[Callable[[Connection], int]],
                   run: Callable | None = None) -> int:
        """Evaluate one query param, batch by batch, with its bookkeeping; returns
        its total customers. ``query_attempts`` is 1 plus every retry of a batch."""
        self.checkpoint()
        self.progress(0.05 + 0.5 * index / max(total, 1), f"Query param {index + 1} of {total}: {param.name}")
        retries = 0
        attempts_of_batch = 0

        def count_attempt(n: int) -> None:
            nonlocal attempts_of_batch
            attempts_of_batch = n

        started_at = utcnow()
        self.write(lambda conn: conn.execute(
            sa.update(RUN_PARAMS).where(RUN_PARAMS.c.id == param.run_param_id)
            .values(status=RunStatus.IN_PROGRESS, in_progress_at=started_at)))
        clock = time.perf_counter()
        matched = 0
        try:
            for done, batch in enumerate(batches):
                if done:
                    self.checkpoint()
                    self.progress(0.05 + 0.5 * (index + done / len(batches)) / max(total, 1),
                                  f"Query param {index + 1} of {total}: {param.name} ({done:,} of {len(batches):,} parts)")
                matched += (run or self.write)(batch, on_attempt=count_attempt)
                retries += attempts_of_batch - 1
        except Exception:
            retries += max(attempts_of_batch - 1, 0)
            self.write(lambda conn: conn.execute(
                sa.update(RUN_PARAMS).where(RUN_PARAMS.c.id == param.run_param_id)
                .values(status=RunStatus.ERROR, query_attempts=1 + retries, completed_at=utcnow())))
            raise
        duration_ms = (time.perf_counter() - clock) * 1000
        self.write(lambda conn: conn.execute(
            sa.update(RUN_PARAMS).where(RUN_PARAMS.c.id == param.run_param_id)
            .values(status=RunStatus.COMPLETED, total_customers=matched, query_attempts=1 + retries,
                    average_potential_duration_ms=duration_ms / matched if matched else None,
                    completed_at=utcnow())))
        return matched

    def _criterion_stats(self, params: list[_Param]) -> None:
        started = time.perf_counter()
        ctx = self.ctx
        snap = self._take_snapshot(tables=False)
        for index, param in enumerate(params):
            condition = funnel.compile_param(ctx, param.node)
            self._run_param(param, index, len(params), [lambda conn, c=condition: funnel.count_matches(conn, ctx, c)],
                            run=snap.read)
        self.checkpoint()
        conditions = [funnel.compile_param(ctx, p.node) for p in params]
        distinct = snap.read(lambda conn: funnel.count_any_match(conn, ctx, conditions))
        snap.release()

        def end(conn):
            self.log_event(started, f"{distinct:,} distinct candidates matched", distinct, conn=conn)
            self.finish(conn, RunStatus.COMPLETED, query_param_customers=distinct)
        self.write(end)
        self.progress(1.0, "Criterion stats completed")

    def _candidates(self, params: list[_Param]) -> None:
        started = time.perf_counter()
        ctx = self.ctx
        validated_at = utcnow()
        snap = self._take_snapshot()
        table = snap.candidates
        id_ranges = snap.read(lambda conn: funnel.customer_batches(conn, ctx))
        for index, param in enumerate(params):
            first = index == 0

            def insert(conn, ids, param=param, first=first):
                return funnel.insert_candidates(
                    conn, ctx, query_param_id=param.id, node=param.node,
                    event_key_field=param.event_key, first=first, validated_at=validated_at, ids=ids,
                    into=table, carry=CARRIED)

            batches = [lambda conn, ids=ids, insert=insert: insert(conn, ids) for ids in id_ranges]
            if not first:
                batches.append(lambda conn, param=param: funnel.count_credited_matches(
                    conn, ctx, query_param_id=param.id, node=param.node, potentials=table))
            self._run_param(param, index, len(params), batches, run=snap.read)
            snap.read(lambda conn: funnel.analyze_potentials(conn, ctx, table))
        if self.purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE:
            snap.keep_active_enrollments()
        self.checkpoint()
        total = snap.count_candidates()
        snap.release()

        def end(conn):
            self.update_run(conn, query_param_customers=total)
            self.log_event(started, f"{total:,} candidates from {len(params)} query param(s)", total, conn=conn)
        self.write(end)

    def _verdicts(self) -> None:
        started = self.enter(RunStep.ENROLLER_RUN_CUSTOMERS, 0.6, "Validating contact details")
        ctx = self.ctx
        if not ctx.uses_any_channel:
            self.log_event(started, "The campaign uses no channel: no contact to validate", 0)
            return

        def report(fraction: float, message: str) -> None:
            self.progress(0.6 + 0.2 * fraction, message)

        added = contacts.ensure_verdicts(
            self.db, country=ctx.country, values=self.snapshot.unjudged(), progress=report, cancel=self.token)
        judged_in = time.perf_counter() - started
        self.checkpoint()
        repaired = self.snapshot.repair(utcnow())
        completed_in = time.perf_counter() - started - judged_in
        self.log_event(started, f"{added:,} new contact verdict(s) computed in {judged_in:.1f} s; "
                                f"{repaired:,} potential(s) completed in {completed_in:.1f} s", repaired)

    def _validate(self) -> dict[str, int]:
        started = self.enter(RunStep.CUSTOMER_VALIDATION, 0.82, "Counting the funnel")

        def work(conn):
            counts = funnel.count_stages(conn, self.run_id)
            self.update_run(conn, **counts)
            self.log_event(started, f"{counts['eligible']:,} eligible of {counts['query_param_customers']:,} candidates",
                           counts["eligible"], conn=conn)
            return counts
        # On the run's own connection, as every long statement of the run: the
        # pooled one stays free for the heartbeat (``Heartbeat``).
        return self.snapshot.write(work)

    def _enroll(self, campaign, *, eligible: int, expire: bool) -> None:
        started = self.enter(RunStep.CAMPAIGN_CUSTOMERS, 0.9, "Enrolling")
        ctx = self.ctx

        def work(conn):
            # Take the run's row first: a concurrent "interrupted" or a finished
            # run makes this transaction roll back before it enrolls anyone.
            self.update_run(conn, heartbeat_at=utcnow())
            success = funnel.enroll(conn, ctx)
            funnel.settle_potentials(conn, ctx, enrolled=success, eligible=eligible)
            values = {"success": success}
            message = f"{success:,} enrolled"
            if success < eligible:
                message += (f"; {eligible - success:,} eligible potential(s) in error: another system or run "
                            f"enrolled the same event after the snapshot")
            if expire:
                values["expired"] = expiry.expire(conn, ctx, ends_on=campaign.ends_on,
                                                  expire_after_days=campaign.expire_after_days,
                                                  judged=self.snapshot.enrollments)
                message += f", {values['expired']:,} expired"
            self.checkpoint()
            self.log_event(started, message, success, conn=conn)
            self.finish(conn, RunStatus.COMPLETED, **values)
        # On the run's own connection: expiry reads the snapshot's enrollments there.
        self.snapshot.write(work)
        self.progress(1.0, "Completed")

    def _expire_only(self, campaign) -> None:
        started = self.enter(RunStep.CAMPAIGN_CUSTOMERS, 0.5, "Expiring enrollments")
        ctx = self.ctx

        def work(conn):
            self.update_run(conn, heartbeat_at=utcnow())
            expired = expiry.expire(conn, ctx, ends_on=campaign.ends_on, expire_after_days=campaign.expire_after_days)
            self.checkpoint()
            self.log_event(started, f"Campaign ended {campaign.ends_on.isoformat()}: funnel skipped, {expired:,} expired",
                           expired, conn=conn)
            self.finish(conn, RunStatus.COMPLETED, expired=expired,
                        **{name: 0 for name in COUNT_COLUMNS if name != "expired"})
        self.write(work)
        self.progress(1.0, "Completed")


def foreseen_not_applicable(db: Database, campaign_id: int, purpose: RunPurpose, as_of: dt.datetime,
                            customer_id: int | None = None) -> str | None:
    """Why a run of ``campaign_id`` executed as of ``as_of`` would end Not
    Applicable, as it would say it; None when it would apply. For New Run to warn
    before the run is created: the campaign may still change before it executes."""
    with db.read() as conn:
        campaign = conn.execute(sa.select(Campaign.__table__).where(Campaign.id == campaign_id)).one()
        params = conn.execute(
            sa.select(QueryParam.id).where(QueryParam.campaign_id == campaign_id, QueryParam.active == sa.true()).limit(1)
        ).all()
        customer_org = None
        if customer_id is not None:
            customer_org = conn.execute(sa.select(Customer.organization_id).where(Customer.id == customer_id)).scalar()
    as_of_date = as_of.astimezone(dt.timezone.utc).date()
    return not_applicable_reason(campaign, params, as_of_date, RunPurpose(purpose), customer_id, customer_org)


def not_applicable_reason(campaign, params, as_of_date: dt.date, purpose: RunPurpose,
                           customer_id: int | None, customer_org: int | None) -> str | None:
    """Why a run of ``purpose`` of ``campaign`` (its row) as of ``as_of_date`` cannot
    apply, in the order RULES §2 lists the reasons and in the words its event says
    them; None if it applies. ``params`` are the campaign's active query params (only
    whether there is one counts); ``customer_org`` is the organization of the
    Customer Evaluation's ``customer_id``. The one rule for the engine, New Run's
    warning (:func:`foreseen_not_applicable`) and the preview."""
    if not campaign.active:
        return f"the campaign '{campaign.name}' is inactive"
    if not params:
        return f"the campaign '{campaign.name}' has no active query param"
    if campaign.starts_on is not None and as_of_date < campaign.starts_on:
        return f"the as-of date {as_of_date.isoformat()} is before the campaign starts ({campaign.starts_on.isoformat()})"
    if (campaign.ends_on is not None and as_of_date > campaign.ends_on
            and purpose is not RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE):
        return f"the as-of date {as_of_date.isoformat()} is after the campaign ended ({campaign.ends_on.isoformat()})"
    if purpose is RunPurpose.CUSTOMER_EVALUATION and customer_org != campaign.organization_id:
        return f"customer {customer_id} belongs to another organization than the campaign"
    return None
