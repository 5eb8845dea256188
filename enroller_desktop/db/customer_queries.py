"""Finding a customer and reading their story: search, campaigns, history.

Plain SQLAlchemy Core, no Qt.

Readings (a careful compliance officer's):

- A search never crosses organizations the user did not choose: every text
  search names one organization. Only an exact customer id finds a customer
  without one, since an id names one customer and nobody else.
- Search is by prefix, without regard to ASCII case (RULES §3's reading): of the first name, the last name,
  "first last", the email; of the digits of the phone or the mobile, whatever
  the formatting (spaces, dashes, dots, slashes, brackets, a leading +), with or
  without the North American country code 1.
- Speed at a million customers comes from expression indexes (migration 0003),
  not from a digits column: the customers table belongs to other systems, which
  would not keep such a column up to date. Each expression here is written
  exactly as its index is, so that both databases use the index.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db.detail_queries import Listing
from enroller_desktop.db.enums import CampaignCustomerStatus
from enroller_desktop.db.folding import fold_ascii
from enroller_desktop.db.models import (
    Campaign,
    CampaignCustomer,
    Customer,
    CustomerTag,
    EnrollerRun,
    EnrollerRunCustomer,
    Organization,
    Vehicle,
)
from enroller_desktop.errors import UserError

customers = Customer.__table__
organizations = Organization.__table__
tags = CustomerTag.__table__
vehicles = Vehicle.__table__
campaigns = Campaign.__table__
enrollments = CampaignCustomer.__table__
runs = EnrollerRun.__table__
potentials = EnrollerRunCustomer.__table__

SEARCH_LIMIT = 50
#: Characters a phone is written with besides its digits (SQLite strips these; PostgreSQL every non-digit).
PHONE_FORMATTING = (" ", "-", "(", ")", ".", "+", "/")
_LAST = "\U0010ffff"


class CustomerNotFound(UserError):
    def __init__(self, customer_id: int) -> None:
        super().__init__(f"No customer with id {customer_id}")


def _literal(text: str) -> ColumnElement:
    return sa.literal_column("'" + text.replace("'", "''") + "'")


def phone_digits(column, dialect: str) -> ColumnElement:
    """The digits of a phone value, as the expression indexes of migration 0003 have it."""
    if dialect == "postgresql":
        return sa.func.regexp_replace(column, _literal("[^0-9]"), _literal(""), _literal("g"))
    expression = column
    for character in PHONE_FORMATTING:
        expression = sa.func.replace(expression, _literal(character), _literal(""))
    return expression


def ascii_lowered(column, dialect: str) -> ColumnElement:
    """The ASCII letters folded to lower case and nothing else (RULES §3), ordered by
    code point: the text indexes' expression (migration 0003), so spelled as they
    were created (``lower()`` on SQLite, not :func:`folding.ascii_case_key`'s NOCASE). PostgreSQL's lower() would fold all
    of Unicode, so it translates A-Z instead."""
    if dialect == "postgresql":
        return sa.func.translate(column, _literal(string.ascii_uppercase), _literal(string.ascii_lowercase)).collate("C")
    return sa.func.lower(column)


def index_sql(dialect: str) -> list[tuple[str, str]]:
    """(name, column list) of each search index, as SQL the migration creates."""
    from sqlalchemy.dialects import postgresql, sqlite

    compiler = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()

    def sql(expression) -> str:
        return str(expression.compile(dialect=compiler, compile_kwargs={"literal_binds": True}))

    indexes = [(f"ix_customers_search_{name}", f"organization_id, ({sql(ascii_lowered(sa.column(name), dialect))})")
               for name in ("first_name", "last_name", "email")]
    indexes += [(f"ix_customers_search_{name}_digits", f"organization_id, ({sql(phone_digits(sa.column(name), dialect))})")
                for name in ("phone", "mobile")]
    return indexes


def _prefix(expression, text: str) -> ColumnElement[bool]:
    return sa.and_(expression >= text, expression < text + _LAST)


@dataclass(frozen=True)
class Found:
    id: int
    organization_id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    mobile: str | None


_FOUND_COLUMNS = (customers.c.id, customers.c.organization_id, customers.c.first_name, customers.c.last_name,
                  customers.c.email, customers.c.phone, customers.c.mobile)


def search_customers(conn: Connection, text: str, organization_id: int | None, limit: int = SEARCH_LIMIT) -> list[Found]:
    """The customers matching ``text`` in the organization, by last name, first name
    and id. ``organization_id`` None searches only by exact id (see the readings)."""
    text = text.strip()
    if not text:
        return []
    dialect = conn.dialect.name
    c = customers.c
    branches: list[ColumnElement[bool]] = []
    if text.isdigit() and len(text) <= 18:
        branches.append(c.id == int(text))
    if organization_id is not None:
        lowered = fold_ascii(text)
        branches += [_prefix(ascii_lowered(c.last_name, dialect), lowered), _prefix(ascii_lowered(c.first_name, dialect), lowered),
                     _prefix(ascii_lowered(c.email, dialect), lowered)]
        words = lowered.split()
        for cut in range(1, min(len(words), 4)):  # "first last", where either may hold a space
            branches.append(sa.and_(ascii_lowered(c.first_name, dialect) == " ".join(words[:cut]) if cut < len(words) - 1 else
                                    _prefix(ascii_lowered(c.first_name, dialect), " ".join(words[:cut])),
                                    _prefix(ascii_lowered(c.last_name, dialect), " ".join(words[cut:]))))
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) >= 3 and len(digits) * 2 >= len(text.replace(" ", "")):
            for column in (c.phone, c.mobile):
                # with or without the North American country code, on either side
                for typed in {digits, "1" + digits, digits[1:] if digits.startswith("1") else digits}:
                    branches.append(_prefix(phone_digits(column, dialect), typed))
    found: dict[int, Found] = {}
    for branch in branches:
        where = [branch] if organization_id is None else [c.organization_id == organization_id, branch]
        for row in conn.execute(sa.select(*_FOUND_COLUMNS).where(*where).limit(limit)):
            found.setdefault(row.id, Found(*row))
    ordered = sorted(found.values(), key=lambda f: ((f.last_name or _LAST).lower(), (f.first_name or _LAST).lower(), f.id))
    return ordered[:limit]


def organization_choices(conn: Connection) -> list[Row]:
    return list(conn.execute(sa.select(organizations.c.id, organizations.c.name, organizations.c.country)
                             .order_by(organizations.c.name, organizations.c.id)))


# -- one customer ------------------------------------------------------------------


def customer_row(conn: Connection, customer_id: int) -> Row:
    row = conn.execute(
        sa.select(customers, organizations.c.name.label("organization_name"), organizations.c.country,
                  organizations.c.timezone.label("organization_timezone"))
        .join(organizations, organizations.c.id == customers.c.organization_id)
        .where(customers.c.id == customer_id)
    ).one_or_none()
    if row is None:
        raise CustomerNotFound(customer_id)
    return row


def customer_tags(conn: Connection, customer_id: int) -> list[str]:
    return list(conn.execute(sa.select(tags.c.tag).where(tags.c.customer_id == customer_id).order_by(tags.c.tag)).scalars())


def customer_vehicles(conn: Connection, customer_id: int) -> list[Row]:
    return list(conn.execute(sa.select(vehicles).where(vehicles.c.customer_id == customer_id).order_by(vehicles.c.id)))


def organization_campaigns(conn: Connection, organization_id: int) -> list[Row]:
    return list(conn.execute(sa.select(campaigns).where(campaigns.c.organization_id == organization_id)
                             .order_by(campaigns.c.name, campaigns.c.id)))


def active_enrollments(conn: Connection, customer_id: int) -> list[Row]:
    """The customer's enrollments not expired and not completed, newest first."""
    cc = enrollments.c
    return list(conn.execute(
        sa.select(enrollments, vehicles.c.year, vehicles.c.make, vehicles.c.model)
        .outerjoin(vehicles, vehicles.c.id == cc.vehicle_id)
        .where(cc.customer_id == customer_id, cc.expired_at.is_(None), cc.status != CampaignCustomerStatus.COMPLETED.value)
        .order_by(cc.enrolled_at.desc(), cc.id.desc())
    ))


def last_runs(conn: Connection, customer_id: int) -> dict[int, Row]:
    """For each campaign, the newest run that had the customer among its potentials."""
    p, r = potentials.c, runs.c
    considered = (
        sa.select(r.campaign_id, r.id, r.purpose, r.status, r.as_of, r.created_at)
        .join(potentials, p.run_id == r.id)
        .where(p.customer_id == customer_id)
        .distinct()
    )
    newest: dict[int, Row] = {}
    for row in conn.execute(considered):
        held = newest.get(row.campaign_id)
        if held is None or (row.created_at, row.id) > (held.created_at, held.id):
            newest[row.campaign_id] = row
    return newest


def run_potentials_of(conn: Connection, run_id: int, customer_id: int) -> list[Row]:
    """The customer's potentials in one run (one per vehicle), with the vehicle."""
    p = potentials.c
    return list(conn.execute(
        sa.select(potentials, vehicles.c.year, vehicles.c.make, vehicles.c.model)
        .outerjoin(vehicles, vehicles.c.id == p.vehicle_id)
        .where(p.run_id == run_id, p.customer_id == customer_id)
        .order_by(p.id)
    ))


# -- the customer's whole history (lazy) -------------------------------------------


@dataclass(frozen=True)
class CustomerPotentialListing(Listing):
    """Every potential of the customer, in every run, newest first (``run_id`` unused)."""

    customer_id: int = 0
    descending: bool = True

    def _select(self) -> sa.Select:
        p = potentials.c
        return sa.select(
            p.id, p.run_id, runs.c.created_at.label("run_created_at"), runs.c.purpose.label("run_purpose"),
            runs.c.status.label("run_status"), campaigns.c.name.label("campaign_name"),
            vehicles.c.year, vehicles.c.make, vehicles.c.model, p.event_key, p.status, p.is_valid,
            *(p[name] for name in ("valid_email", "valid_phone", "valid_message", "deleted", "unique_event",
                                   "already_in_queue", "casl", "opt_out_all", "marketing_exclusion")),
        ).select_from(
            potentials.join(runs, runs.c.id == p.run_id).join(campaigns, campaigns.c.id == runs.c.campaign_id)
            .outerjoin(vehicles, vehicles.c.id == p.vehicle_id))

    def _where(self) -> list[ColumnElement[bool]]:
        return [potentials.c.customer_id == self.customer_id]

    def _id_column(self):
        return potentials.c.id


@dataclass(frozen=True)
class CustomerEnrollmentListing(Listing):
    """Every campaign customer row of the customer, newest first."""

    customer_id: int = 0
    descending: bool = True

    def _select(self) -> sa.Select:
        cc = enrollments.c
        return sa.select(
            cc.id, campaigns.c.name.label("campaign_name"), vehicles.c.year, vehicles.c.make, vehicles.c.model,
            cc.event_key, cc.run_id, cc.purpose, cc.status, cc.enrolled_at, cc.expiration, cc.expired_at,
            cc.last_attempt_at, cc.last_attempt_disposition, cc.appointment_at,
        ).select_from(enrollments.join(campaigns, campaigns.c.id == cc.campaign_id).outerjoin(vehicles, vehicles.c.id == cc.vehicle_id))

    def _where(self) -> list[ColumnElement[bool]]:
        return [enrollments.c.customer_id == self.customer_id]

    def _id_column(self):
        return enrollments.c.id
