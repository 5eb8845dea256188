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
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db.types import UTCDateTime
from enroller_desktop.engine.sqlite_time import exact_parts

if TYPE_CHECKING:
    from enroller_desktop.engine.funnel import FunnelContext

__all__ = ["compare_moments", "moment", "start_of_day", "time_literal"]


def time_literal(value: dt.datetime) -> ColumnElement:
    """A Python time as a bound SQL value of the schema's UTC timestamp type."""
    return sa.literal(value, UTCDateTime())


def moment(ctx: "FunnelContext", value) -> ColumnElement:
    """A timestamp (a column or a Python time) in a form that compares as time.

    On SQLite a timestamp is text, and other systems may write it without
    fractional seconds, with a 'T', or with an offset; text comparison would then
    be wrong at the boundaries the spec draws. ``julianday`` reads all of these.
    """
    expr = time_literal(value) if isinstance(value, dt.datetime) else value
    return sa.func.julianday(expr) if ctx.dialect == "sqlite" else expr


_STRICT = {operator.le: operator.lt, operator.ge: operator.gt, operator.gt: operator.gt, operator.lt: operator.lt}


def compare_moments(ctx: "FunnelContext", left, op, right) -> ColumnElement[bool]:
    """``left op right`` between timestamps (columns or Python times), to the microsecond.

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
    text_a, text_b = (time_literal(v) if isinstance(v, dt.datetime) else v for v in (left, right))
    (whole_a, micro_a), (whole_b, micro_b) = exact_parts(text_a), exact_parts(text_b)
    exact = sa.or_(_STRICT[op](whole_a, whole_b), sa.and_(whole_a == whole_b, op(micro_a, micro_b)))
    return sa.or_(_STRICT[op](a, b), sa.and_(a == b, exact))


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight UTC at the start of ``day`` (RULES §3: all dates are UTC dates)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)
