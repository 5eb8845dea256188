"""Every query of the run detail window and of the CSV export of a run's tables.

Plain SQLAlchemy Core, no Qt. The window describes what it wants (a run id, a
:class:`PotentialFilter`, a sort column) and these functions answer with rows.

The two tables that can hold a million rows, the potentials and the campaign
customers, are read as a :class:`Listing`: counted in SQL, filtered and sorted in
SQL, and read in keyset pages that continue after (or before) the sort key of a row
already held, so a page costs one short range whatever the table's size. A page
far from anything loaded (a scroll-bar drag) is found once by OFFSET. An export
streams the same query in batches on the driver's own cursor.

Readings:

- Empty values (NULL) sort as the largest: last ascending, first descending, as
  in the main window. Text sorts without regard to ASCII case, then by code point
  (RULES §3), the same on SQLite and PostgreSQL.
- A name search matches the text anywhere in the first name, the last name, or
  "first last", without regard to case or accents (see ``db.folding``).
- The campaign customers of a run are the enrollments it made; for a Campaign
  Evaluation and Expire run also the enrollments it expired, recognised as those
  of its campaign whose ``expired_at`` is the run's as-of time (RULES §5 sets exactly
  that), since the schema records no expiring run id.
- The funnel's boxes and arrows select the potentials by the predicates of
  :mod:`enroller_desktop.db.stages`, the same the engine counts them with.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db import explain_queries, folding
from enroller_desktop.db.export_rows import DriverRows, Packing, driver_rows, packed
from enroller_desktop.db.folding import ascii_case_key
from enroller_desktop.db.enums import Check, PotentialStatus, RunPurpose
from enroller_desktop.db.models import (
    Campaign,
    CampaignCustomer,
    Customer,
    EnrollerRun,
    EnrollerRunCustomer,
    EnrollerRunEvent,
    EnrollerRunQueryParam,
    Organization,
    QueryParam,
    Vehicle,
)
from enroller_desktop.db.stages import FunnelSlice, slice_condition
from enroller_desktop.db.types import UTCDateTime
from enroller_desktop.errors import UserError

runs = EnrollerRun.__table__
campaigns = Campaign.__table__
organizations = Organization.__table__
customers = Customer.__table__
vehicles = Vehicle.__table__
query_params = QueryParam.__table__
run_query_params = EnrollerRunQueryParam.__table__
events = EnrollerRunEvent.__table__
potentials = EnrollerRunCustomer.__table__
campaign_customers = CampaignCustomer.__table__

#: What an empty value sorts as, so that it comes last ascending.
_LAST_TEXT = "\U0010ffff"
_LAST_TIME = dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc)
_LAST_CHECK = 2


class RunNotFound(UserError):
    def __init__(self, run_id: int) -> None:
        super().__init__(f"No enroller run with id {run_id}")


# -- the run and its small tables ---------------------------------------------------


def run_summary(conn: Connection, run_id: int) -> Row:
    """The run's row with its organization and campaign names and, for a Customer
    Evaluation, its customer's name; raises :class:`RunNotFound`."""
    query = (
        sa.select(
            runs,
            organizations.c.name.label("organization_name"),
            organizations.c.timezone.label("organization_timezone"),
            organizations.c.country.label("organization_country"),
            campaigns.c.name.label("campaign_name"),
            customers.c.first_name.label("customer_first_name"),
            customers.c.last_name.label("customer_last_name"),
        )
        .join(organizations, organizations.c.id == runs.c.organization_id)
        .join(campaigns, campaigns.c.id == runs.c.campaign_id)
        .outerjoin(customers, customers.c.id == runs.c.customer_id)
        .where(runs.c.id == run_id)
    )
    row = conn.execute(query).one_or_none()
    if row is None:
        raise RunNotFound(run_id)
    return row


def run_events(conn: Connection, run_id: int) -> list[Row]:
    """The run's events in the order they were written."""
    query = (
        sa.select(events.c.id, events.c.stage, events.c.level, events.c.message, events.c.row_count, events.c.created_at, events.c.duration_ms)
        .where(events.c.run_id == run_id)
        .order_by(events.c.id)
    )
    return list(conn.execute(query))


