"""A table defined once: its columns' titles and how each value is shown, on
screen and in a CSV. The run window's tables (:mod:`enroller_desktop.run_detail`),
the consent audit, the comparison of two runs and the customer window are each
a :class:`Table`; the window's Qt models (:mod:`enroller_desktop.ui.table_models`)
and the CSV export both read one, so a CSV's header is the visible titles and
its values are what the screen shows. No Qt here.

Readings:

- A definition writes what a CSV holds (RULES §8): times in ISO 8601 UTC to the
  second (``2026-11-27T09:30:00Z``), counts in plain digits. The window shows
  :meth:`Table.for_screen`: times in the run's organization's zone (or the
  one the View menu chooses, :mod:`enroller_desktop.times`), counts with
  thousands separators. A CSV of "times as shown" is :meth:`Table.for_csv`.
- Every duration is written by one rule, :func:`format_seconds`, in the run
  window and in the runs index alike.
- An empty value (NULL) is shown as an empty cell; a check that does not apply
  is "NA", as the old help page writes it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from operator import itemgetter

from sqlalchemy.engine import Connection

from enroller_desktop.db import detail_queries, export_rows
from enroller_desktop.engine import criteria
from enroller_desktop.engine.consent import ConsentBasis
from enroller_desktop.times import ShownTimes, iso_utc

# -- how values are shown ------------------------------------------------------------

CHECK_TEXT = {1: "Passed", 0: "Failed", None: "NA"}
VALID_TEXT = {True: "Valid", False: "Invalid"}


#: A stored time as a CSV holds it (RULES §8); a run's potentials share few validation times.
csv_time = functools.lru_cache(maxsize=4096)(iso_utc)


def format_seconds(seconds: float | None) -> str:
    """Every duration of the application (the runs index, the Summary, the events,
    the query params), read at a glance: ``1.25 ms``, ``850 ms``, ``12.3 s``,
    ``4 min 05 s``, ``2 h 03 min``. The same text on screen and in a CSV."""
    if seconds is None:
        return ""
    if seconds < 1:
        milliseconds = seconds * 1000
        return f"{milliseconds:.2f} ms" if 0 < milliseconds < 10 else f"{milliseconds:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def format_ms(milliseconds: float | None) -> str:
    return "" if milliseconds is None else format_seconds(milliseconds / 1000)


def format_between(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None or end is None:
        return ""
    return format_seconds((end - start).total_seconds())


def format_count(value: int | None) -> str:
    """A count on screen: ``12,345``."""
    return "" if value is None else f"{value:,}"


def plain_count(value: int | None) -> str:
    """A count in a CSV: plain digits, ``12345`` (RULES §8)."""
    return "" if value is None else str(value)


def format_label(value) -> str:
    """An enum member as the old help page writes it."""
    return "" if value is None else value.label


def format_text(value: str | None) -> str:
    return "" if value is None else value


@functools.lru_cache(maxsize=4096)  # a dealership's fleet has few distinct year-make-models
def format_vehicle(year: int | None, make: str | None, model: str | None) -> str:
    return " ".join(str(part) for part in (year, make, model) if part not in (None, ""))


def format_date(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def format_consent(value: str | None) -> str:
    """A recorded consent basis as words; "NA" where CASL did not apply, as a check's."""
    return "NA" if value is None else ConsentBasis(value).label


def format_criterion(text: str) -> str:
    """The criterion in words, or what is wrong with it."""
    try:
        return criteria.describe(criteria.parse(text))
    except criteria.CriterionError as exc:
        return f"Invalid criterion: {exc}"


