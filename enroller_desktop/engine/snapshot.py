"""A run decides on one snapshot (RULES §3 "Snapshot"), whatever other systems commit meanwhile.

Every check of a run reads the data as of one moment, the start of its decision
stage (Query Param Customers): campaign customers (Unique Event, Already in
Queue, the marketing buffer), customers and their flags, consent dates, tags,
vehicles, and the criterion of every query param. ``docs/snapshot.md`` tells the
whole story; in short:

- The run keeps one connection of its own (detached from the pool, so that
  nobody else ever uses it). At the start of the decision stage it opens one
  read transaction there — ``REPEATABLE READ, READ ONLY`` on PostgreSQL, a
  deferred ``BEGIN`` on SQLite, whose first read fixes the WAL snapshot — and
  every statement that reads the organization's data runs inside it: the
  candidate INSERT ... SELECT of each query param (each batch of it on SQLite),
  the counts of candidates credited to earlier params, the id ranges of the
  batches, Criterion Stats' counts.
- Those statements write into a TEMPORARY table of that connection (the
  candidates with every check, plus the customer's contact values and their
  opt-out flags, which the channel checks need later). A temporary table is the
  one thing a snapshot transaction may write: PostgreSQL allows it in a READ ONLY
  transaction, and on SQLite writing the temp database takes no lock on the main
  database, so the run's heartbeat and every other writer go on as before. A
  transaction that wrote the potentials table itself could not keep an old
  snapshot on SQLite (a writer must see the latest data), and on PostgreSQL the
  run's own rows committed by earlier transactions would be invisible to later
  ones sharing an exported snapshot (the second query param must see the
  first's candidates).
- The snapshot ends (COMMIT) once every check is computed. Contact verdicts are
  then judged and stored as before (they are facts about a value, not about a
  moment), and the checks that awaited a verdict are completed from the values
  carried in the temporary table — the customer's values as of the snapshot.
- The candidates are then copied into ``enroller_run_customers`` in short write
  transactions (100,000 rows each on SQLite, one statement on PostgreSQL).
- Enrollment meets the present: the INSERT skips an event whose key another
  system or run committed after the snapshot (the unique index), and that
  potential ends ``error`` (``funnel.settle_potentials``); nothing is doubled.
- Expiry (Campaign Evaluation and Expire) writes the enrollments as they are
  now, but only those that were active at the snapshot: the run judged those and
  only those. Their ids are kept in a second temporary table, and the enrolling
  transaction (expiry included) runs on the run's own connection to read it.
  An enrollment committed after the snapshot is left for the next run.

Memory stays as it was: the temporary tables live in SQLite's temp file
(``temp_store`` default) and in PostgreSQL's temporary files beyond
``temp_buffers``, never in the interpreter.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import CampaignCustomerStatus
from enroller_desktop.engine import consent, contacts, funnel
from enroller_desktop.engine.contact_rules import EMAIL, PHONE
from enroller_desktop.engine.retry import with_retries
from enroller_desktop.errors import one_line

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The customer's columns a candidate carries in the snapshot table: what the
#: channel checks read once the missing contact verdicts exist.
CARRIED = ("email", "phone", "mobile", "email_opt_out", "do_not_call", "sms_opt_out")
#: Rows per copy into the potentials on SQLite (each copy holds the write lock).
SQLITE_COPY_BATCH = 100_000


@functools.cache
def candidate_tables() -> tuple[sa.Table, sa.Table]:
    """The temporary tables of a run: its candidates, and the enrollments that
    were active at its snapshot. Built from the potentials' columns, so a column
    added to the potentials is carried along.

    Built once per process and shared by every run (each run's connection
    creates its own TEMPORARY tables from them): SQLAlchemy keys its compiled
    statements by the very ``Table`` object, so a new one per run made every
    statement over the candidates — the candidate INSERT with every check above
    all — compile anew, half of a run's fixed cost."""
    metadata = sa.MetaData()
    columns = [sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)]
    columns += [sa.Column(c.name, c.type) for c in funnel.POTENTIALS.c if c.name != "id"]
    columns += [sa.Column(name, funnel.CUSTOMERS.c[name].type) for name in CARRIED]
    candidates = sa.Table("run_snapshot_candidates", metadata, *columns, prefixes=["TEMPORARY"])
    sa.Index("ix_run_snapshot_candidates_customer", candidates.c.customer_id)
    enrollments = sa.Table("run_snapshot_enrollments", metadata,
                           sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                                     autoincrement=False),
                           prefixes=["TEMPORARY"])
    return candidates, enrollments


def published_columns(candidates: sa.Table, dialect: str) -> dict[str, sa.ColumnElement]:
    """The potentials' columns (all but the id) as copied from ``candidates``: each
    as it is, but the consent columns, worked out from what the candidate
    recorded (``consent.Standing.recorded_columns``, ``consent.published``)."""
    t = candidates.c
    columns = {c.name: t[c.name] for c in funnel.POTENTIALS.c if c.name != "id"}
    columns.update(consent.published(t.consent_basis, t.consent_evidence_at, dialect))
    return columns


def describe_moment(moment: dt.datetime) -> str:
    """'2026-12-04 15:20:01.123 UTC'."""
    utc = moment.astimezone(dt.timezone.utc)
    return f"{utc:%Y-%m-%d %H:%M:%S}.{utc.microsecond // 1000:03d} UTC"


