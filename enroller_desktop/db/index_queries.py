"""The queries of the main window: the Enroller Runs index, its filters and trends.

The window never builds SQL; it describes what it wants with a :class:`RunFilter`
and a :class:`RunSort`, and these functions answer with plain rows.

Paging is by keyset: a page continues after (or before) the sort key of a row the
window already holds, so scrolling costs one short index range per page whatever
the table's size. A page far from anything loaded (a scroll-bar drag to the
middle) is found once by OFFSET, and its neighbours then continue by keyset.

Every list of runs is bounded by a *watermark*, the highest run id the window has
seen: rows keep their positions while other clients add runs, until the window
asks for the newer ones (:func:`newer_runs`) and puts them on top.

Readings: the created date range is a range of dates, both ends included, counted
in the zone the user reads times in (:attr:`RunFilter.day_zone`; RULES §3's "all
dates are UTC dates" is about the funnel's rules, and UTC stays the default
here): its bounds are worked out in that zone and compared in UTC. With "each
organization's own zone" a run's day is its organization's day, so the bounds
are worked out once per zone the organizations use. An empty purpose or status
selection matches no run: it is what the user ticked, and "nothing ticked"
shows nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db.enums import RunPurpose, RunStatus, RunStep
from enroller_desktop.db.models import Campaign, EnrollerRun, Organization
from enroller_desktop.times import day_bounds, zone

UTC = dt.timezone.utc
runs = EnrollerRun.__table__
orgs = Organization.__table__
campaigns = Campaign.__table__


@dataclass(frozen=True)
class RunFilter:
    """What the filter dock selects. ``None`` for a set means "all values"."""

    created_from: dt.date | None = None
    created_to: dt.date | None = None
    organization_id: int | None = None
    campaign_id: int | None = None
    purposes: frozenset[RunPurpose] | None = None
    statuses: frozenset[RunStatus] | None = None
    #: The zone the created dates are days of (an IANA name; an unknown one is
    #: UTC), or None for each run's own organization's zone.
    day_zone: str | None = "UTC"


#: The sortable columns of the index, by the window's column key.
SORT_KEYS = (
    "id",
    "created_at",
    "organization",
    "campaign",
    "purpose",
    "status",
    "query_param_customers",
    "potential_customers",
    "potential_events",
    "eligible",
    "success",
    "in_progress_at",
    "completed_at",
    "duration",
    "run_id",
    "scheduled_for",
)


@dataclass(frozen=True)
class RunSort:
    """A column key of :data:`SORT_KEYS` and a direction. Empty values (NULL) sort
    as the largest, as PostgreSQL does by default: last ascending, first descending."""

    key: str = "created_at"
    descending: bool = True

    def __post_init__(self) -> None:
        if self.key not in SORT_KEYS:
            raise ValueError(f"unknown sort column {self.key!r}")


NEWEST_FIRST = RunSort()


@dataclass(frozen=True)
class IndexRow:
    """One line of the index, as read; ``sort_key`` is the keyset position."""

    id: int
    created_at: dt.datetime
    organization: str
    campaign: str
    purpose: RunPurpose
    status: RunStatus
    query_param_customers: int | None
    potential_customers: int | None
    potential_events: int | None
    eligible: int | None
    success: int | None
    in_progress_at: dt.datetime | None
    completed_at: dt.datetime | None
    error_message: str | None
    organization_timezone: str | None  # as stored: may be empty or unknown (see enroller_desktop.times)
    scheduled_for: dt.datetime | None
    campaign_id: int
    step: RunStep
    expired: int | None
    sort_key: tuple = field(compare=False, repr=False)

    @property
    def duration(self) -> dt.timedelta | None:
        """Start to finish; for a run still in progress, the time it has run so far."""
        if self.in_progress_at is None:
            return None
        end = self.completed_at or (dt.datetime.now(dt.timezone.utc) if self.status is RunStatus.IN_PROGRESS else None)
        return end - self.in_progress_at if end else None


def _duration_seconds(dialect: str):
    if dialect == "sqlite":
        # julianday() is a float of days: round to the millisecond so that equal
        # durations compare equal (and fall back to the id, as on PostgreSQL).
        return sa.func.round((sa.func.julianday(runs.c.completed_at) - sa.func.julianday(runs.c.in_progress_at)) * 86400.0, 3)
    return sa.extract("epoch", runs.c.completed_at - runs.c.in_progress_at)


def _day(column, dialect: str):
    """The UTC date of a stored (naive UTC) timestamp, as ISO text on both databases."""
    if dialect == "sqlite":
        return sa.func.date(column)
    return sa.func.to_char(column, "YYYY-MM-DD")


def _sort_columns(sort: RunSort, dialect: str) -> list:
    """The non-null expressions that order the rows, the run id last (ties)."""
    if sort.key == "id":
        return [runs.c.id]
    if sort.key == "created_at":
        return [runs.c.created_at, runs.c.id]  # never NULL: the index serves it as is
    value = {
        "organization": orgs.c.name,
        "campaign": campaigns.c.name,
        "purpose": runs.c.purpose,
        "status": runs.c.status,
        "duration": _duration_seconds(dialect),
        "run_id": runs.c.id,
    }.get(sort.key)
    if value is None:
        value = runs.c[sort.key]
    zero = {
        "organization": "",
        "campaign": "",
        "purpose": "",
        "status": "",
        "in_progress_at": dt.datetime(1970, 1, 1),
        "completed_at": dt.datetime(1970, 1, 1),
        "scheduled_for": dt.datetime(1970, 1, 1),
        "duration": 0.0,
    }.get(sort.key, 0)
    is_empty = sa.case((value.is_(None), 1), else_=0)
    return [is_empty, sa.func.coalesce(value, zero), runs.c.id]


class _Unindexed(ColumnElement):
    """A column that SQLite must not look up by its index (rendered ``+column``).

    Asked for a page in creation order with a status or purpose filter, SQLite
    picks that column's index, then sorts every matching run to return 200: 0.6 s
    over 100,000 runs. Kept off that index, it walks the creation order and stops
    after a page. PostgreSQL's planner weighs this itself: it sees the column.
    """

    inherit_cache = True

    def __init__(self, column) -> None:
        self.column = column
        self.type = column.type


@compiles(_Unindexed)
def _render_plain(element, compiler, **kw):
    return compiler.process(element.column, **kw)


@compiles(_Unindexed, "sqlite")
def _render_unindexed(element, compiler, **kw):
    return "+" + compiler.process(element.column, **kw)


def _created_between(conn: Connection, f: RunFilter) -> list:
    """The clauses of the created date range (see the module's readings)."""
    if f.created_from is None and f.created_to is None:
        return []

    def between(zone_name: str | None) -> list:
        start, end = day_bounds(f.created_from, f.created_to, zone_name)
        clauses = []
        if start is not None:
            clauses.append(runs.c.created_at >= start)
        if end is not None:
            clauses.append(runs.c.created_at < end)
        return clauses

    by_zone = _organizations_by_zone(conn, f)
    if len(by_zone) == 1:
        return between(next(iter(by_zone)))
    return [sa.or_(*(sa.and_(runs.c.organization_id.in_(ids), *between(key)) for key, ids in by_zone.items()))]


def _organizations_by_zone(conn: Connection, f: RunFilter) -> dict[str, list[int] | None]:
    """The zones days are counted in, each with its organizations' ids (None: all)."""
    if f.day_zone is not None:
        return {zone(f.day_zone).key: None}
    by_zone: dict[str, list[int] | None] = {}
    for org_id, name in conn.execute(sa.select(orgs.c.id, orgs.c.timezone).order_by(orgs.c.id)):
        by_zone.setdefault(zone(name).key, []).append(org_id)
    if len(by_zone) <= 1:
        return {next(iter(by_zone), "UTC"): None}
    return by_zone


def _offsets(tz: dt.tzinfo, first: dt.datetime, last: dt.datetime) -> list[tuple[dt.datetime | None, int]]:
    """The zone's UTC offsets from ``first`` to ``last``: (until, seconds) pairs,
    the last one's until None. A transition is found to the second."""

    def offset(at: dt.datetime) -> int:
        return int(at.astimezone(tz).utcoffset().total_seconds())

    segments: list[tuple[dt.datetime | None, int]] = []
    day = dt.datetime.combine(first.date() - dt.timedelta(days=1), dt.time(), UTC)
    current = offset(day)
    while day <= last:
        following = day + dt.timedelta(days=1)
        if offset(following) != current:
            low, high = day, following  # offset(low) == current != offset(high)
            while high - low > dt.timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if offset(middle) == current else (low, middle)
            segments.append((high, current))
            current = offset(high)
        day = following
    segments.append((None, current))
    return segments


def _local_day(conn: Connection, f: RunFilter):
    """The date (ISO text) a run was created on, on the clock days are counted on
    (:attr:`RunFilter.day_zone`, or each run's organization's): the stored UTC
    time shifted by the zone's offset of the moment, the offsets changing at the
    zone's transitions between the first and the last run."""
    dialect = conn.dialect.name
    first, last = conn.execute(sa.select(sa.func.min(runs.c.created_at), sa.func.max(runs.c.created_at))).one()
    by_zone = _organizations_by_zone(conn, f)
    if first is None or by_zone == {"UTC": None}:
        return _day(runs.c.created_at, dialect)
    first, last = (value.replace(tzinfo=UTC) if value.tzinfo is None else value for value in (first, last))

    def shifted(seconds: int):
        if dialect == "sqlite":
            return sa.func.date(runs.c.created_at, f"{seconds:+d} seconds")
        return sa.func.to_char(runs.c.created_at + sa.literal(dt.timedelta(seconds=seconds), sa.Interval), "YYYY-MM-DD")

    def in_zone(key: str):
        segments = _offsets(zone(key).tz, first, last)
        if len(segments) == 1:
            return shifted(segments[0][1])
        return sa.case(*((runs.c.created_at < until, shifted(seconds)) for until, seconds in segments[:-1]), else_=shifted(segments[-1][1]))

    if len(by_zone) == 1:
        return in_zone(next(iter(by_zone)))
    return sa.case(*((runs.c.organization_id.in_(ids), in_zone(key)) for key, ids in by_zone.items()))


def _where(conn: Connection, f: RunFilter, watermark: int | None, sort: RunSort | None = None) -> list:
    in_creation_order = sort is not None and sort.key in ("created_at", "id")
    status = _Unindexed(runs.c.status) if in_creation_order else runs.c.status
    purpose = _Unindexed(runs.c.purpose) if in_creation_order else runs.c.purpose
    clauses = _created_between(conn, f)
    if f.organization_id is not None:
        clauses.append(runs.c.organization_id == f.organization_id)
    if f.campaign_id is not None:
        clauses.append(runs.c.campaign_id == f.campaign_id)
    if f.purposes is not None:
        clauses.append(purpose.in_(sorted(f.purposes)) if f.purposes else sa.false())
    if f.statuses is not None:
        clauses.append(status.in_(sorted(f.statuses)) if f.statuses else sa.false())
    if watermark is not None:
        clauses.append(runs.c.id <= watermark)
    return clauses


def _select_rows(dialect: str, sort: RunSort):
    keys = _sort_columns(sort, dialect)
    columns = [
        runs.c.id,
        runs.c.created_at,
        orgs.c.name.label("organization"),
        campaigns.c.name.label("campaign"),
        runs.c.purpose,
        runs.c.status,
        runs.c.query_param_customers,
        runs.c.potential_customers,
        runs.c.potential_events,
        runs.c.eligible,
        runs.c.success,
        runs.c.in_progress_at,
        runs.c.completed_at,
        runs.c.error_message,
        orgs.c.timezone.label("organization_timezone"),
        runs.c.scheduled_for,
        runs.c.campaign_id,
        runs.c.step,
        runs.c.expired,
    ]
    query = sa.select(*columns, *[k.label(f"_k{i}") for i, k in enumerate(keys)]).select_from(
        runs.join(orgs, orgs.c.id == runs.c.organization_id).join(campaigns, campaigns.c.id == runs.c.campaign_id)
    )
    return query, keys


def _rows(result, key_count: int) -> list[IndexRow]:
    out = []
    for r in result:
        values = tuple(r)
        base, key = values[:-key_count], values[-key_count:]
        out.append(
            IndexRow(
                *base[:4],
                RunPurpose(base[4]),
                RunStatus(base[5]),
                *base[6:-2],
                RunStep(base[-2]),
                base[-1],
                sort_key=tuple(key),
            )
        )
    return out


def count_runs(conn: Connection, f: RunFilter, *, watermark: int | None = None) -> int:
    """How many runs match the filter (up to the watermark)."""
    return conn.execute(sa.select(sa.func.count()).select_from(runs).where(*_where(conn, f, watermark))).scalar_one()


def max_run_id(conn: Connection) -> int:
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(runs.c.id), 0))).scalar_one()


