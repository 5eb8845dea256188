"""Builders for the engine's acceptance tests: an organization, a campaign with its
query params, customers with vehicles and tags, enrollments, all written with Core
inserts, and readers of what a run left behind.

Every default makes a candidate pass every check of RULES §3 (a Canadian customer
with a valid email, phone and mobile, express consent, no opt-out, no tag, no
enrollment), so that a test changes one thing and watches one check.

Numbers used (what ``phonenumbers`` says of them):

- ``TORONTO`` +1 416 555 0123: valid in CA only, FIXED_LINE_OR_MOBILE (a mobile);
- ``NEW_YORK`` +1 212 736 5000: valid in US only, FIXED_LINE_OR_MOBILE;
- ``TOLL_FREE`` +1 800 555 0199: valid in CA and US, TOLL_FREE (a phone, not a mobile).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from enroller_desktop.db import models as m
from enroller_desktop.db.enums import CampaignCustomerPurpose, CampaignCustomerStatus, RunPurpose
from enroller_desktop.engine.runs import RunOutcome, create_run, execute_run

#: The installed program, as a user starts it.
ENROLLER = Path(sys.executable).with_name("enroller-desktop")

UTC = dt.timezone.utc
AS_OF = dt.datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
AS_OF_DATE = AS_OF.date()

EMAIL = "jane.doe@example.com"
TORONTO = "+1 416 555 0123"
NEW_YORK = "+1 212 736 5000"
TOLL_FREE = "+1 800 555 0199"
LOCAL_NUMBER = {"CA": TORONTO, "US": NEW_YORK}

#: A criterion every candidate matches (a first name is either empty or not).
EVERYONE = {"any": [{"field": "customer.first_name", "op": "is_null"},
                    {"field": "customer.first_name", "op": "not_null"}]}

CHECKS = ("valid_email", "valid_phone", "valid_message", "deleted", "unique_event", "already_in_queue",
          "casl", "opt_out_all", "marketing_exclusion")
PASSED, FAILED, NOT_APPLICABLE = 1, 0, None

ORGANIZATIONS = m.Organization.__table__
CAMPAIGNS = m.Campaign.__table__
EXCLUDED_TAGS = m.CampaignExcludedTag.__table__
QUERY_PARAMS = m.QueryParam.__table__
CUSTOMERS = m.Customer.__table__
CUSTOMER_TAGS = m.CustomerTag.__table__
VEHICLES = m.Vehicle.__table__
ENROLLMENTS = m.CampaignCustomer.__table__
RUNS = m.EnrollerRun.__table__
RUN_PARAMS = m.EnrollerRunQueryParam.__table__
EVENTS = m.EnrollerRunEvent.__table__
POTENTIALS = m.EnrollerRunCustomer.__table__


def named(first_name: str) -> dict:
    """A criterion matching the customers of that first name."""
    return {"field": "customer.first_name", "op": "eq", "value": first_name}


def days_before(days: float, moment: dt.datetime = AS_OF) -> dt.datetime:
    return moment - dt.timedelta(days=days)


def midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=UTC)


def _insert(db, table, **values) -> int:
    with db.write() as conn:
        return conn.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()


# -- the world --------------------------------------------------------------------

def organization(db, country: str = "CA", name: str | None = None) -> int:
    return _insert(db, ORGANIZATIONS, name=name or f"Maple Motors {country}", country=country, timezone="UTC")


def campaign(db, organization_id: int, *, criterion: dict | str | None = EVERYONE, event_key: str | None = None,
             excluded_tags=(), **columns) -> int:
    """A campaign using every channel, with one active query param of ``criterion``
    (none when ``criterion`` is None)."""
    values = dict(name="Service due", active=True, uses_email=True, uses_phone=True, uses_sms=True) | columns
    campaign_id = _insert(db, CAMPAIGNS, organization_id=organization_id, **values)
    if excluded_tags:
        with db.write() as conn:
            conn.execute(EXCLUDED_TAGS.insert(), [{"campaign_id": campaign_id, "tag": tag} for tag in excluded_tags])
    if criterion is not None:
        query_param(db, campaign_id, criterion, event_key=event_key)
    return campaign_id


def query_param(db, campaign_id: int, criterion: dict | str = EVERYONE, *, process_order: int = 1,
                event_key: str | None = None, active: bool = True, name: str | None = None) -> int:
    """A query param; a ``str`` criterion is stored as it is (to store broken JSON)."""
    text = criterion if isinstance(criterion, str) else json.dumps(criterion)
    return _insert(db, QUERY_PARAMS, campaign_id=campaign_id, process_order=process_order,
                   name=name or f"Param {process_order}", criterion=text, event_key=event_key, active=active)


@dataclass
class Person:
    id: int
    vehicle_ids: list[int] = field(default_factory=list)

    @property
    def vehicle_id(self) -> int:
        (only,) = self.vehicle_ids
        return only


def customer(db, organization_id: int, *, vehicles: list[dict] | int = 0, tags=(), **columns) -> Person:
    """A customer who passes every check, with ``vehicles`` (a count or a list of
    column dicts) and ``tags``; ``columns`` override the customer's columns."""
    with db.read() as conn:
        country = conn.execute(sa.select(ORGANIZATIONS.c.country).where(ORGANIZATIONS.c.id == organization_id)).scalar_one()
    number = LOCAL_NUMBER[country]
    values = dict(first_name="Jane", last_name="Doe", email=EMAIL, phone=number, mobile=number,
                  casl_express_consent_at=days_before(30), created_at=days_before(1000)) | columns
    person = Person(_insert(db, CUSTOMERS, organization_id=organization_id, **values))
    if isinstance(vehicles, int):
        vehicles = [{"vin": f"VIN{person.id:05d}{n}", "year": 2020, "make": "Honda", "model": "Civic"} for n in range(vehicles)]
    for vehicle in vehicles:
        person.vehicle_ids.append(_insert(db, VEHICLES, customer_id=person.id, **vehicle))
    if tags:
        with db.write() as conn:
            conn.execute(CUSTOMER_TAGS.insert(), [{"customer_id": person.id, "tag": tag} for tag in tags])
    return person


