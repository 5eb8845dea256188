"""Contact verdicts: the email and phone libraries' judgement on each distinct value.

The Valid Email, Valid Phone and Valid Message checks (RULES §3) need ``email-validator``
and ``phonenumbers``, which judge some 10,000 values a second per core: far too slow
to ask on every run over a million customers. So each distinct value is judged once
(a phone once per organization country), the verdict is stored in our own table
``contact_verdicts``, and a run reads verdicts in SQL. A customer whose email changes
simply has a new value, judged at the next run; old verdicts stay true facts.

Two processes may judge the same new value at the same time; only one stores it.
The database keeps one verdict per (kind, country, value) with a unique index (over
``md5(value)`` on PostgreSQL, whose B-tree refuses long texts), and each chunk is
inserted with ON CONFLICT DO NOTHING, so the funnel may join verdicts to candidates
without ever repeating a candidate. (Asking first which values are stored cost a
scan of the whole table per chunk on a PostgreSQL without fresh statistics:
validation of 166,000 values took 400 s instead of 15.)
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from enroller_desktop import lifeline
from enroller_desktop.db.engine import Database
from enroller_desktop.db.models import ContactVerdict, Customer
from enroller_desktop.engine.contact_rules import EMAIL, MOBILE, PHONE, VALID, email_is_valid, judge_packed, phone_verdict

__all__ = ["email_is_valid", "ensure_verdicts", "phone_verdict", "store_verdicts"]

#: Values judged per task: small enough that a cancel is honoured within a fraction
#: of a second, large enough that handing work to a process costs little.
CHUNK_SIZE = 2_000
#: Below this many values (under a second of work), starting worker processes
#: (0.2 to 0.6 s each, as they import the program's main module) costs more than it saves.
POOL_THRESHOLD = 10_000
#: Above this many new verdicts, PostgreSQL's statistics of the table are refreshed
#: at once, so that the very next run's plan knows how large it has grown.
ANALYZE_THRESHOLD = 10_000

_verdicts = ContactVerdict.__table__
_customers = Customer.__table__

# The run lifecycle (engine.runs) imports this module, so its ProgressCallback and
# CancelToken are described here rather than imported.
ProgressCallback = Callable[[float, str], None]


class Cancellation(Protocol):
    @property
    def cancelled(self) -> bool: ...


def _values_of(kind: str, customer_ids) -> sa.Subquery:
    """Every non-NULL email, or phone and mobile, of the customers in ``customer_ids``."""
    c = _customers.c
    columns = (c.email,) if kind == EMAIL else (c.phone, c.mobile)
    selects = [sa.select(column.label("value")).where(c.id.in_(customer_ids), column.is_not(None)) for column in columns]
    return (selects[0] if len(selects) == 1 else sa.union_all(*selects)).subquery("contact_values")


def _unjudged(kind: str, country: str, customer_ids) -> sa.Select:
    return unjudged_among(kind, country, _values_of(kind, customer_ids))


def unjudged_among(kind: str, country: str, values: sa.Subquery) -> sa.Select:
    """The distinct values of ``values`` (a subquery with a ``value`` column) with
    no stored verdict of ``kind`` for ``country``."""
    v = _verdicts.c
    # Distinct first: a value shared by many customers is looked up once.
    distinct = sa.select(values.c.value).distinct().subquery("distinct_values")
    judged = sa.exists().where(v.value == distinct.c.value, v.kind == kind, v.country == country)
    return sa.select(distinct.c.value).where(~judged)


def _tasks(kind: str, country: str, values: tuple[str, ...]) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    for start in range(0, len(values), CHUNK_SIZE):
        yield kind, country, values[start : start + CHUNK_SIZE]


def ensure_verdicts(
    db: Database,
    *,
    country: str,
    customer_ids=None,
    progress: ProgressCallback | None = None,
    cancel: Cancellation | None = None,
    processes: int | None = None,
    values: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
    store: Callable[[str, str, Sequence[str], bytes], int] | None = None,
) -> int:
    """Judge and store every email, phone and mobile of ``customer_ids`` not judged yet.

    ``customer_ids`` is a Core selectable of customer ids. Or ``values`` gives the
    (emails, phones) to judge, already found by the caller (a run finds them in
    its snapshot of the customers, which this module's connections cannot see:
    see ``engine.snapshot``). Phones are judged for
    ``country``, emails for every country at once. More than ``POOL_THRESHOLD``
    values are spread over ``processes or os.cpu_count()`` worker processes.
    Each chunk's verdicts are committed as soon as they are known, so a cancel
    (polled between chunks) keeps them: they hold whatever the run. Returns how
    many verdicts were added (not counting values another process stored first).

    ``store(kind, country, values, verdicts)`` stores a chunk's packed verdicts
    instead of a committed transaction of its own (the preview stores them with
    :func:`store_verdicts` in the transaction it rolls back).
    """
    # Tuples, not lists: a tuple of strings leaves the garbage collector's care
    # once it has been looked at, whereas every collection walks a list's items.
    # A million values in lists made each full collection (which holds the
    # interpreter, and so the window's thread) take 50 to 130 ms.
    if values is not None:
        emails, phones = values
    else:
        with db.read() as conn:
            emails = tuple(conn.scalars(_unjudged(EMAIL, "", customer_ids)))
            phones = tuple(conn.scalars(_unjudged(PHONE, country, customer_ids)))
    tasks = [*_tasks(EMAIL, "", emails), *_tasks(PHONE, country, phones)]
    total = len(emails) + len(phones)
    workers = min(processes or os.cpu_count() or 1, len(tasks))
    in_pool = total > POOL_THRESHOLD and workers > 1
    added = checked = 0
    if progress and total:
        where = f"in {workers} processes" if in_pool else "in this process"
        progress(0.0, f"Checking {total:,} new email and phone values {where}")
    judged = _judged_in_pool(tasks, workers) if in_pool else ((task, judge_packed(*task)) for task in tasks)
    try:
        for (kind, task_country, values), verdicts in judged:
            added += store(kind, task_country, values, verdicts) if store else _store(db, kind, task_country, values, verdicts)
            checked += len(values)
            if progress:
                progress(checked / total, f"Checked {checked:,} of {total:,} new email and phone values")
            if cancel is not None and cancel.cancelled:
                break
    finally:
        judged.close()
    if added > ANALYZE_THRESHOLD and not db.is_sqlite and store is None:
        with db.write() as conn:
            conn.exec_driver_sql(f"ANALYZE {_verdicts.name}")
    return added


def _judged_in_pool(tasks: list[tuple[str, str, tuple[str, ...]]], workers: int):
    """Yield (task, verdicts) as worker processes finish them, in order.

    Workers are spawned, not forked: the window runs this from a thread, and a fork
    of a threaded process can inherit a lock held by another thread. Closing this
    generator early (a cancel) drops the tasks not yet started.

    Each worker ends with this process, even one killed outright
    (:mod:`enroller_desktop.lifeline`). The pool spawns its workers from the thread
    that submits, this one, which waits for them all before it returns.
    """
    executor = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=lifeline.bind_to_parent, initargs=(os.getpid(),),
    )
    try:
        with lifeline.spawning():  # the pool starts its processes as tasks are submitted
            futures = collections.deque(executor.submit(judge_packed, *task) for task in tasks)
        for task in tasks:
            # Let go of each future once read: kept, they held every verdict to the end.
            yield task, futures.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def worker_processes_answer() -> bool:
    """Whether a spawned worker process starts and judges as this process does:
    the packaged program's smoke test asks, since a frozen program starts its
    workers by running itself again (``multiprocessing.freeze_support``)."""
    task = (EMAIL, "", ("jane.doe@example.com", "not an email"))
    [(_, verdicts)] = list(_judged_in_pool([task], 1))
    return verdicts == judge_packed(*task)


def _store(db: Database, kind: str, country: str, values: Sequence[str], verdicts: bytes) -> int:
    """Insert the (packed) verdicts of ``values`` that no other writer stored first,
    in a transaction of their own; how many."""
    with db.write() as conn:
        return store_verdicts(conn, kind, country, values, verdicts)


def store_verdicts(conn: sa.Connection, kind: str, country: str, values: Sequence[str], verdicts: bytes) -> int:
    """Insert on ``conn`` the (packed) verdicts of ``values`` that no other writer
    stored first; how many."""
    rows = [
        {"kind": kind, "country": country, "value": value, "valid": bool(bits & VALID), "mobile": bool(bits & MOBILE)}
        for value, bits in zip(values, verdicts)
    ]
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(_verdicts)
    # rowcount, not RETURNING: returning ids halves PostgreSQL's insert speed.
    statement = insert.on_conflict_do_nothing().execution_options(preserve_rowcount=True)
    return conn.execute(statement, rows).rowcount