class Snapshot:
    """One run's snapshot and the connection that holds it (see the module's text)."""

    def __init__(self, db: Database, ctx: funnel.FunnelContext) -> None:
        self.db = db
        self.ctx = ctx
        self.candidates, self.enrollments = candidate_tables()
        #: When the snapshot was taken: everything committed before it is seen.
        self.moment: dt.datetime | None = None
        #: Which snapshot, in the database's words.
        self.identity = ""
        self._conn = db.engine.connect()
        # Its temporary tables die with it, and it is never handed to anyone else.
        self._conn.detach()
        self._snapshot: sa.engine.Transaction | None = None

    # -- the snapshot

    def take(self, *, tables: bool = True) -> str:
        """Open the snapshot transaction; returns the sentence the run's Events say."""
        conn = self._conn
        if tables:
            with conn.begin():
                self.candidates.metadata.create_all(conn)
        self._snapshot = conn.begin()
        if self.db.dialect == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        # Taken just before the statement that fixes the snapshot: everything
        # committed before this moment is in it.
        self.moment = dt.datetime.now(dt.timezone.utc)
        if self.db.dialect == "postgresql":
            self.identity = "PostgreSQL snapshot " + conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar_one()
        else:
            # The first read of the main database fixes the WAL snapshot of the transaction.
            conn.exec_driver_sql("SELECT count(*) FROM main.sqlite_master").scalar_one()
            self.identity = "one SQLite read transaction"
        return f"Decided on the data as of {describe_moment(self.moment)} ({self.identity})"

    def read(self, work: Callable[[Connection], T], *, on_attempt: Callable[[int], None] | None = None) -> T:
        """``work`` inside the snapshot, under a savepoint: a transient failure (a
        lock waited for too long, RULES §3 "Locks") rolls back to it and the work is
        retried on the same snapshot, which a savepoint keeps."""
        if self._snapshot is None:
            raise RuntimeError("the run's snapshot is not open")

        def attempt():
            with self._conn.begin_nested():
                return work(self._conn)
        return with_retries(attempt, on_attempt=on_attempt)

    def keep_active_enrollments(self) -> None:
        """Remember the campaign's enrollments active at the snapshot (what expiry may act on)."""
        cc = funnel.ENROLLMENTS
        active = sa.select(cc.c.id).where(
            cc.c.campaign_id == self.ctx.campaign_id,
            cc.c.expired_at.is_(None),
            cc.c.status != CampaignCustomerStatus.COMPLETED.value,
        )
        self.read(lambda conn: conn.execute(self.enrollments.insert().from_select(["id"], active)))

    def count_candidates(self) -> int:
        return self.read(lambda conn: conn.execute(sa.select(sa.func.count()).select_from(self.candidates)).scalar_one())

    def release(self) -> None:
        """End the snapshot: every check has read what it needed."""
        if self._snapshot is not None:
            self._snapshot.commit()
            self._snapshot = None

    # -- after the snapshot

    def local(self, work: Callable[[Connection], T]) -> T:
        """``work`` in a transaction that writes only the temporary tables (on
        SQLite it takes no lock on the main database)."""
        with self._conn.begin():
            return work(self._conn)

    def write(self, work: Callable[[Connection], T], *, on_attempt: Callable[[int], None] | None = None) -> T:
        """``work`` in a write transaction of the run's connection, retried when
        the failure is transient (its temporary tables are kept meanwhile)."""
        def attempt():
            with self.db.write_on(self._conn) as conn:
                return work(conn)
        return with_retries(attempt, on_attempt=on_attempt)

    def unjudged(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The (emails, phones) of candidates awaiting a verdict, as of the
        snapshot, that have no stored verdict now."""
        emails, phones = funnel.values_awaiting_verdicts(self.ctx, self.candidates)
        return self.local(lambda conn: (tuple(conn.scalars(contacts.unjudged_among(EMAIL, "", emails))),
                                        tuple(conn.scalars(contacts.unjudged_among(PHONE, self.ctx.country, phones)))))

    def repair(self, validated_at: dt.datetime) -> int:
        """Complete the channel checks that awaited a verdict (now stored)."""
        return self.local(lambda conn: funnel.repair_channel_checks(conn, self.ctx, validated_at, self.candidates))

    def publish(self, between: Callable[[], None] = lambda: None) -> int:
        """Copy the candidates into the potentials, in their order, in short write
        transactions (``between`` is called before each but the first); how many."""
        t = self.candidates
        columns = published_columns(t, self.db.dialect)
        low, high = self.local(lambda conn: conn.execute(sa.select(sa.func.min(t.c.id), sa.func.max(t.c.id))).one())
        if low is None:
            return 0
        step = SQLITE_COPY_BATCH if self.db.dialect == "sqlite" else high - low + 1
        copied = 0
        for start in range(low, high + 1, step):
            if start != low:
                between()
            rows = sa.select(*columns.values()).where(t.c.id.between(start, start + step - 1)).order_by(t.c.id)
            statement = funnel.POTENTIALS.insert().from_select(list(columns), rows).execution_options(preserve_rowcount=True)
            copied += self.write(lambda conn, statement=statement: conn.execute(statement).rowcount)
        self.write(lambda conn: funnel.analyze_potentials(conn, self.ctx))
        return copied

    def close(self) -> None:
        try:
            self._conn.close()  # rolls back what is open; its temporary tables go with it
        except sa.exc.SQLAlchemyError as exc:
            log.warning("the run's snapshot connection did not close cleanly: %s", one_line(exc))
