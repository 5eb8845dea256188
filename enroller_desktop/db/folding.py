"""Searching names without regard to accents or case: "gutierrez" finds
Gutiérrez, "größ" and "gross" find Größ, on SQLite and PostgreSQL alike.

:func:`fold` takes the accents off a text (Unicode's canonical decomposition,
NFD, without its combining accents), lowers A-Z, and replaces the few Latin
letters that have no decomposition (ø, ł, đ… to one letter; ß, æ, œ, þ and their
capitals to two). :class:`folded` is the same as an SQL expression: on SQLite a
function this module registers on each connection (:func:`register_sqlite`); on
PostgreSQL ``normalize``, ``regexp_replace``, ``translate`` and ``replace``,
which every UTF-8 server has (``unaccent`` is an extension the integration
database may not let us create; ``lower`` of a non-ASCII letter follows the
database's collation). Both are built from the one table below, so the two
databases find the same rows. Other letters (Greek, Cyrillic…) keep their case.

The rules that compare text (criteria, RULES §3 Text; the sort of a table's
text columns) fold ASCII case only and order by code point: :func:`fold_ascii`
in Python and :func:`ascii_case_key` in SQL, the one spelling of that fold.

Speed: a search matches text anywhere in a name (``LIKE '%…%'``), which no
index serves on either database; it scans the run's potentials (found by the
``run_id`` index), and a page of the table stops at its LIMIT, so only the count
reads them all. Folding every name would make that scan several times slower
(a call into Python per row on SQLite; a multibyte ``translate`` on
PostgreSQL), so :func:`contains` lets each database's own case-free LIKE judge
the names that are plain ASCII, most of them, and folds only the others (found
by a GLOB for a character outside printable ASCII on SQLite, by their bytes
outnumbering their characters on PostgreSQL). Measured with ``bench/search.py``
(``bench/RESULTS.md``).
"""

from __future__ import annotations

import string
import unicodedata

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

#: Letters that fold to two.
_PAIRS = {"ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th"}
#: Letters without a decomposition that still have a base letter, and A-Z.
_BASES = {"ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "ı": "i", "ħ": "h", "Ħ": "h", "ŧ": "t", "Ŧ": "t",
          "ð": "d", "Ð": "d", **{chr(code): chr(code + 32) for code in range(ord("A"), ord("Z") + 1)}}
_FROM = "".join(_BASES)
_TO = "".join(_BASES.values())
_TABLE = str.maketrans({**_BASES, **_PAIRS})
#: The combining accents that NFD takes off their letters.
_ACCENTS = range(0x300, 0x370)


def fold(text: str | None) -> str | None:
    """``text`` without accents (decomposed, its combining accents dropped), its
    A-Z lowered and the letters of the two tables above replaced."""
    if text is None:
        return None
    if text.isascii():
        return text.lower()
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if ord(c) not in _ACCENTS)
    return bare.translate(_TABLE)


def register_sqlite(dbapi_connection) -> None:
    """Give a SQLite connection the ``enroller_fold`` function :class:`folded` calls."""
    dbapi_connection.create_function("enroller_fold", 1, fold, deterministic=True)


class folded(FunctionElement):  # noqa: N801 - an SQL function, named as one
    """``fold(expression)`` in SQL."""

    type = sa.Text()
    inherit_cache = True
    name = "enroller_fold"


@compiles(folded, "sqlite")
def _folded_sqlite(element, compiler, **kw) -> str:
    return f"enroller_fold({compiler.process(element.clauses, **kw)})"


@compiles(folded, "postgresql")
def _folded_postgresql(element, compiler, **kw) -> str:
    sql = f"regexp_replace(normalize({compiler.process(element.clauses, **kw)}, NFD), '[\u0300-\u036f]', '', 'g')"
    sql = f"translate({sql}, '{_FROM}', '{_TO}')"
    for letter, pair in _PAIRS.items():
        sql = f"replace({sql}, '{letter}', '{pair}')"
    return sql


def contains(expression, text: str) -> ColumnElement[bool]:
    """True where ``expression`` holds ``text`` anywhere, both folded."""
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _contains(expression, sa.literal(f"%{escaped}%", sa.Text()))


class _contains(FunctionElement):  # noqa: N801
    type = sa.Boolean()
    inherit_cache = True
    name = "enroller_contains"
    # A condition as it is: SQLite evaluates "(a OR b AND c) = 1" as a value,
    # every operand of it, and would call the fold for every row.
    _is_implicitly_boolean = True


@compiles(_contains, "sqlite")
def _contains_sqlite(element, compiler, **kw) -> str:
    expression, pattern = list(element.clauses)
    not_ascii = expression.op("GLOB")(sa.literal_column("'*[^ -~]*'"))
    condition = sa.or_(expression.like(pattern, escape="\\"),
                       sa.and_(not_ascii, folded(expression).like(pattern, escape="\\")))
    return compiler.process(sa.Grouping(condition), **kw)


@compiles(_contains, "postgresql")
def _contains_postgresql(element, compiler, **kw) -> str:
    expression, pattern = list(element.clauses)
    ascii_only = sa.func.octet_length(expression) == sa.func.char_length(expression)
    condition = sa.or_(sa.and_(ascii_only, sa.func.lower(expression).like(pattern, escape="\\")),
                       sa.and_(sa.not_(ascii_only), folded(expression).like(pattern, escape="\\")))
    return compiler.process(sa.Grouping(condition), **kw)


# -- ASCII case only (criteria, sorting) ----------------------------------------------

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_UPPER = sa.literal_column(f"'{string.ascii_uppercase}'", sa.Text)
_LOWER = sa.literal_column(f"'{string.ascii_lowercase}'", sa.Text)


def fold_ascii(text: str) -> str:
    """``text`` with A-Z lowered and nothing else changed (RULES §3, Text)."""
    return text.translate(_ASCII_LOWER)


def ascii_case_key(expression, dialect: str) -> ColumnElement:
    """``expression`` as text compares and sorts: ASCII case folded, then code point
    order, the same on both databases. NOCASE on SQLite folds exactly A-Z (whatever
    ICU the library was built with, unlike ``lower()``); on PostgreSQL ``lower()``
    would fold all of Unicode, so ``translate`` folds A-Z and ``COLLATE "C"``
    orders by code point (the byte order of UTF-8)."""
    if dialect == "sqlite":
        return expression.collate("NOCASE")
    return sa.func.translate(expression, _UPPER, _LOWER, type_=sa.Text).collate("C")