def many_customers(db, organization_id: int, count: int) -> None:
    """``count`` customers who pass every check, generated by the database itself
    (ten distinct emails and one phone, so that no contact validation slows the run)."""
    columns = ("INSERT INTO customers (organization_id, first_name, last_name, email, phone, mobile, deleted, "
               "opt_out_all, email_opt_out, sms_opt_out, do_not_call, casl_express_consent_at) ")
    values = "SELECT :org, 'Customer ' || n, 'Doe', 'c' || (n % 10) || '@example.com', :phone, :phone, "
    if db.is_sqlite:
        sql = ("WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < :count) "
               + columns + values + "0, 0, 0, 0, 0, :consent FROM g")
    else:
        sql = columns + values + "false, false, false, false, false, :consent FROM generate_series(1, :count) AS n"
    with db.write() as conn:
        conn.execute(sa.text(sql), {"org": organization_id, "count": count, "phone": TORONTO,
                                    "consent": days_before(30).replace(tzinfo=None)})


def slow_campaign(db) -> int:
    """A campaign whose run lasts a few seconds (eight query params over 20,000
    customers), for tests that act on a run while it executes."""
    org = organization(db)
    campaign_id = campaign(db, org, criterion=None)
    for order in range(8):
        query_param(db, campaign_id, EVERYONE, process_order=order)
    many_customers(db, org, 20_000)
    return campaign_id


def enrollment(db, campaign_id: int, customer_id: int, *, vehicle_id: int | None = None, event_key: str = "",
               status: CampaignCustomerStatus | str = CampaignCustomerStatus.QUEUED,
               enrolled_at: dt.datetime | None = None, expired_at: dt.datetime | None = None, **columns) -> int:
    """An enrollment as another system (or an earlier run) left it; by default
    queued 400 days before ``AS_OF``."""
    return _insert(db, ENROLLMENTS, campaign_id=campaign_id, customer_id=customer_id, vehicle_id=vehicle_id,
                   event_key=event_key, purpose=CampaignCustomerPurpose.DEFAULT, status=CampaignCustomerStatus(status),
                   enrolled_at=enrolled_at or days_before(400), expired_at=expired_at, **columns)