def run_query_param_rows(conn: Connection, run_id: int) -> list[Row]:
    """The run's query params in process order, with their name, criterion and the
    run's organization and campaign."""
    rqp = run_query_params.c
    query = (
        sa.select(
            rqp.id,
            organizations.c.name.label("organization_name"),
            campaigns.c.name.label("campaign_name"),
            rqp.process_order,
            query_params.c.name,
            query_params.c.criterion,
            query_params.c.event_key,
            rqp.status,
            rqp.total_customers,
            rqp.average_potential_duration_ms,
            rqp.query_attempts,
            rqp.created_at,
            rqp.in_progress_at,
            rqp.completed_at,
        )
        .select_from(run_query_params)
        .join(query_params, query_params.c.id == rqp.query_param_id)
        .join(runs, runs.c.id == rqp.run_id)
        .join(organizations, organizations.c.id == runs.c.organization_id)
        .join(campaigns, campaigns.c.id == runs.c.campaign_id)
        .where(rqp.run_id == run_id)
        .order_by(rqp.process_order, rqp.id)
    )
    return list(conn.execute(query))


# -- the large tables --------------------------------------------------------------


@dataclass(frozen=True)
class PotentialFilter:
    """What the Potentials tab's filters select; the defaults select every row."""

    status: PotentialStatus | None = None
    failed_check: Check | None = None
    name: str = ""
    funnel: FunnelSlice | None = None
    failed_only: str | None = None  # a condition of db.explain_queries: failed it and no other
    customer_id: int | None = None


def _text_key(column, dialect: str) -> ColumnElement:
    """ASCII case folded, then code point order (:func:`folding.ascii_case_key`), NULL last."""
    return ascii_case_key(sa.func.coalesce(column, _LAST_TEXT, type_=sa.Text), dialect)


def _time_key(column) -> ColumnElement:
    return sa.func.coalesce(column, sa.literal(_LAST_TIME, UTCDateTime()), type_=UTCDateTime())


def _check_key(column) -> ColumnElement:
    return sa.func.coalesce(column, _LAST_CHECK)


@dataclass(frozen=True)
class Listing:
    """One run's rows of a large table, under a filter and a sort.

    ``sort`` is a column key of the table's ``SORT_KEYS`` (None: the order the rows
    were written). A page's rows carry ``sort_key`` and ``id``: :meth:`key_of`
    gives the keyset position a next or previous page continues from.
    """

    run_id: int
    sort: str | None = None
    descending: bool = False
    SORT_KEYS: ClassVar[dict[str, Any]] = {}
    TEXT_SORT_KEYS: ClassVar[frozenset[str]] = frozenset()

    def __post_init__(self) -> None:
        if self.sort is not None and self.sort not in self.SORT_KEYS:
            raise ValueError(f"cannot sort by {self.sort!r}")

    # What each table defines.
    def _select(self) -> sa.Select:
        raise NotImplementedError

    def _where(self) -> list[ColumnElement[bool]]:
        raise NotImplementedError

    def _id_column(self):
        raise NotImplementedError

    def _sort_expression(self, dialect: str) -> ColumnElement | None:
        if self.sort is None:
            return None
        column = self.SORT_KEYS[self.sort]()
        if self.sort in self.TEXT_SORT_KEYS:
            return _text_key(column, dialect)
        return column

    def query(self, dialect: str) -> sa.Select:
        """All rows in order, each with ``sort_key`` (when sorted) and ``id``."""
        key = self._sort_expression(dialect)
        select = self._select().where(*self._where())
        ident = self._id_column()
        if key is None:
            return select.order_by(ident.desc() if self.descending else ident)
        select = select.add_columns(key.label("sort_key"))
        if self.descending:
            return select.order_by(key.desc(), ident.desc())
        return select.order_by(key, ident)

    def key_of(self, row: Row) -> tuple:
        return (row.id,) if self.sort is None else (row.sort_key, row.id)

    def _after(self, dialect: str, key: tuple, forward: bool) -> ColumnElement[bool]:
        ident = self._id_column()
        expression = self._sort_expression(dialect)
        later = forward != self.descending
        if expression is None:
            return ident > key[0] if later else ident < key[0]
        left = sa.tuple_(expression, ident)
        right = sa.tuple_(sa.literal(key[0], expression.type), sa.literal(key[1], ident.type))
        return left > right if later else left < right

    def count(self, conn: Connection) -> int:
        # Over the table alone: the joins only add names and vehicles, never rows.
        return conn.execute(sa.select(sa.func.count()).select_from(self._id_column().table).where(*self._where())).scalar_one()

    def page_after(self, conn: Connection, key: tuple | None, limit: int) -> list[Row]:
        """The ``limit`` rows that follow ``key`` (None: the first rows)."""
        dialect = conn.dialect.name
        query = self.query(dialect)
        if key is not None:
            query = query.where(self._after(dialect, key, forward=True))
        return list(conn.execute(query.limit(limit)))

    def page_before(self, conn: Connection, key: tuple, limit: int) -> list[Row]:
        """The ``limit`` rows that precede ``key``, in order."""
        dialect = conn.dialect.name
        reverse = dataclasses.replace(self, descending=not self.descending)
        query = reverse.query(dialect).where(self._after(dialect, key, forward=False))
        rows = list(conn.execute(query.limit(limit)))
        rows.reverse()
        return rows

    def page_at(self, conn: Connection, offset: int, limit: int) -> list[Row]:
        """The rows from position ``offset``: for a jump far from any loaded page.
        The skipped rows are counted over the sort key alone (an index scan, no
        joins), then the page continues by keyset from there."""
        if offset <= 0:
            return self.page_after(conn, None, limit)
        dialect = conn.dialect.name
        keys = self._key_query(dialect).offset(offset - 1).limit(1)
        before = conn.execute(keys).one_or_none()
        if before is None:
            return []
        return self.page_after(conn, self.key_of(before), limit)

    def _key_from(self) -> sa.FromClause:
        """The tables the sort keys need (the large table alone, unless a key is elsewhere)."""
        return self._id_column().table

    def _key_query(self, dialect: str) -> sa.Select:
        ident = self._id_column()
        key = self._sort_expression(dialect)
        select = sa.select(ident.label("id")).select_from(self._key_from()).where(*self._where())
        if key is None:
            return select.order_by(ident.desc() if self.descending else ident)
        select = select.add_columns(key.label("sort_key"))
        return select.order_by(key.desc(), ident.desc()) if self.descending else select.order_by(key, ident)

    def export_query(self, dialect: str, fields: Collection[str], pack: Collection[str] = ()) -> tuple[sa.Select, Packing | None]:
        """All rows in order with only the ``fields`` named (what an export shows,
        not the keys it is ordered by), those of ``pack`` that take few values
        read as one (see :class:`Packing`)."""
        query = self.query(dialect)
        return packed(query.with_only_columns(*(column for column in query.selected_columns if column.key in fields)), pack)

    @contextlib.contextmanager
    def driver_rows(self, conn: Connection, batch_size: int, fields: Collection[str], pack: Collection[str] = (),
                    *, offset: int = 0, limit: int | None = None) -> Iterator[DriverRows]:
        """The :meth:`export_query`'s rows as the driver gives them (see
        :class:`DriverRows`); with ``offset`` and ``limit``, only that part of them."""
        query, packing = self.export_query(conn.dialect.name, fields, pack)
        if offset or limit is not None:
            query = query.offset(offset).limit(limit)
        with driver_rows(conn, query, batch_size) as rows:
            yield dataclasses.replace(rows, packing=packing)


