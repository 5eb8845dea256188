"""The tables of a run's detail window, each defined once: its column titles and
how each value is shown. The window's Qt models and the CSV export both read
these definitions, so a CSV's header is the visible titles and its values are
what the screen shows. No Qt here.

Readings:

- The definitions write what a CSV holds (RULES §8): times in ISO 8601 UTC to the
  second (``2026-11-27T09:30:00Z``), counts in plain digits. The window shows
  :meth:`RunTable.for_screen`: times in the run's organization's zone (or the
  one the View menu chooses, :mod:`enroller_desktop.times`), counts with
  thousands separators. A CSV of "times as shown" is :meth:`RunTable.for_csv`.
- Every duration is written by one rule, :func:`format_seconds`, here and in the
  runs index alike.
- An empty value (NULL) is shown as an empty cell; a check that does not apply
  is "NA", as the old help page writes it.
- "Why Not Enrolled" names every reason a candidate did not pass the funnel, in
  funnel order. A failed channel check is a reason only when no channel passed,
  since one usable channel is enough (RULES §3, Potential Customers).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple
from operator import itemgetter

from sqlalchemy.engine import Connection, Row

from enroller_desktop.db import detail_queries
from enroller_desktop.db.enums import CHANNEL_CHECKS, Check, PotentialStatus, RunPurpose, RunStatus
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


#: Why a failed check kept a candidate out, in funnel order (channel checks apart).
CHECK_REASONS = {
    Check.DELETED: "customer deleted",
    Check.UNIQUE_EVENT: "already enrolled for this event",
    Check.ALREADY_IN_QUEUE: "already in queue",
    Check.CASL: "no CASL consent",
    Check.OPT_OUT_ALL: "opted out of all",
    Check.MARKETING_EXCLUSION: "marketing exclusion",
}
CHANNEL_WORDS = {Check.VALID_EMAIL: "email", Check.VALID_PHONE: "phone", Check.VALID_MESSAGE: "mobile for messages"}
_FUNNEL_ORDER = (Check.DELETED, None, Check.UNIQUE_EVENT, Check.ALREADY_IN_QUEUE, Check.CASL, Check.OPT_OUT_ALL, Check.MARKETING_EXCLUSION)
_CHECK_FIELDS = tuple(check.value for check in Check)


@functools.lru_cache(maxsize=None)  # a handful of distinct combinations per run
def why_not_enrolled(status: PotentialStatus, checks: tuple, simulation: bool, run_finished: bool) -> str:
    """``checks`` holds each :class:`Check`'s result in declaration order."""
    if status is PotentialStatus.SUCCESS:
        return ""
    result = dict(zip(Check, checks))
    reasons = []
    for check in _FUNNEL_ORDER:
        if check is None:
            if not any(result[channel] == 1 for channel in CHANNEL_CHECKS):
                failed = [CHANNEL_WORDS[channel] for channel in CHANNEL_CHECKS if result[channel] == 0]
                reasons.append(f"no valid {' or '.join(failed)}" if failed else "campaign uses no channel")
        elif result[check] == 0:
            reasons.append(CHECK_REASONS[check])
    if not reasons:
        if status is PotentialStatus.ERROR:
            reasons.append("eligible, but its enrollment failed (enrolled by another run first)")
        elif simulation:
            reasons.append("eligible; a simulation enrolls nobody")
        elif run_finished:
            reasons.append("eligible; the run ended before enrolling")
        else:
            reasons.append("eligible; enrollment pending")
    text = "; ".join(reasons)
    return text[:1].upper() + text[1:]


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


def _column(key: str, title: str, fields: str | tuple[str, ...] | None = None, show: Callable[..., str] = format_text, **kw) -> Column:
    fields = (key,) if fields is None else (fields,) if isinstance(fields, str) else fields
    return Column(key, title, fields, show, **kw)


