"""A query's rows for an export, read straight from the database driver.

SQLAlchemy's result processing took most of a million-row export's time, so an
export runs its statement on the driver's own cursor (:func:`driver_rows`) and
decodes each distinct value once (:class:`DriverRows`); fields that take few
values are read packed into one integer per row (:class:`Packing`). The
statements come from the listings of :mod:`enroller_desktop.db.detail_queries`
and :mod:`enroller_desktop.db.compare_listing`; the texts are worked out by
:mod:`enroller_desktop.tables`. No Qt.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db.enums import Check
from enroller_desktop.db.models import EnrollerRunCustomer
from enroller_desktop.errors import UserError

potentials = EnrollerRunCustomer.__table__


@dataclass(frozen=True)
class DriverRows:
    """A query's rows straight from the database driver, a batch of tuples at a
    time, without SQLAlchemy's result processing (which took most of a million-row
    export's time): on SQLite a time is still its stored text and a status its
    word. ``decoders`` hold, per field, SQLAlchemy's own processor that turns such
    a value into what a Row would hold (None: the value as it is), for the reader
    to apply once per distinct value rather than once per cell."""

    fields: tuple[str, ...]
    decoders: tuple[Callable[[Any], Any] | None, ...]
    batches: Iterator[Sequence[Sequence]]
    packing: Packing | None = None


@dataclass(frozen=True)
class Packing:
    """Fields that take few values each (a word enum, a boolean, a check result),
    read as one integer per row (the field :data:`PACKED`): an export then reads
    one value where it would read a dozen, and works out their texts once per
    distinct integer. Each field is a digit: 0 for NULL, then its values in
    order, then one for a value this program does not know, which
    :meth:`unpack` refuses rather than show it as something else."""

    fields: tuple[str, ...]
    domains: tuple[tuple, ...]
    column: ColumnElement

    @classmethod
    def of(cls, columns: Sequence[ColumnElement]) -> Packing | None:
        """The packing of those of ``columns`` whose values are known; None if
        fewer than two are."""
        known = [(column, domain) for column in columns if (domain := _few_values(column)) is not None]
        if len(known) < 2:
            return None
        code, radix = None, 1
        for column, domain in known:
            digit = sa.case(
                (column.is_(None), 0),
                *((column == sa.literal(value, column.type), index) for index, value in enumerate(domain, start=1)),
                else_=len(domain) + 1,
            )
            code = digit if code is None else code + digit * radix
            radix *= len(domain) + 2
        return cls(tuple(column.key for column, _ in known), tuple(domain for _, domain in known), code.label(PACKED))

    def unpack(self, code: int) -> tuple:
        """The fields' values (as a Row holds them) from a packed integer."""
        values = []
        for field, domain in zip(self.fields, self.domains):
            code, digit = divmod(code, len(domain) + 2)
            if digit > len(domain):
                raise UserError(f"Cannot export: a row's {field} holds a value this program does not know")
            values.append(None if digit == 0 else domain[digit - 1])
        return tuple(values)


#: The field of an export's rows that holds the packed ones (see :class:`Packing`).
PACKED = "packed"


def packed(query: sa.Select, pack: Collection[str]) -> tuple[sa.Select, Packing | None]:
    """``query`` with those of its columns named in ``pack`` that take few values
    read as one integer (see :class:`Packing`), and that packing (None: as it was)."""
    columns = list(query.selected_columns)
    packing = Packing.of([column for column in columns if column.key in pack])
    if packing is None:
        return query, None
    return query.with_only_columns(*(column for column in columns if column.key not in packing.fields), packing.column), packing

_CHECK_FIELDS = frozenset(check.value for check in Check)


def _few_values(column) -> tuple | None:
    if isinstance(column.type, sa.Enum) and column.type.enum_class is not None:
        return tuple(column.type.enum_class)
    if isinstance(column.type, sa.Boolean):
        return (False, True)
    if getattr(column, "table", None) is potentials and column.key in _CHECK_FIELDS:
        return (0, 1)  # failed, passed (RULES §3); NULL, not applicable, is every digit's 0
    return None


#: Names for PostgreSQL's server-side cursors, unique within a connection.
_export_cursors = itertools.count(1)


@contextlib.contextmanager
def driver_rows(conn: Connection, statement: sa.Select, batch_size: int) -> Iterator[DriverRows]:
    """Run ``statement`` on the driver's own cursor (a server-side one on
    PostgreSQL, so a million rows never sit in memory), in ``conn``'s transaction.
    The statement and its parameters are what SQLAlchemy would send; a driver
    error is raised as SQLAlchemy's, as any other query's would be."""
    dialect = conn.dialect
    sql, parameters = _driver_statement(statement, dialect)
    driver = conn.connection.dbapi_connection
    cursor = driver.cursor(name=f"enroller_export_{next(_export_cursors)}") if dialect.name == "postgresql" else driver.cursor()
    try:
        with _as_sqlalchemy_error(dialect, sql, parameters):
            cursor.execute(sql, parameters)
        columns = statement.selected_columns
        decoders = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, described[1]) for column, described in zip(columns, cursor.description)
        )
        yield DriverRows(tuple(columns.keys()), decoders, _fetch_batches(cursor, batch_size, dialect, sql, parameters))
    finally:
        cursor.close()


def _fetch_batches(cursor, size: int, dialect, sql: str, parameters) -> Iterator[Sequence[Sequence]]:
    while True:
        with _as_sqlalchemy_error(dialect, sql, parameters):
            batch = cursor.fetchmany(size)
        if not batch:
            return
        yield batch


@contextlib.contextmanager
def _as_sqlalchemy_error(dialect, sql: str, parameters) -> Iterator[None]:
    error = dialect.loaded_dbapi.Error
    try:
        yield
    except error as exc:
        raise sa.exc.DBAPIError.instance(sql, parameters, exc, error) from exc


def _driver_statement(statement: sa.Select, dialect) -> tuple[str, Sequence | dict]:
    """The SQL and parameters SQLAlchemy would hand the driver for ``statement``:
    each parameter through its type's bind processor (a UTC time becomes
    SQLite's text), in the dialect's parameter style."""
    compiled = statement.compile(dialect=dialect)
    values = {}
    for name, value in compiled.params.items():
        process = compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        values[name] = value if process is None else process(value)
    if compiled.positional:
        return compiled.string, tuple(values[name] for name in compiled.positiontup)
    escaped = compiled.escaped_bind_names
    return compiled.string, {escaped.get(name, name): value for name, value in values.items()}