def page(
    conn: Connection,
    f: RunFilter,
    sort: RunSort,
    *,
    limit: int,
    after: tuple | None = None,
    before: tuple | None = None,
    offset: int | None = None,
    from_end: bool = False,
    watermark: int | None = None,
) -> list[IndexRow]:
    """Up to ``limit`` runs in display order.

    ``after``/``before`` continue from the sort key of a row already shown;
    ``from_end`` gives the last ``limit`` rows; ``offset`` seeks (used only for a
    page that has no loaded neighbour).
    """
    query, keys = _select_rows(conn.dialect.name, sort)
    query = query.where(*_where(conn, f, watermark, sort))
    # Reading backwards (before a row, or from the end) flips the order, then the
    # rows are put back in display order.
    backwards = before is not None or from_end
    forward_desc = sort.descending
    desc = forward_desc != backwards
    if after is not None:
        mark = _key_literal(keys, after)
        query = query.where((sa.tuple_(*keys) < mark) if forward_desc else (sa.tuple_(*keys) > mark))
    if before is not None:
        mark = _key_literal(keys, before)
        query = query.where((sa.tuple_(*keys) > mark) if forward_desc else (sa.tuple_(*keys) < mark))
    query = query.order_by(*[k.desc() if desc else k.asc() for k in keys]).limit(limit)
    if offset:
        query = query.offset(offset)
    rows = _rows(conn.execute(query), len(keys))
    if backwards:
        rows.reverse()
    return rows


