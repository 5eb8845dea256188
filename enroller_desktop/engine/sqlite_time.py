"""Timestamps stored as text on SQLite, read exactly.

SQLite has no timestamp type: a time is text, in whatever form the system that
wrote it chose ('2024-11-27 00:00:00', '2024-11-27T00:00:00.000000',
'2024-11-27 05:00:00.5+05:00', ...). ``julianday`` and ``date`` read every such
form but round to the millisecond first, so 23:59:59.9997 is taken for the next
day, and 1 µs after a time compares equal to it. As text, the forms do not sort
as time. These helpers split a timestamp's text into parts that are exact.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

__all__ = ["exact_parts", "exact_parts_of", "whole_seconds"]


def _split(text) -> tuple[ColumnElement[bool], ColumnElement[int]]:
    """(has a fraction, '1' followed by the fraction's digits as an integer).

    The fraction, when there is one, starts at the 20th character of every form
    with seconds ('YYYY-MM-DD HH:MM:SS.ffffff', with a 'T', with an offset or
    'Z' after it). SQLite's CAST of text to INTEGER reads the longest leading
    integer, so ``CAST('1' || fraction AS INTEGER)`` keeps the fraction's
    leading zeros behind the '1' and drops whatever follows its digits.
    """
    fraction = sa.func.substr(text, 21, type_=sa.Text)
    has_fraction = sa.func.substr(text, 20, 1, type_=sa.Text) == "."
    digits = sa.cast(sa.literal("1", sa.Text) + fraction, sa.Integer)
    return has_fraction, digits


def whole_seconds(text) -> ColumnElement[str]:
    """The timestamp's text without its fraction of a second (offset kept):
    ``julianday`` and ``date`` read it exactly."""
    has_fraction, digits = _split(text)
    # The digits end at character 20 + (length of '1' and the digits) - 1.
    rest = sa.func.substr(text, 20 + sa.func.length(digits), type_=sa.Text)
    return sa.case((has_fraction, sa.func.substr(text, 1, 19, type_=sa.Text) + rest), else_=text)


def exact_parts(text) -> tuple[ColumnElement, ColumnElement[str]]:
    """(the whole seconds as a julianday, the six microsecond digits as text):
    comparing the pairs in order compares the times to the microsecond."""
    has_fraction, digits = _split(text)
    micro = sa.case((has_fraction, sa.func.substr(sa.cast(digits, sa.Text) + "000000", 2, 6, type_=sa.Text)), else_="000000")
    return sa.func.julianday(whole_seconds(text)), micro


def exact_parts_of(value: dt.datetime) -> tuple[str, str]:
    """What :func:`exact_parts` computes from the text a Python time is bound as
    (SQLAlchemy writes an aware time in UTC as 'YYYY-MM-DD HH:MM:SS.ffffff', the
    ``UTCDateTime`` of ``db.types``), computed in Python: the whole seconds' text
    (for ``julianday``) and the six microsecond digits."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    whole = f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    return whole, f"{value.microsecond:06d}"