@dataclass(frozen=True)
class RunTable:
    """A table of the run window: its name (the command line's ``--tab``), its
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

    def reader(self, fields: Sequence[str], decoders: Sequence[Callable | None] | None = None, packing: detail_queries.Packing | None = None) -> TableReader:
        """How to read this table's texts from rows whose values are in the order
        of ``fields`` (a query result's keys). ``decoders`` and ``packing`` (see
        :class:`~enroller_desktop.db.detail_queries.DriverRows`) say how raw
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

    def for_screen(self, times: ShownTimes) -> RunTable:
        """This table as the window shows it: times by ``times``, counts with
        thousands separators."""
        return _restyled(self, times, format_count)

    def for_csv(self, times: ShownTimes | None = None) -> RunTable:
        """This table as a CSV holds it: as defined, or with the times as ``times``
        shows them (the user's "times as shown"); counts stay plain digits."""
        return self if times is None else _restyled(self, times, plain_count)

    @property
    def time_columns(self) -> tuple[int, ...]:
        return tuple(index for index, column in enumerate(self.columns) if column.kind == "time")


@functools.lru_cache(maxsize=64)
def _restyled(table: RunTable, times: ShownTimes, count: Callable[[int | None], str]) -> RunTable:
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

    def __init__(self, table: RunTable, fields: tuple[str, ...], decoders: tuple[Callable | None, ...] | None, packing: detail_queries.Packing | None = None) -> None:
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
        key_fields = self._category_fields + ((detail_queries.PACKED,) if packed else ())
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
def _formatter(table: RunTable, fields: tuple[str, ...]) -> Callable[[Sequence], list[str]]:
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


def _label(value) -> str:
    return value.label


SUMMARY = RunTable("summary", "Summary", (_column("field", "Field"), _column("value", "Value", free_text=True)))

EVENTS = RunTable(
    "events",
    "Events",
    (
        _column("stage", "Stage", show=_label),
        _column("created_at", "Time", show=csv_time, kind="time"),
        _column("level", "Level", show=_label, kind="level"),
        _column("message", "Message", free_text=True),
        _column("row_count", "Rows", show=plain_count, kind="number"),
        _column("duration_ms", "Duration", show=format_ms, kind="number"),
    ),
)

QUERY_PARAMS = RunTable(
    "query-params",
    "Query Params",
    (
        _column("organization", "Organization", "organization_name", free_text=True),
        _column("campaign", "Campaign", "campaign_name", free_text=True),
        _column("process_order", "Process Order", show=plain_count, kind="number"),
        _column("name", "Query Param", free_text=True),
        _column("status", "Status", show=_label, kind="status"),
        _column("duration", "Duration", ("in_progress_at", "completed_at"), show=format_between, kind="number"),
        _column("total_customers", "Total Customers", show=plain_count, kind="number"),
        _column("average_potential_duration_ms", "Average Potential Duration", show=format_ms, kind="number"),
        _column("query_attempts", "Query Attempts", show=plain_count, kind="number"),
        _column("created_at", "Created At", show=csv_time, kind="time"),
        _column("in_progress_at", "In Progress At", show=csv_time, kind="time"),
        _column("completed_at", "Completed At", show=csv_time, kind="time"),
        _column("criterion", "Criterion", show=format_criterion, free_text=True),
        _column("event_key", "Event Key", free_text=True),
    ),
)

_VEHICLE_FIELDS = ("year", "make", "model")


def check_column(check: Check, title: str) -> Column:
    """A check's column: Passed, Failed or NA, coloured by the window."""
    return _column(check.value, title, show=CHECK_TEXT.__getitem__, kind="check", categorical=True)


#: The consent a run relied on (engine/consent.py), shown after the CASL check it explains.
CONSENT_COLUMNS = (
    _column("consent_basis", "Consent", show=format_consent, kind="status", categorical=True),
    _column("consent_evidence_at", "Evidence", show=csv_time, kind="time"),
    # A UTC date (RULES §3, Dates), not a moment: shown as it is, in every zone.
    _column("consent_lapses_on", "Lapses On", show=format_date),
)


def run_potentials_table(summary: Row) -> RunTable:
    """The Potentials table of the run ``summary`` describes: with the consent
    columns only for an organization in CA, the only one where CASL applies."""
    return potentials_table(summary.purpose, summary.status, consent=summary.organization_country == "CA")