def _key_literal(keys: list, values: tuple):
    # Bound with the key's own type, so that a time goes in as stored (naive UTC).
    return sa.tuple_(*[sa.literal(v, k.type) for k, v in zip(keys, values, strict=True)])


def runs_by_id(conn: Connection, ids: Sequence[int], sort: RunSort = NEWEST_FIRST) -> list[IndexRow]:
    """The current state of the given runs (to refresh visible rows)."""
    if not ids:
        return []
    query, keys = _select_rows(conn.dialect.name, sort)
    return _rows(conn.execute(query.where(runs.c.id.in_(list(ids)))), len(keys))


def newer_runs(conn: Connection, f: RunFilter, sort: RunSort, *, watermark: int, limit: int = 1000) -> list[IndexRow]:
    """Matching runs created after the watermark, in display order."""
    query, keys = _select_rows(conn.dialect.name, sort)
    query = query.where(*_where(conn, f, None), runs.c.id > watermark)  # few rows past the watermark: any index will do
    query = query.order_by(*[k.desc() if sort.descending else k.asc() for k in keys]).limit(limit)
    return _rows(conn.execute(query), len(keys))


def organization_zones(conn: Connection) -> list[str | None]:
    """The time zones the organizations name, as stored (each once)."""
    return [name for (name,) in conn.execute(sa.select(orgs.c.timezone).distinct())]


