"""Searching names without regard to accents or case: "gutierrez" finds
Gutiérrez, "größ" and "gross" find Größ, on SQLite and PostgreSQL alike.

:func:`fold` lowers a text and takes the accents off the Latin letters (each
letter of Latin-1 and Latin Extended-A to its base letter; ß, æ, œ and their
capitals to two letters). :class:`folded` is the same as an SQL expression:
on SQLite a function this module registers on each connection
(:func:`register_sqlite`); on PostgreSQL ``translate`` and ``replace``, which
every server has (``unaccent`` is an extension the integration database may not
allow us to create, and ``lower`` follows the database's collation, which may be
"C" and fold only ASCII). Both are built from the one table below, so the two
databases find the same rows.

Speed: a search matches text anywhere in a name (``LIKE '%…%'``), which no
index serves on either database; it scans the run's potentials (found by the
``run_id`` index), and a page of the table stops at its LIMIT, so only the count
reads them all. Folding adds one function call per row to that scan (measured in
``bench/RESULTS.md``).
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

#: Letters that fold to two.
_PAIRS = {"ß": "ss", "ẞ": "ss", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th", "Þ": "th"}
#: Letters without a decomposition that still have a base letter.
_BASES = {"ø": "o", "Ø": "o", "đ": "d", "Đ": "d", "ł": "l", "Ł": "l", "ı": "i", "ħ": "h", "Ħ": "h", "ŧ": "t", "Ŧ": "t", "ð": "d", "Ð": "d"}


def _single_folds() -> dict[str, str]:
    folds = {chr(code): chr(code + 32) for code in range(ord("A"), ord("Z") + 1)}
    for code in range(0xC0, 0x180):
        char = chr(code)
        if char in _PAIRS:
            continue
        if char in _BASES:
            folds[char] = _BASES[char]
            continue
        base = unicodedata.normalize("NFKD", char)[0].lower()
        if base != char and base.isascii() and base.isalpha():
            folds[char] = base
    return folds


_SINGLE = _single_folds()
_FROM = "".join(_SINGLE)
_TO = "".join(_SINGLE.values())
_TABLE = str.maketrans({**_SINGLE, **_PAIRS})


def fold(text: str | None) -> str | None:
    """``text`` lowered, its Latin letters without accents."""
    return None if text is None else text.translate(_TABLE)


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
    sql = f"translate({compiler.process(element.clauses, **kw)}, '{_FROM}', '{_TO}')"
    for letter, pair in _PAIRS.items():
        sql = f"replace({sql}, '{letter}', '{pair}')"
    return sql