@functools.lru_cache(maxsize=None)
def potentials_table(purpose: RunPurpose, run_status: RunStatus, consent: bool = False) -> RunTable:
    """The Potentials table of a run; its "Why Not Enrolled" depends on whether the
    run is a simulation and whether it has finished; ``consent`` adds the consent
    columns."""
    simulation = purpose is RunPurpose.CAMPAIGN_SIMULATION
    finished = run_status.finished

    def why(status, *checks) -> str:
        return why_not_enrolled(status, checks, simulation, finished)

    return RunTable(
        "potentials",
        "Potentials",
        (
            _column("first_name", "First Name", free_text=True),
            _column("last_name", "Last Name", free_text=True),
            _column("vehicle", "Vehicle", _VEHICLE_FIELDS, show=format_vehicle, free_text=True),
            _column("status", "Status", show=_label, kind="status", categorical=True),
            _column("is_valid", "Is Valid", show=VALID_TEXT.__getitem__, kind="status", categorical=True),
            # Not a seed column: the answer to "why not?", beside the verdict it explains.
            _column("why_not_enrolled", "Why Not Enrolled", ("status", *_CHECK_FIELDS), show=why, categorical=True),
            check_column(Check.ALREADY_IN_QUEUE, "Already in Queue"),
            check_column(Check.CASL, "CASL"),
            *(CONSENT_COLUMNS if consent else ()),
            check_column(Check.DELETED, "Deleted"),
            check_column(Check.MARKETING_EXCLUSION, "Marketing Exclusion"),
            check_column(Check.OPT_OUT_ALL, "Opt Out All"),
            check_column(Check.UNIQUE_EVENT, "Unique Event"),
            check_column(Check.VALID_EMAIL, "Valid Email"),
            check_column(Check.VALID_MESSAGE, "Valid Message"),
            check_column(Check.VALID_PHONE, "Valid Phone"),
            _column("validated_at", "Validated At", show=csv_time, kind="time"),
        ),
    )


CAMPAIGN_CUSTOMERS = RunTable(
    "campaign-customers",
    "Campaign Customers",
    (
        _column("first_name", "First Name", free_text=True),
        _column("last_name", "Last Name", free_text=True),
        _column("vehicle", "Vehicle", _VEHICLE_FIELDS, show=format_vehicle, free_text=True),
        _column("purpose", "Purpose", show=_label, kind="status", categorical=True),
        _column("status", "Status", show=_label, kind="status", categorical=True),
        _column("expiration", "Expiration", show=format_label, kind="status", categorical=True),
        _column("expired_at", "Expired At", show=csv_time, kind="time"),
        _column("last_attempt_at", "Last Attempt Time", show=csv_time, kind="time"),
        _column("last_attempt_disposition", "Last Attempt Disposition", free_text=True),
        _column("appointment_at", "Appointment", show=csv_time, kind="time"),
    ),
)


# -- the Summary's fields -----------------------------------------------------------


def run_duration(summary: Row, now: dt.datetime | None = None) -> str:
    """From start to finish; while the run is in progress, the time so far."""
    if summary.in_progress_at is None:
        return ""
    if summary.completed_at is not None:
        return format_between(summary.in_progress_at, summary.completed_at)
    if summary.status is RunStatus.IN_PROGRESS:
        now = now or dt.datetime.now(dt.timezone.utc)
        return format_between(summary.in_progress_at, now) + " so far"
    return ""


class SummaryField(NamedTuple):
    field: str
    value: str


def not_applicable_reason(events: Sequence[Row]) -> str | None:
    """Why a run ended Not Applicable, from its events (the engine records it there)."""
    from enroller_desktop.engine.runs import NOT_APPLICABLE_BECAUSE

    return next((e.message.removeprefix(NOT_APPLICABLE_BECAUSE) for e in events
                 if e.message.startswith(NOT_APPLICABLE_BECAUSE)), None)