# -- tables --------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column: ``key`` names it for sorting (a sort key of the table's listing)
    and for the window's styling; its text is ``show`` applied to the row's
    ``fields``.

    ``free_text`` marks text that comes from outside the product (names, messages,
    criteria): only such a cell can begin with a formula character, so only those
    cells pass through the CSV formula guard. ``categorical`` marks a column whose
    fields take few distinct values (statuses, checks): their texts are worked out
    once per distinct combination, which keeps a million-row export fast.
    """

    key: str
    title: str
    fields: tuple[str, ...]
    show: Callable[..., str] = format_text
    kind: str = "text"  # text, number, time, check, status, level: how the window aligns and colours it
    free_text: bool = False
    categorical: bool = False


@dataclass(frozen=True)
class Table:
    """A table: its name (a run window tab's is the command line's ``--tab``), its
    title, and its columns in the order shown."""

    name: str
    title: str
    columns: tuple[Column, ...]

    @property
    def titles(self) -> list[str]:
        return [column.title for column in self.columns]

    @property
    def fields(self) -> frozenset[str]:
        """Every field a column shows."""
        return frozenset(name for column in self.columns for name in column.fields)

    def column_index(self, key: str) -> int:
        return next(index for index, column in enumerate(self.columns) if column.key == key)

    @property
    def category_fields(self) -> frozenset[str]:
        """The fields only categorical columns show."""
        shown_as_they_are = {name for column in self.columns if not column.categorical for name in column.fields}
        return frozenset(name for column in self.columns if column.categorical for name in column.fields) - shown_as_they_are

    def reader(self, fields: Sequence[str], decoders: Sequence[Callable | None] | None = None, packing: export_rows.Packing | None = None) -> TableReader:
        """How to read this table's texts from rows whose values are in the order
        of ``fields`` (a query result's keys). ``decoders`` and ``packing`` (see
        :class:`~enroller_desktop.db.export_rows.DriverRows`) say how raw
        driver values become what a SQLAlchemy Row holds; without them the rows
        are Rows."""
        return TableReader(self, tuple(fields), None if decoders is None else tuple(decoders), packing)

    def formatter(self, fields: Sequence[str]) -> Callable[[Sequence], list[str]]:
        """A function giving the shown texts of a row whose values are in the order
        of ``fields`` (a query result's keys)."""
        return _formatter(self, tuple(fields))

    def format(self, row) -> list[str]:
        """The shown texts of one query row (a SQLAlchemy Row or a named tuple)."""
        return self.formatter(row._fields)(row)

    def for_screen(self, times: ShownTimes) -> Table:
        """This table as the window shows it: times by ``times``, counts with
        thousands separators."""
        return _restyled(self, times, format_count)

    def for_csv(self, times: ShownTimes | None = None) -> Table:
        """This table as a CSV holds it: as defined, or with the times as ``times``
        shows them (the user's "times as shown"); counts stay plain digits."""
        return self if times is None else _restyled(self, times, plain_count)

    @property
    def time_columns(self) -> tuple[int, ...]:
        return tuple(index for index, column in enumerate(self.columns) if column.kind == "time")


@functools.lru_cache(maxsize=64)
def _restyled(table: Table, times: ShownTimes, count: Callable[[int | None], str]) -> Table:
    def restyle(column: Column) -> Column:
        if column.kind == "time":
            return dataclasses.replace(column, show=times)
        if column.show is plain_count:
            return dataclasses.replace(column, show=count)
        return column

    return dataclasses.replace(table, columns=tuple(map(restyle, table.columns)))


@dataclass(frozen=True)
class Cell:
    """One column that is not categorical, as read from a row: ``values`` picks
    its field's value from the row (a tuple of them for several fields) and
    ``text`` turns that into the shown text. ``derived`` says the text is worked
    out from the value; otherwise it is the value itself (empty for NULL), which
    a reader of many rows may take as it comes."""

    index: int
    column: Column
    values: Callable[[Sequence], Any]
    text: Callable[[Any], str]
    derived: bool


class TableReader:
    """A table's texts read from rows of given fields: the categorical columns
    through one key per row (:attr:`category_key`, None when the table has no
    categorical column) whose texts :meth:`category_texts` works out, and the
    other columns as :attr:`cells`."""

    def __init__(self, table: Table, fields: tuple[str, ...], decoders: tuple[Callable | None, ...] | None, packing: export_rows.Packing | None = None) -> None:
        self.table = table
        position = {name: index for index, name in enumerate(fields)}

        def getter(names: tuple[str, ...]):
            return itemgetter(*(position[name] for name in names))

        def decoder(name: str):
            return None if decoders is None else decoders[position[name]]

        categorical = [column for column in table.columns if column.categorical]
        packed = packing.fields if packing is not None else ()
        self._packing = packing
        self._category_fields = tuple(dict.fromkeys(name for column in categorical for name in column.fields if name not in packed))
        self._category_decoders = tuple(decoder(name) for name in self._category_fields)
        key_fields = self._category_fields + ((export_rows.PACKED,) if packed else ())
        self._key_length = len(key_fields)
        self.category_key = getter(key_fields) if key_fields else None
        self.cells = tuple(
            _cell(index, column, getter(column.fields), tuple(decoder(name) for name in column.fields))
            for index, column in enumerate(table.columns)
            if not column.categorical
        )

    def category_texts(self, key) -> list[str]:
        """Every column's text for a category ``key``: the categorical columns'
        shown texts, and "" where a column is not categorical."""
        raw = key if self._key_length > 1 else (key,)
        values = {name: value if decode is None else decode(value) for name, value, decode in zip(self._category_fields, raw, self._category_decoders)}
        if self._packing is not None:
            values.update(zip(self._packing.fields, self._packing.unpack(raw[-1])))
        return [column.show(*(values[name] for name in column.fields)) if column.categorical else "" for column in self.table.columns]


def _cell(index: int, column: Column, values: Callable, decoders: tuple[Callable | None, ...]) -> Cell:
    show = column.show
    if len(column.fields) > 1:
        if any(decoders):
            decoders = tuple(decode or _as_is for decode in decoders)
            return Cell(index, column, values, lambda raw: show(*(decode(value) for decode, value in zip(decoders, raw))), True)
        return Cell(index, column, values, lambda several: show(*several), True)
    decode = decoders[0]
    if decode is not None:
        return Cell(index, column, values, lambda raw: show(decode(raw)), True)
    return Cell(index, column, values, show, show is not format_text)


def _as_is(value):
    return value


@functools.lru_cache(maxsize=64)
def _formatter(table: Table, fields: tuple[str, ...]) -> Callable[[Sequence], list[str]]:
    reader = table.reader(fields)
    category_key, cells = reader.category_key, reader.cells
    known: dict = {}

    def format_row(row) -> list[str]:
        if category_key is None:
            texts = [""] * len(table.columns)
        else:
            key = category_key(row)
            base = known.get(key)
            if base is None:
                base = known[key] = reader.category_texts(key)
            texts = base.copy()
        for cell in cells:
            texts[cell.index] = cell.text(cell.values(row))
        return texts

    return format_row



# -- reading a table whole (the export) ----------------------------------------------


@dataclass(frozen=True)
class TableSource:
    """Where an export reads a table's rows: a :class:`Table` and either a
    keyset listing (the large tables, under the window's filter and sort) or a
    function returning every row (the small ones)."""

    table: Table
    listing: detail_queries.Listing | None = None
    read_all: Callable[[Connection], Sequence] | None = None
    #: The run tab it is (see :data:`TAB_NAMES`): what another process needs,
    #: with the listing, to make the same table (an export split in two).
    tab: str | None = None
    #: The times as the user sees them, when a CSV is to hold them so (else ISO 8601 UTC).
    times: ShownTimes | None = None

    def count(self, conn: Connection) -> int | None:
        return self.listing.count(conn) if self.listing is not None else None

    @contextlib.contextmanager
    def rows(self, conn: Connection, size: int) -> Iterator[export_rows.DriverRows]:
        """Every row, a batch at a time: a large table's straight from the driver,
        a small one's as the Rows it reads."""
        if self.listing is not None:
            with self.listing.driver_rows(conn, size, self.table.fields, pack=self.table.category_fields) as rows:
                yield rows
            return
        every = self.read_all(conn)
        fields = every[0]._fields if every else ()
        yield export_rows.DriverRows(fields, (None,) * len(fields), (every[start : start + size] for start in range(0, len(every), size)))
