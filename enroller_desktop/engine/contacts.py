"""Contact verdicts: the email and phone libraries' judgement on each distinct value.

The Valid Email, Valid Phone and Valid Message checks (SPEC 3) need ``email-validator``
and ``phonenumbers``, which judge some 10,000 values a second per core: far too slow
to ask on every run over a million customers. So each distinct value is judged once
(a phone once per organization country), the verdict is stored in our own table
``contact_verdicts``, and a run reads verdicts in SQL. A customer whose email changes
simply has a new value, judged at the next run; old verdicts stay true facts.

Two processes may judge the same new value at the same time and both store it. We
let them: PostgreSQL cannot enforce uniqueness over texts of any length (its B-tree
refuses long values, its hash indexes cannot be unique), and a verdict is a pure
function of (kind, country, value), so the two rows are identical and every lookup
here asks only whether a passing row *exists*.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import email_validator
import phonenumbers
import sqlalchemy as sa
from phonenumbers import PhoneNumberType
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db.engine import Database
from enroller_desktop.db.models import ContactVerdict, Customer

EMAIL = "email"
PHONE = "phone"

#: Values judged per task: small enough that a cancel is honoured within a fraction
#: of a second, large enough that handing work to a process costs little.
CHUNK_SIZE = 2_000
#: Below this many values, starting worker processes costs more than it saves.
POOL_THRESHOLD = 5_000

_MESSAGE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_verdicts = ContactVerdict.__table__
_customers = Customer.__table__

ProgressCallback = Callable[[float, str], None]


class Cancellation(Protocol):
    @property
    def cancelled(self) -> bool: ...


def email_is_valid(value: str) -> bool:
    """SPEC 3 Valid Email, on the value as stored (not trimmed), without DNS.

    The library answers a bad address with ``EmailNotValidError``; any other
    exception on a hostile value is a failed address too, never a crash of the run.
    """
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except Exception:  # noqa: BLE001 - whatever the library cannot judge is not a valid address
        return False
    return True


def phone_verdict(value: str, country: str) -> tuple[bool, bool]:
    """(valid, mobile) of ``value`` for the organization's ``country`` (SPEC 3 Phone).

    ``mobile`` is true only for a valid number of type MOBILE or FIXED_LINE_OR_MOBILE
    (in Canada and the United States every ordinary number is the latter). A value
    the library cannot parse fails both.
    """
    try:
        number = phonenumbers.parse(value, country)
        if not phonenumbers.is_valid_number_for_region(number, country):
            return False, False
        return True, phonenumbers.number_type(number) in _MESSAGE_TYPES
    except Exception:  # noqa: BLE001 - NumberParseException, or worse on a hostile value
        return False, False


def _judge(kind: str, country: str, values: Sequence[str]) -> list[tuple[bool, bool]]:
    """The (valid, mobile) verdicts of ``values``, in order (run in worker processes too)."""
    if kind == EMAIL:
        return [(email_is_valid(value), False) for value in values]
    return [phone_verdict(value, country) for value in values]


def _values_of(kind: str, customer_ids) -> sa.Subquery:
    """Every non-NULL email, or phone and mobile, of the customers in ``customer_ids``."""
    c = _customers.c
    columns = (c.email,) if kind == EMAIL else (c.phone, c.mobile)
    selects = [sa.select(column.label("value")).where(c.id.in_(customer_ids), column.is_not(None)) for column in columns]
    return (selects[0] if len(selects) == 1 else sa.union_all(*selects)).subquery("contact_values")


def _unjudged(kind: str, country: str, customer_ids) -> sa.Select:
    values = _values_of(kind, customer_ids)
    v = _verdicts.c
    judged = sa.exists().where(v.value == values.c.value, v.kind == kind, v.country == country)
    return sa.select(values.c.value).distinct().where(~judged)


def _tasks(kind: str, country: str, values: list[str]) -> Iterator[tuple[str, str, list[str]]]:
    for start in range(0, len(values), CHUNK_SIZE):
        yield kind, country, values[start : start + CHUNK_SIZE]


def ensure_verdicts(
    db: Database,
    *,
    country: str,
    customer_ids,
    progress: ProgressCallback | None = None,
    cancel: Cancellation | None = None,
    processes: int | None = None,
) -> int:
    """Judge and store every email, phone and mobile of ``customer_ids`` not judged yet.

    ``customer_ids`` is a Core selectable of customer ids. Phones are judged for
    ``country``, emails for every country at once. More than ``POOL_THRESHOLD``
    values are spread over ``processes or os.cpu_count()`` worker processes.
    Each chunk's verdicts are committed as soon as they are known, so a cancel
    (polled between chunks) keeps them: they hold whatever the run. Returns how
    many verdicts were added.
    """
    with db.read() as conn:
        emails = list(conn.scalars(_unjudged(EMAIL, "", customer_ids)))
        phones = list(conn.scalars(_unjudged(PHONE, country, customer_ids)))
    tasks = [*_tasks(EMAIL, "", emails), *_tasks(PHONE, country, phones)]
    total = len(emails) + len(phones)
    workers = min(processes or os.cpu_count() or 1, len(tasks))
    in_pool = total > POOL_THRESHOLD and workers > 1
    added = 0
    if progress and total:
        where = f"in {workers} processes" if in_pool else "in this process"
        progress(0.0, f"Checking {total:,} new email and phone values {where}")
    judged = _judged_in_pool(tasks, workers) if in_pool else ((task, _judge(*task)) for task in tasks)
    try:
        for (kind, task_country, values), verdicts in judged:
            _store(db, kind, task_country, values, verdicts)
            added += len(values)
            if progress:
                progress(added / total, f"Checked {added:,} of {total:,} new email and phone values")
            if cancel is not None and cancel.cancelled:
                break
    finally:
        judged.close()
    return added


def _judged_in_pool(tasks: list[tuple[str, str, list[str]]], workers: int):
    """Yield (task, verdicts) as worker processes finish them, in order.

    Workers are spawned, not forked: the window runs this from a thread, and a fork
    of a threaded process can inherit a lock held by another thread. Closing this
    generator early (a cancel) drops the tasks not yet started.
    """
    executor = concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = [executor.submit(_judge, *task) for task in tasks]
        for task, future in zip(tasks, futures):
            yield task, future.result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _store(db: Database, kind: str, country: str, values: Sequence[str], verdicts: Sequence[tuple[bool, bool]]) -> None:
    rows = [
        {"kind": kind, "country": country, "value": value, "valid": valid, "mobile": mobile}
        for value, (valid, mobile) in zip(values, verdicts)
    ]
    with db.write() as conn:
        conn.execute(sa.insert(_verdicts), rows)


def _has_verdict(kind: str, country: str, value: ColumnElement, customer, *, mobile: bool = False) -> ColumnElement[bool]:
    """A passing verdict exists for ``value`` (a column of ``customer``): one hash-index probe."""
    v = _verdicts.alias()
    conditions = [v.c.value == value, v.c.kind == kind, v.c.country == country, v.c.valid]
    if mobile:
        conditions.append(v.c.mobile)
    return sa.exists().where(*conditions).correlate(customer)


def _check(applies: bool, passes: ColumnElement[bool]) -> ColumnElement:
    if not applies:
        return sa.cast(sa.null(), sa.SmallInteger)
    return sa.case((passes, 1), else_=0)


def check_expressions(customer, *, country: str, uses_email: bool, uses_phone: bool, uses_sms: bool) -> dict[str, ColumnElement]:
    """SQL for the potentials' ``valid_email``, ``valid_phone`` and ``valid_message``.

    Over ``customer`` (the customers table or an alias), each is 1 (passed), 0
    (failed) or NULL when the campaign does not use the channel (SPEC 3 checks).
    A NULL value has no verdict and fails. The verdicts must have been stored by
    :func:`ensure_verdicts` for these customers first: a value without a verdict
    fails too, so a missing step can only hold a customer back, never enroll one.
    """
    c = customer.c
    return {
        "valid_email": _check(
            uses_email,
            sa.and_(c.email_opt_out.is_(False), _has_verdict(EMAIL, "", c.email, customer)),
        ),
        "valid_phone": _check(
            uses_phone,
            sa.and_(
                c.do_not_call.is_(False),
                sa.or_(_has_verdict(PHONE, country, c.phone, customer), _has_verdict(PHONE, country, c.mobile, customer)),
            ),
        ),
        "valid_message": _check(
            uses_sms,
            sa.and_(c.sms_opt_out.is_(False), _has_verdict(PHONE, country, c.mobile, customer, mobile=True)),
        ),
    }