# -- running ----------------------------------------------------------------------

def execute(db, campaign_id: int, *, purpose: RunPurpose = RunPurpose.DEFAULT, as_of: dt.datetime | None = AS_OF,
            customer_id: int | None = None, progress=None, cancel=None) -> RunOutcome:
    """Create a run and execute it at once."""
    run_id = create_run(db, campaign_id=campaign_id, purpose=purpose, customer_id=customer_id, as_of=as_of)
    return execute_run(db, run_id, progress=progress, cancel=cancel)


# -- reading what a run left --------------------------------------------------------

def _rows(db, query) -> list[dict]:
    with db.read() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def run_row(db, run_id: int) -> dict:
    (row,) = _rows(db, sa.select(RUNS).where(RUNS.c.id == run_id))
    return row


def run_in_progress(db) -> int:
    """The id of the one run in progress."""
    with db.read() as conn:
        (run_id,) = conn.execute(sa.select(RUNS.c.id).where(RUNS.c.status == "in_progress")).scalars().all()
    return run_id


def potentials(db, run_id: int) -> list[dict]:
    p = POTENTIALS.c
    return _rows(db, sa.select(POTENTIALS).where(p.run_id == run_id).order_by(p.customer_id, p.vehicle_id))


def potential(db, run_id: int, customer_id: int, vehicle_id: int | None = None) -> dict:
    (row,) = [p for p in potentials(db, run_id) if p["customer_id"] == customer_id and p["vehicle_id"] == vehicle_id]
    return row


def checks_of(row: dict) -> dict:
    return {name: row[name] for name in CHECKS}


def enrollments(db, campaign_id: int | None = None) -> list[dict]:
    query = sa.select(ENROLLMENTS).order_by(ENROLLMENTS.c.id)
    if campaign_id is not None:
        query = query.where(ENROLLMENTS.c.campaign_id == campaign_id)
    return _rows(db, query)


def enrollment_row(db, enrollment_id: int) -> dict:
    (row,) = _rows(db, sa.select(ENROLLMENTS).where(ENROLLMENTS.c.id == enrollment_id))
    return row


def run_params(db, run_id: int) -> list[dict]:
    return _rows(db, sa.select(RUN_PARAMS).where(RUN_PARAMS.c.run_id == run_id).order_by(RUN_PARAMS.c.id))


def events(db, run_id: int) -> list[dict]:
    return _rows(db, sa.select(EVENTS).where(EVENTS.c.run_id == run_id).order_by(EVENTS.c.id))


def count_runs(db) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(RUNS)).scalar_one()


@contextmanager
def paused_when(process: subprocess.Popen, condition, timeout: float = 60.0, interval: float = 0.02):
    """Stop ``process`` (SIGSTOP) at a moment when ``condition`` holds, and let it
    go on (SIGCONT) on leaving the block.

    The condition is looked at only while the process is stopped, so what it saw
    is still true inside the block: a test acts on a run at a moment it chose,
    not at one the run may already have left (a run of 20,000 customers lasts
    under a second on a quiet machine, and far longer on a loaded one)."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "the process ended before the moment came"
        os.kill(process.pid, signal.SIGSTOP)
        _, status = os.waitpid(process.pid, os.WUNTRACED)  # returns once it has stopped, or ended
        assert os.WIFSTOPPED(status), "the process ended before the moment came"
        if condition():
            break
        os.kill(process.pid, signal.SIGCONT)
        if time.monotonic() > deadline:
            raise AssertionError("the moment did not come in time")
        time.sleep(interval)
    try:
        yield
    finally:
        os.kill(process.pid, signal.SIGCONT)


def no_write_in_progress(db, run_id: int) -> bool:
    """Whether another client could write the run's row without waiting: on
    SQLite no connection holds the write lock; on PostgreSQL nobody holds the
    row. Asked without waiting, of a process that is stopped."""
    if db.dialect == "sqlite":
        raw = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
        try:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            raw.close()
    with db.engine.connect() as conn:
        try:
            conn.execute(sa.select(RUNS.c.id).where(RUNS.c.id == run_id).with_for_update(nowait=True))
            return True
        except sa.exc.OperationalError:
            return False