@dataclass(frozen=True)
class DayStatusCount:
    day: dt.date
    status: RunStatus
    runs: int


def runs_per_day(conn: Connection, f: RunFilter) -> list[DayStatusCount]:
    """Matching runs per creation date (on the clock of :attr:`RunFilter.day_zone`)
    and status (the stacked bars of Trends)."""
    day = _local_day(conn, f).label("day")
    query = sa.select(day, runs.c.status, sa.func.count()).where(*_where(conn, f, None)).group_by(day, runs.c.status).order_by(day)
    return [DayStatusCount(dt.date.fromisoformat(d), RunStatus(s), n) for d, s, n in conn.execute(query)]


def median_duration_per_day(conn: Connection, f: RunFilter) -> list[tuple[dt.date, float]]:
    """The median duration in seconds of the matching finished runs, per creation
    date (on the clock of :attr:`RunFilter.day_zone`). Written with window functions, which both databases have
    (SQLite has no percentile function): the middle row, or the mean of the two."""
    dialect = conn.dialect.name
    seconds = _duration_seconds(dialect)
    day = _local_day(conn, f)
    ranked = (
        sa.select(
            day.label("day"),
            seconds.label("seconds"),
            sa.func.row_number().over(partition_by=day, order_by=seconds).label("n"),
            sa.func.count().over(partition_by=day).label("total"),
        )
        .where(*_where(conn, f, None), runs.c.in_progress_at.is_not(None), runs.c.completed_at.is_not(None))
        .subquery()
    )
    middle = sa.or_(ranked.c.n == (ranked.c.total + 1) // 2, ranked.c.n == (ranked.c.total + 2) // 2)
    query = (
        sa.select(ranked.c.day, sa.func.avg(ranked.c.seconds))
        .where(middle)
        .group_by(ranked.c.day)
        .order_by(ranked.c.day)
    )
    return [(dt.date.fromisoformat(d), float(s)) for d, s in conn.execute(query)]
