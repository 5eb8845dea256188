"""Times in SQL statements, the same on SQLite and PostgreSQL: a Python time as
a bound value, a timestamp in a form that compares as time, two timestamps
compared to the microsecond, the start of a UTC day. The funnel, expiry, consent,
the run lifecycle and the worker build their statements with these.

``ctx`` is the statement's :class:`~enroller_desktop.engine.funnel.FunnelContext`
(only its ``dialect`` is read).
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from enroller_desktop.db.types import UTCDateTime
from enroller_desktop.engine.sqlite_time import exact_parts, exact_parts_of

if TYPE_CHECKING:
    from enroller_desktop.engine.funnel import FunnelContext

__all__ = ["RunTime", "bind", "compare_moments", "moment", "start_of_day", "time_expr", "time_literal"]


def time_literal(value: dt.datetime) -> ColumnElement:
    """A Python time as a bound SQL value of the schema's UTC timestamp type."""
    return sa.literal(value, UTCDateTime())


@dataclass(frozen=True)
class RunTime:
    """A time of the run (its as-of time, a bound counted from it) bound in SQL by
    ``name``: a statement built for one run executes for another given
    :func:`~enroller_desktop.engine.funnel.run_params`, which derives every such
    time from the run's context."""

    name: str
    value: dt.datetime


def bind(name: str, value, type_=None) -> BindParameter:
    """A value of the run bound by ``name``; untyped, it takes the type of what it
    is compared with, as a plain Python value would."""
    return sa.bindparam(name, value, type_=type_ if type_ is not None else sa.types.NULLTYPE)


def time_expr(value) -> ColumnElement:
    """A Python time, a :class:`RunTime` or a column, as an expression."""
    if isinstance(value, RunTime):
        return bind(value.name, value.value, UTCDateTime())
    return time_literal(value) if isinstance(value, dt.datetime) else value


def _exact_parts(value) -> tuple[ColumnElement, ColumnElement]:
    """:func:`~enroller_desktop.engine.sqlite_time.exact_parts` of a timestamp;
    those of a Python time are computed here, from the text SQLite is given for it
    (the same parts, and a quarter less SQL to compile in the candidate INSERT)."""
    if isinstance(value, RunTime):
        whole, micro = exact_parts_of(value.value)
        return sa.func.julianday(bind(f"{value.name}_whole", whole, sa.Text)), bind(f"{value.name}_micro", micro, sa.Text)
    if isinstance(value, dt.datetime):
        whole, micro = exact_parts_of(value)
        return sa.func.julianday(sa.literal(whole, sa.Text)), sa.literal(micro, sa.Text)
    return exact_parts(value)


def moment(ctx: "FunnelContext", value) -> ColumnElement:
    """A timestamp (a column, a Python time or a :class:`RunTime`) in a form that compares as time.

    On SQLite a timestamp is text, and other systems may write it without
    fractional seconds, with a 'T', or with an offset; text comparison would then
    be wrong at the boundaries the spec draws. ``julianday`` reads all of these.
    """
    expr = time_expr(value)
    return sa.func.julianday(expr) if ctx.dialect == "sqlite" else expr


_STRICT = {operator.le: operator.lt, operator.ge: operator.gt, operator.gt: operator.gt, operator.lt: operator.lt}


def compare_moments(ctx: "FunnelContext", left, op, right) -> ColumnElement[bool]:
    """``left op right`` between timestamps (columns, Python times or :class:`RunTime`), to the microsecond.

    On SQLite, ``julianday`` rounds to the millisecond: alone, it let a consent
    1 µs after the as-of time count. Its order is right whenever it tells two
    times apart (rounding keeps order); only a tie is decided again, exactly, by
    :func:`~enroller_desktop.engine.sqlite_time.exact_parts`. The stored text never decides by itself: another
    system may write '2024-11-27 00:00:00' where we write
    '2024-11-27 00:00:00.000000', and as text the first sorts before the second.
    """
    a, b = moment(ctx, left), moment(ctx, right)
    if ctx.dialect != "sqlite":
        return op(a, b)
    (whole_a, micro_a), (whole_b, micro_b) = _exact_parts(left), _exact_parts(right)
    exact = sa.or_(_STRICT[op](whole_a, whole_b), sa.and_(whole_a == whole_b, op(micro_a, micro_b)))
    # julianday rounds '9999-12-31 23:59:59.9995' and later past the last day it
    # knows, to NULL: another system's "never" would then make the comparison
    # unknown. The exact parts read it (their whole seconds do not round), so a
    # column whose rounded value is NULL is decided by them alone.
    unrounded = [m.is_(None) for m, side in ((a, left), (b, right)) if not isinstance(side, (dt.datetime, RunTime))]
    return sa.or_(_STRICT[op](a, b), sa.and_(sa.or_(a == b, *unrounded), exact))


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight UTC at the start of ``day`` (RULES §3: all dates are UTC dates)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)