_p = potentials.c


@dataclass(frozen=True)
class PotentialListing(Listing):
    """A run's potentials, with the vehicle each candidate is about."""

    purpose: RunPurpose = RunPurpose.DEFAULT
    filter: PotentialFilter = field(default_factory=PotentialFilter)

    SORT_KEYS: ClassVar[dict[str, Any]] = {
        "first_name": lambda: _p.first_name,
        "last_name": lambda: _p.last_name,
        "status": lambda: _p.status,
        "is_valid": lambda: _p.is_valid,
        **{check.value: (lambda c=check.value: _check_key(_p[c])) for check in Check},
        "validated_at": lambda: _time_key(_p.validated_at),
        "consent_basis": lambda: sa.func.coalesce(_p.consent_basis, _LAST_TEXT, type_=sa.Text),
        "consent_evidence_at": lambda: _time_key(_p.consent_evidence_at),
        "consent_lapses_on": lambda: sa.func.coalesce(_p.consent_lapses_on, sa.literal(dt.date.max, sa.Date), type_=sa.Date),
    }
    TEXT_SORT_KEYS: ClassVar[frozenset[str]] = frozenset({"first_name", "last_name"})

    def _select(self) -> sa.Select:
        return sa.select(
            _p.id,
            _p.first_name,
            _p.last_name,
            vehicles.c.year,
            vehicles.c.make,
            vehicles.c.model,
            _p.status,
            _p.is_valid,
            *(_p[check.value] for check in Check),
            _p.validated_at,
            _p.consent_basis,
            _p.consent_evidence_at,
            _p.consent_lapses_on,
        ).select_from(potentials.outerjoin(vehicles, vehicles.c.id == _p.vehicle_id))

    def _id_column(self):
        return _p.id

    def _where(self) -> list[ColumnElement[bool]]:
        wanted = self.filter
        conditions = [_p.run_id == self.run_id]
        if wanted.status is not None:
            conditions.append(_p.status == wanted.status.value)
        if wanted.failed_check is not None:
            conditions.append(_p[wanted.failed_check.value] == 0)
        name = wanted.name.strip()
        if name:
            # "first last" holds each name whole, so one match covers all three.
            full_name = sa.func.coalesce(_p.first_name, "") + " " + sa.func.coalesce(_p.last_name, "")
            conditions.append(folding.contains(full_name, name))
        if wanted.funnel is not None:
            conditions.append(slice_condition(wanted.funnel, self.purpose))
        if wanted.failed_only is not None:
            conditions.append(explain_queries.failed_only(wanted.failed_only))
        if wanted.customer_id is not None:
            conditions.append(_p.customer_id == wanted.customer_id)
        return conditions