def summary_fields(summary: Row, now: dt.datetime | None = None, *, events: Sequence[Row] = (),
                   times: ShownTimes | None = None, count: Callable[[int | None], str] = plain_count) -> list[SummaryField]:
    """The Summary tab: the old help page's fields in its order (a Not Applicable run's
    reason after its Status, taken from ``events``: an Events row cuts it off),
    then Expired and Error Message where they apply, then the as-of time every
    relative date counts from and, for a Customer Evaluation, the customer. Times
    and counts as a CSV holds them, unless ``times`` and ``count`` say how the
    window shows them."""
    show_time = times or csv_time
    fields = [
        ("Created At", show_time(summary.created_at)),
        ("Organization", summary.organization_name),
        ("Campaign", summary.campaign_name),
        ("Purpose", summary.purpose.label),
        ("Status", summary.status.label),
    ]
    if summary.status is RunStatus.NOT_APPLICABLE:
        fields.append(("Not Applicable Because", format_text(not_applicable_reason(events))))
    fields += [
        ("Step", format_label(summary.step)),
        ("Duration", run_duration(summary, now)),
        ("In Progress At", show_time(summary.in_progress_at)),
        ("Completed At", show_time(summary.completed_at)),
        ("Query Param Customers", count(summary.query_param_customers)),
        ("Potential Customers", count(summary.potential_customers)),
        ("Potential Events", count(summary.potential_events)),
        ("Eligible", count(summary.eligible)),
        ("Success", count(summary.success)),
    ]
    if summary.purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE or summary.expired is not None:
        fields.append(("Expired", count(summary.expired)))
    if summary.error_message or summary.status is RunStatus.ERROR:
        fields.append(("Error Message", format_text(summary.error_message)))
    fields.append(("As Of", show_time(summary.as_of)))
    if summary.scheduled_for is not None:
        fields.append(("Scheduled For", show_time(summary.scheduled_for)))
    if summary.customer_id is not None:
        name = " ".join(part for part in (summary.customer_first_name, summary.customer_last_name) if part)
        fields.append(("Customer", f"{name} (id {summary.customer_id})" if name else f"id {summary.customer_id}"))
    return [SummaryField(*pair) for pair in fields]


def run_title(summary: Row, times: ShownTimes | None = None) -> str:
    """The window's title: the campaign and the run's time."""
    return f"{summary.campaign_name} — {summary.purpose.label} run {summary.id} of {(times or csv_time)(summary.created_at)}"


# -- reading a table whole (the export) ----------------------------------------------


@dataclass(frozen=True)
class TableSource:
    """Where an export reads a table's rows: a :class:`RunTable` and either a
    keyset listing (the large tables, under the window's filter and sort) or a
    function returning every row (the small ones)."""

    table: RunTable
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
    def rows(self, conn: Connection, size: int) -> Iterator[detail_queries.DriverRows]:
        """Every row, a batch at a time: a large table's straight from the driver,
        a small one's as the Rows it reads."""
        if self.listing is not None:
            with self.listing.driver_rows(conn, size, self.table.fields, pack=self.table.category_fields) as rows:
                yield rows
            return
        every = self.read_all(conn)
        fields = every[0]._fields if every else ()
        yield detail_queries.DriverRows(fields, (None,) * len(fields), (every[start : start + size] for start in range(0, len(every), size)))


TAB_NAMES = ("summary", "events", "query-params", "potentials", "campaign-customers")


def run_tab_source(summary: Row, tab: str, *, times: ShownTimes | None = None, **listing_kw) -> TableSource:
    """The whole of one tab of the run ``summary`` describes; ``listing_kw`` (filter,
    sort) narrows the large tables as the window does; ``times`` writes the times
    as shown instead of in ISO 8601 UTC."""
    run_id = summary.id
    if tab == "summary":
        return TableSource(SUMMARY, read_all=lambda conn: summary_fields(
            detail_queries.run_summary(conn, run_id), events=detail_queries.run_events(conn, run_id), times=times), times=times)
    if tab == "events":
        return TableSource(EVENTS.for_csv(times), read_all=lambda conn: detail_queries.run_events(conn, run_id), times=times)
    if tab == "query-params":
        return TableSource(QUERY_PARAMS.for_csv(times), read_all=lambda conn: detail_queries.run_query_param_rows(conn, run_id), times=times)
    if tab == "potentials":
        return TableSource(run_potentials_table(summary).for_csv(times),
                           listing=detail_queries.potential_listing(summary, **listing_kw), tab=tab, times=times)
    if tab == "campaign-customers":
        return TableSource(CAMPAIGN_CUSTOMERS.for_csv(times), listing=detail_queries.campaign_customer_listing(summary, **listing_kw),
                           tab=tab, times=times)
    raise ValueError(f"unknown tab {tab!r}: one of {', '.join(TAB_NAMES)}")