def failed_check_counts(conn: Connection, listing: PotentialListing) -> dict[Check, int]:
    """How many of ``listing``'s potentials failed each check, under every filter of
    the listing but its failed check: the rows each choice of the Check filter
    would show. One pass over the run's potentials."""
    unchecked = dataclasses.replace(listing, filter=dataclasses.replace(listing.filter, failed_check=None, failed_only=None))
    columns = [sa.func.coalesce(sa.func.sum(sa.case((_p[check.value] == 0, 1), else_=0)), 0).label(check.value) for check in Check]
    row = conn.execute(sa.select(*columns).select_from(potentials).where(*unchecked._where())).one()
    return {check: int(row._mapping[check.value]) for check in Check}


_cc = campaign_customers.c


@dataclass(frozen=True)
class CampaignCustomerListing(Listing):
    """The campaign customers a run enrolled, and (``expired_at`` set, for a
    Campaign Evaluation and Expire run) those of ``campaign_id`` it expired."""

    campaign_id: int | None = None
    expired_at: dt.datetime | None = None

    SORT_KEYS: ClassVar[dict[str, Any]] = {
        "first_name": lambda: customers.c.first_name,
        "last_name": lambda: customers.c.last_name,
        "purpose": lambda: _cc.purpose,
        "status": lambda: _cc.status,
        "expiration": lambda: sa.func.coalesce(_cc.expiration, _LAST_TEXT, type_=sa.Text),
        "expired_at": lambda: _time_key(_cc.expired_at),
        "last_attempt_at": lambda: _time_key(_cc.last_attempt_at),
        "last_attempt_disposition": lambda: _cc.last_attempt_disposition,
        "appointment_at": lambda: _time_key(_cc.appointment_at),
    }
    TEXT_SORT_KEYS: ClassVar[frozenset[str]] = frozenset({"first_name", "last_name", "last_attempt_disposition"})

    def _select(self) -> sa.Select:
        return sa.select(
            _cc.id,
            customers.c.first_name,
            customers.c.last_name,
            vehicles.c.year,
            vehicles.c.make,
            vehicles.c.model,
            _cc.purpose,
            _cc.status,
            _cc.expiration,
            _cc.expired_at,
            _cc.last_attempt_at,
            _cc.last_attempt_disposition,
            _cc.appointment_at,
        ).select_from(
            campaign_customers.join(customers, customers.c.id == _cc.customer_id).outerjoin(vehicles, vehicles.c.id == _cc.vehicle_id)
        )

    def _id_column(self):
        return _cc.id

    def _key_from(self) -> sa.FromClause:
        return campaign_customers.join(customers, customers.c.id == _cc.customer_id)

    def _where(self) -> list[ColumnElement[bool]]:
        enrolled = _cc.run_id == self.run_id
        if self.expired_at is None:
            return [enrolled]
        expired = sa.and_(_cc.campaign_id == self.campaign_id, _cc.expired_at == sa.literal(self.expired_at, UTCDateTime()))
        return [sa.or_(enrolled, expired)]


def campaign_customer_listing(summary: Row, **kw) -> CampaignCustomerListing:
    """The campaign customers of the run ``summary`` describes (see the module's readings)."""
    expires = summary.purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE and summary.as_of is not None
    return CampaignCustomerListing(
        run_id=summary.id,
        campaign_id=summary.campaign_id,
        expired_at=summary.as_of if expires else None,
        **kw,
    )


def potential_listing(summary: Row, **kw) -> PotentialListing:
    return PotentialListing(run_id=summary.id, purpose=summary.purpose, **kw)
