"""Test data, built straight into a test database with Core inserts, and readers of
what a run left behind: the one module every test takes its rows from.

How the names read:

- a function whose first argument is ``db`` opens its own transaction; one whose
  first argument is ``conn`` writes or reads on a connection the test holds open,
  and its name says so (``insert_*``, ``read_run``), so that one name never means
  both;
- ``AS_OF`` is the moment the engine's and the reliability suite's runs are as of;
  ``POPULATION_AS_OF`` the one a population is generated around; ``NOW`` the last
  run of the index's rows; ``T0`` the start of a run's detail rows.

Sections, in order:

1. tables and moments;
2. rows on an open connection (``insert_*``): exactly the columns a test names;
3. the world of the engine's acceptance tests, where every default makes a
   candidate pass every check of RULES §3 (a Canadian customer with a valid email,
   phone and mobile, express consent, no opt-out, no tag, no enrollment), so that
   a test changes one thing and watches one check;
4. running, and reading what a run left;
5. acting on another process while it runs;
6. a population: thousands of customers with vehicles, tags, consent and earlier
   enrollments over a few campaigns of one organization, big enough that a run
   lasts a second or more, the same for a seed (the reliability suite);
7. the runs index: run rows of every purpose, status, count and time the table
   shows, empty ones included;
8. a run's detail: a run with its events, query params, potentials and campaign
   customers with exact, awkward values (names with commas, quotes, newlines,
   accents and formula starts), and runs executed by the engine on a small campaign.

Numbers used (what ``phonenumbers`` says of them):

- ``TORONTO`` +1 416 555 0123: valid in CA only, FIXED_LINE_OR_MOBILE (a mobile);
- ``NEW_YORK`` +1 212 736 5000: valid in US only, FIXED_LINE_OR_MOBILE;
- ``TOLL_FREE`` +1 800 555 0199: valid in CA and US, TOLL_FREE (a phone, not a mobile).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
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
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import (
    CampaignCustomerPurpose,
    CampaignCustomerStatus,
    EventLevel,
    Expiration,
    PotentialStatus,
    RunPurpose,
    RunStatus,
    RunStep,
)
from enroller_desktop.engine import contacts
from enroller_desktop.engine.runs import RunOutcome, create_run, execute_run

# -- 1. tables and moments -------------------------------------------------------------

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

#: The check columns of a potential, in the order of RULES §3.
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


# -- 2. rows on an open connection --------------------------------------------------------

def _insert_on(conn, table, **values) -> int:
    return conn.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()


def insert_organization(conn, *, country: str = "CA", name: str = "Reliability Motors",
                        timezone: str | None = "America/Toronto") -> int:
    return _insert_on(conn, ORGANIZATIONS, name=name, country=country, timezone=timezone)


def insert_campaign(conn, organization_id: int, *, name: str = "Service due", channels: str = "EPS", **values) -> int:
    """A campaign; ``channels`` holds the letters of those it uses (Email, Phone, SMS)."""
    return _insert_on(conn, CAMPAIGNS, organization_id=organization_id, name=name, uses_email="E" in channels,
                      uses_phone="P" in channels, uses_sms="S" in channels, **values)


def insert_query_param(conn, campaign_id: int, criterion: dict | str, *, name: str = "Criterion",
                       process_order: int = 1, event_key: str | None = None, active: bool = True) -> int:
    """A query param; a ``str`` criterion is stored as it is (to store broken JSON), else as its JSON."""
    text = criterion if isinstance(criterion, str) else json.dumps(criterion)
    return _insert_on(conn, QUERY_PARAMS, campaign_id=campaign_id, process_order=process_order, name=name,
                      criterion=text, event_key=event_key, active=active)


def insert_customer(conn, organization_id: int, **values) -> int:
    return _insert_on(conn, CUSTOMERS, organization_id=organization_id, **values)


def insert_vehicle(conn, customer_id: int, **values) -> int:
    return _insert_on(conn, VEHICLES, customer_id=customer_id, **values)


# -- 3. the world where every check passes -------------------------------------------------

def _insert(db, table, **values) -> int:
    with db.write() as conn:
        return _insert_on(conn, table, **values)


def organization(db, country: str = "CA", name: str | None = None) -> int:
    with db.write() as conn:
        return insert_organization(conn, country=country, name=name or f"Maple Motors {country}", timezone="UTC")


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
    """A query param named for its order unless ``name`` is given."""
    with db.write() as conn:
        return insert_query_param(conn, campaign_id, criterion, process_order=process_order, event_key=event_key,
                                  active=active, name=name or f"Param {process_order}")


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


# -- 4. running, and reading what a run left -------------------------------------------------

def execute(db, campaign_id: int, *, purpose: RunPurpose = RunPurpose.DEFAULT, as_of: dt.datetime | None = AS_OF,
            customer_id: int | None = None, progress=None, cancel=None) -> RunOutcome:
    """Create a run and execute it at once."""
    run_id = create_run(db, campaign_id=campaign_id, purpose=purpose, customer_id=customer_id, as_of=as_of)
    return execute_run(db, run_id, progress=progress, cancel=cancel)


def _rows(db, query) -> list[dict]:
    with db.read() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def run_row(db, run_id: int) -> dict:
    (row,) = _rows(db, sa.select(RUNS).where(RUNS.c.id == run_id))
    return row


def read_run(conn, run_id: int):
    """The run's row on an open connection, its columns as attributes."""
    return conn.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).one()


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


def duplicate_enrollments(conn) -> list[tuple]:
    """Enrollment keys held by more than one campaign customer (RULES §6 forbids any)."""
    cc = ENROLLMENTS.c
    key = (cc.campaign_id, cc.customer_id, sa.func.coalesce(cc.vehicle_id, 0), sa.func.coalesce(cc.event_key, ""))
    return [tuple(row) for row in conn.execute(
        sa.select(*key, sa.func.count()).group_by(*key).having(sa.func.count() > 1))]


def enrolled_by(conn, run_id: int) -> int:
    return conn.execute(sa.select(sa.func.count()).where(ENROLLMENTS.c.run_id == run_id)).scalar_one()


# -- 5. acting on another process while it runs ------------------------------------------------

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


# -- 6. a population -----------------------------------------------------------------------

#: Every population is generated around this moment, and the runs over it are as of
#: it, so that reruns can be compared.
POPULATION_AS_OF = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

MAKES = ("Toyota", "Honda", "Ford", "Chevrolet", "Hyundai", "Kia", "Subaru", "Mazda")
POPULATION_TAGS = ("vip", "fleet", "do-not-market", "employee", "service-plan", "lease")

#: Query params of the population's campaigns (criterion, event key).
POPULATION_PARAMS = (
    ({"field": "vehicle.last_service_date", "op": "older_than_days", "value": 180}, "vehicle.last_service_date"),
    ({"any": [{"field": "vehicle.lease_end_date", "op": "within_next_days", "value": 365},
              {"field": "vehicle.warranty_end_date", "op": "within_next_days", "value": 365}]}, "vehicle.lease_end_date"),
    ({"all": [{"field": "vehicle.make", "op": "in", "value": ["toyota", "HONDA", "Ford"]},
              {"field": "vehicle.year", "op": "between", "value": [2012, 2024]}]}, ""),
    ({"field": "customer.last_purchase_at", "op": "within_last_days", "value": 900}, None),
)


@dataclass(frozen=True)
class Population:
    organization_id: int
    campaign_ids: tuple[int, ...]
    customers: int


def load_population(db: Database, *, customers: int, seed: int, campaigns: int = 3, country: str = "CA",
                    judge_contacts: bool = True) -> Population:
    """An organization with ``customers`` customers and ``campaigns`` campaigns that
    share them, as a dealership's data looks: most customers reachable, some not,
    some already enrolled. The same seed gives the same rows.

    With ``judge_contacts`` the contact verdicts are stored too, as they are on a
    database that has seen runs before: a run is then all SQL, and its length
    grows with ``customers`` only.
    """
    rng = random.Random(seed)
    with db.write() as conn:
        org = insert_organization(conn, country=country)
        campaign_ids = []
        for index in range(campaigns):
            cid = insert_campaign(conn, org, name=f"Campaign {index + 1}", channels=("EPS", "E", "PS", "ES")[index % 4],
                                  marketing_exclusion_days=(None, 30, 7)[index % 3],
                                  expire_after_days=(None, 90)[index % 2])
            for order, (criterion, event_key) in enumerate(POPULATION_PARAMS[index % 2:][:3], start=1):
                insert_query_param(conn, cid, criterion, name=f"Param {order}", process_order=order, event_key=event_key)
            if index % 2:
                conn.execute(EXCLUDED_TAGS.insert().values(campaign_id=cid, tag="do-not-market"))
            campaign_ids.append(cid)

        first_id = (conn.execute(sa.select(sa.func.max(CUSTOMERS.c.id))).scalar() or 0) + 1
        first_vehicle = (conn.execute(sa.select(sa.func.max(VEHICLES.c.id))).scalar() or 0) + 1
        people, cars, tags, enrolled = [], [], [], []
        for offset in range(customers):
            cid = first_id + offset
            people.append(_person(rng, org, cid))
            for tag in rng.sample(POPULATION_TAGS, rng.choice((0, 0, 1, 2))):
                tags.append({"customer_id": cid, "tag": tag})
            for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
                vid = first_vehicle + len(cars)
                cars.append(_car(rng, cid, vid))
                if rng.random() < 0.08:
                    enrolled.append(_earlier_enrollment(rng, rng.choice(campaign_ids), cid, vid, len(enrolled)))
        conn.execute(CUSTOMERS.insert(), people)
        if tags:
            conn.execute(CUSTOMER_TAGS.insert(), tags)
        if cars:
            conn.execute(VEHICLES.insert(), cars)
        if enrolled:
            conn.execute(ENROLLMENTS.insert(), enrolled)
    if judge_contacts:
        contacts.ensure_verdicts(db, country=country, customer_ids=sa.select(CUSTOMERS.c.id), processes=1)
    return Population(org, tuple(campaign_ids), customers)


def _day(rng: random.Random, low: int, high: int) -> dt.date:
    return POPULATION_AS_OF.date() + dt.timedelta(days=rng.randint(low, high))


def _moment(rng: random.Random, low_days: int, high_days: int) -> dt.datetime:
    return POPULATION_AS_OF + dt.timedelta(seconds=rng.randint(low_days * 86_400, high_days * 86_400))


def _maybe(rng: random.Random, share: float, value):
    return value if rng.random() < share else None


def _person(rng: random.Random, org: int, cid: int) -> dict:
    first = rng.choice(("Ann", "Émile", "Zoë", "Raj", "Mai", "Liam", "Olga", "Juan"))
    last = rng.choice(("Smith", "Tremblay", "Nguyen", "O'Brien", "García", "Singh"))
    email = rng.choice((f"{first}.{last}.{cid}@example.com", f"{last}{cid}@example.org", "not-an-email", None))
    phone = rng.choice((f"+1 416 {rng.randint(200, 999)} {rng.randint(1000, 9999)}", "555", None))
    mobile = rng.choice((f"+1 647 {rng.randint(200, 999)} {rng.randint(1000, 9999)}", None))
    withdrawn = _maybe(rng, 0.1, _moment(rng, -800, 10))
    return {
        "id": cid, "organization_id": org, "first_name": first, "last_name": last,
        "email": email, "phone": phone, "mobile": mobile,
        "deleted": rng.random() < 0.03, "opt_out_all": rng.random() < 0.05,
        "email_opt_out": rng.random() < 0.05, "sms_opt_out": rng.random() < 0.05, "do_not_call": rng.random() < 0.05,
        "casl_express_consent_at": _maybe(rng, 0.4, _moment(rng, -2000, 5)),
        "casl_withdrawn_at": withdrawn,
        "last_purchase_at": _maybe(rng, 0.7, _moment(rng, -1500, 0)),
        "last_inquiry_at": _maybe(rng, 0.4, _moment(rng, -400, 0)),
        "created_at": _moment(rng, -3000, -1),
    }


def _car(rng: random.Random, cid: int, vid: int) -> dict:
    return {
        "id": vid, "customer_id": cid, "vin": f"VIN{vid:014d}", "year": rng.randint(2005, 2026),
        "make": rng.choice(MAKES), "model": "Model", "odometer": rng.randint(0, 300_000),
        "purchase_date": _day(rng, -4000, -1),
        "lease_end_date": _maybe(rng, 0.3, _day(rng, -200, 600)),
        "last_service_date": _maybe(rng, 0.8, _day(rng, -900, -1)),
        "warranty_end_date": _maybe(rng, 0.6, _day(rng, -900, 900)),
    }


def _earlier_enrollment(rng: random.Random, campaign_id: int, cid: int, vid: int, index: int) -> dict:
    return {
        "campaign_id": campaign_id, "customer_id": cid, "vehicle_id": vid,
        # Distinct keys: these are past events, not the ones the runs will find.
        "event_key": f"past-{index}", "purpose": "default",
        "status": rng.choice(("queued", "assigned", "in_progress", "completed", "error")),
        "enrolled_at": _moment(rng, -60, -1),
    }


# -- 7. the runs index ---------------------------------------------------------------------

#: The newest of the index's runs (``add_runs`` goes back from it).
NOW = dt.datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


def add_organizations(db: Database) -> dict[str, int]:
    """Two organizations with two campaigns each; returns ids by name."""
    ids: dict[str, int] = {}
    with db.write() as conn:
        for org_name, country, campaigns in (
            ("Maple Motors", "CA", ("Service Due", "Lease Maturity")),
            ("Bayside Auto Group", "US", ("Warranty Expiry", "Win Back")),
        ):
            org_id = ids[org_name] = insert_organization(conn, name=org_name, country=country, timezone="UTC")
            for name in campaigns:
                ids[name] = insert_campaign(conn, org_id, name=name, channels="EP", active=True)
    return ids


def _campaign_owner(ids: dict[str, int], campaign: str) -> int:
    return ids["Maple Motors"] if campaign in ("Service Due", "Lease Maturity") else ids["Bayside Auto Group"]


def _run_values(ids: dict[str, int], rng: random.Random, created_at: dt.datetime) -> dict:
    campaign = rng.choice(("Service Due", "Lease Maturity", "Warranty Expiry", "Win Back"))
    status = rng.choice(list(RunStatus))
    purpose = rng.choice(list(RunPurpose))
    started = created_at + dt.timedelta(seconds=rng.randint(0, 90)) if status not in (RunStatus.SCHEDULED, RunStatus.NOT_APPLICABLE) else None
    finished = started + dt.timedelta(seconds=rng.randint(1, 4000)) if started and status.finished else None
    counts: dict[str, int | None] = {}
    funnel = rng.randint(0, 250_000) if status in (RunStatus.COMPLETED, RunStatus.IN_PROGRESS) else None
    for column in ("query_param_customers", "potential_customers", "potential_events", "eligible", "success"):
        counts[column] = funnel
        if funnel is not None:
            funnel = rng.randint(0, funnel) if rng.random() > 0.1 else None
    return {
        "organization_id": _campaign_owner(ids, campaign),
        "campaign_id": ids[campaign],
        "purpose": purpose,
        "status": status,
        "step": RunStep.MAIN,
        "created_at": created_at,
        "scheduled_for": created_at,
        "in_progress_at": started,
        "completed_at": finished,
        "error_message": "The criterion of query param 1 names an unknown field" if status is RunStatus.ERROR else None,
        **counts,
    }


def add_runs(db: Database, ids: dict[str, int], count: int, *, seed: int = 7, start: dt.datetime = NOW, step_minutes: int = 317) -> list[int]:
    """``count`` runs of every purpose and status, one every ``step_minutes`` back
    from ``start`` (so they spread over many days); returns their ids."""
    rng = random.Random(seed)
    rows = [_run_values(ids, rng, start - dt.timedelta(minutes=step_minutes * i)) for i in range(count)]
    with db.write() as conn:
        conn.execute(sa.insert(RUNS), rows)
        return list(conn.execute(sa.select(RUNS.c.id).order_by(RUNS.c.id)).scalars())


def add_run(db: Database, ids: dict[str, int], **values) -> int:
    """One run of Maple Motors' Service Due, scheduled now unless ``values`` say otherwise."""
    base = {
        "organization_id": ids["Maple Motors"],
        "campaign_id": ids["Service Due"],
        "purpose": RunPurpose.DEFAULT,
        "status": RunStatus.SCHEDULED,
        "step": RunStep.MAIN,
        "created_at": dt.datetime.now(UTC),
    }
    return _insert(db, RUNS, **(base | values))


def update_run(db: Database, run_id: int, **values) -> None:
    with db.write() as conn:
        conn.execute(sa.update(RUNS).where(RUNS.c.id == run_id).values(**values))


# -- 8. a run's detail ------------------------------------------------------------------------

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

#: (first, last, checks in the order of ``CHECKS``, status)
PEOPLE = [
    ("Zoë", "Ångström", (1, 1, None, 1, 1, 1, 1, 1, 1), PotentialStatus.SUCCESS),
    ("Smith, John", 'O"Brien', (1, 0, None, 1, 1, 1, 1, 1, 1), PotentialStatus.SUCCESS),
    ("=HYPERLINK(\"x\")", "+1", (0, 0, None, 1, 1, 1, 1, 1, 1), PotentialStatus.PENDING),
    ("-minus", "@at", (1, 1, None, 0, 1, 1, 1, 1, 1), PotentialStatus.PENDING),
    ("line\nbreak", "\ttab", (1, 1, None, 1, 0, 1, 1, 1, 1), PotentialStatus.PENDING),
    ("\rcarriage", "Lee", (1, 1, None, 1, 1, 0, 1, 1, 1), PotentialStatus.PENDING),
    ("Ann", "lee", (1, 1, None, 1, 1, 1, 0, 1, 1), PotentialStatus.PENDING),
    ("Émile", "Zola", (1, 1, None, 1, 1, 1, 1, 0, 0), PotentialStatus.PENDING),
    ("Bob", None, (1, 1, None, 1, 1, 1, 1, 1, 1), PotentialStatus.ERROR),
    (None, "Nobody", (0, 0, None, 0, 0, 0, 0, 0, 0), PotentialStatus.PENDING),
]


@dataclass
class BuiltRun:
    run_id: int
    campaign_id: int
    organization_id: int
    customer_ids: list[int]


def build_run(db, *, purpose: RunPurpose = RunPurpose.DEFAULT, status: RunStatus = RunStatus.COMPLETED, people=PEOPLE) -> BuiltRun:
    """A finished run (unless ``status`` says otherwise) of ``people``, written row by
    row as the engine would have left it, every value fixed."""
    with db.write() as conn:
        org = insert_organization(conn, name="Maple, \"Motors\"")
        campaign = insert_campaign(conn, org, name="Lease — maturité", channels="EP")
        params = [
            insert_query_param(conn, campaign, criterion, process_order=order, name=name, event_key="vehicle.lease_end_date")
            for order, name, criterion in (
                (1, "Lease ends soon", {"field": "vehicle.lease_end_date", "op": "within_next_days", "value": 90}),
                (2, "=Old buyers", {"field": "customer.last_purchase_at", "op": "older_than_days", "value": 365}),
            )
        ]
        finished = status in (RunStatus.COMPLETED, RunStatus.ERROR, RunStatus.CANCELED)
        run = _insert_on(
            conn,
            RUNS,
            organization_id=org,
            campaign_id=campaign,
            purpose=purpose,
            status=status,
            step=RunStep.CAMPAIGN_CUSTOMERS,
            as_of=T0,
            created_at=T0,
            in_progress_at=T0 + dt.timedelta(seconds=1),
            completed_at=T0 + dt.timedelta(seconds=73.5) if finished else None,
            query_param_customers=len(people),
            potential_customers=7,
            potential_events=5,
            eligible=3,
            success=2,
            expired=1 if purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE else None,
            error_message="The database stopped answering" if status is RunStatus.ERROR else None,
        )
        for order, param in enumerate(params, start=1):
            conn.execute(
                sa.insert(RUN_PARAMS).values(
                    run_id=run,
                    query_param_id=param,
                    process_order=order,
                    status=RunStatus.COMPLETED,
                    total_customers=7 * order,
                    query_attempts=order,
                    average_potential_duration_ms=1.25 * order,
                    created_at=T0,
                    in_progress_at=T0 + dt.timedelta(seconds=order),
                    completed_at=T0 + dt.timedelta(seconds=order * 3),
                )
            )
        for index, (stage, level, message) in enumerate(
            (
                (RunStep.MAIN, EventLevel.INFO, "Run started"),
                (RunStep.CRITERIONS, EventLevel.INFO, "Query param 1 matched 7 candidates"),
                (RunStep.CRITERIONS, EventLevel.WARNING, "Query param 2 retried, \"lock\""),
                (RunStep.CUSTOMER_VALIDATION, EventLevel.ERROR, "-Validation failed, twice"),
                (RunStep.CAMPAIGN_CUSTOMERS, EventLevel.INFO, "Enrolled 2"),
            )
        ):
            conn.execute(
                sa.insert(EVENTS).values(
                    run_id=run, stage=stage, level=level, message=message, row_count=index * 10 or None, created_at=T0 + dt.timedelta(seconds=index), duration_ms=index * 1500.0
                )
            )
        customer_ids = []
        for index, (first, last, checks, potential_status) in enumerate(people):
            person = insert_customer(conn, org, first_name=first, last_name=last, created_at=T0)
            customer_ids.append(person)
            vehicle = None
            if index % 3 != 2:
                vehicle = insert_vehicle(conn, person, year=2020 + index, make="Kia", model="Niro, EV")
            eligible = all(checks[i] in (1, None) for i in (3, 4, 5, 6, 7, 8)) and any(checks[i] == 1 for i in (0, 1, 2))
            conn.execute(
                sa.insert(POTENTIALS).values(
                    run_id=run,
                    customer_id=person,
                    vehicle_id=vehicle,
                    query_param_id=params[index % 2],
                    first_name=first,
                    last_name=last,
                    status=potential_status,
                    is_valid=eligible,
                    validated_at=T0 + dt.timedelta(seconds=30),
                    **dict(zip(CHECKS, checks)),
                )
            )
            if potential_status is PotentialStatus.SUCCESS:
                conn.execute(
                    sa.insert(ENROLLMENTS).values(
                        campaign_id=campaign,
                        customer_id=person,
                        vehicle_id=vehicle,
                        event_key="2026-05-01",
                        run_id=run,
                        purpose=CampaignCustomerPurpose.RETURN_CALL if index else CampaignCustomerPurpose.DEFAULT,
                        status=CampaignCustomerStatus.ASSIGNED if index else CampaignCustomerStatus.QUEUED,
                        enrolled_at=T0,
                        last_attempt_at=T0 + dt.timedelta(days=1) if index else None,
                        last_attempt_disposition="=cmd|' /C calc'!A0" if index else None,
                        appointment_at=T0 + dt.timedelta(days=3) if index else None,
                    )
                )
        if purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE:
            conn.execute(
                sa.insert(ENROLLMENTS).values(
                    campaign_id=campaign,
                    customer_id=customer_ids[-1],
                    event_key="old",
                    run_id=None,
                    status=CampaignCustomerStatus.QUEUED,
                    enrolled_at=T0 - dt.timedelta(days=400),
                    expiration=Expiration.AGED_OUT,
                    expired_at=T0,
                )
            )
    return BuiltRun(run, campaign, org, customer_ids)


def build_campaign(db) -> int:
    """A Canadian campaign over every channel with forty customers whose contact
    data, consent, deletions and earlier enrollments make every check both pass
    and fail somewhere."""
    now = dt.datetime.now(UTC)
    with db.write() as conn:
        org = insert_organization(conn, name="Lakeshore Auto", timezone=None)
        campaign = insert_campaign(conn, org, name="Service Due", expire_after_days=30)
        insert_query_param(conn, campaign, {"field": "vehicle.year", "op": "ge", "value": 2018}, name="Recent models", event_key="")
        insert_query_param(conn, campaign, {"field": "customer.created_at", "op": "not_null"}, name="Everyone", process_order=2, event_key="")
        for i in range(40):
            person = insert_customer(
                conn,
                org,
                first_name=f"Première{i}" if i % 9 == 0 else f"First{i}",
                last_name=f"Last, {i}" if i % 10 == 0 else f"Last{i}",
                email="not-an-email" if i % 5 == 0 else f"c{i}@example.com",
                phone="123" if i % 4 == 0 else "4165550199",
                mobile="6135550123" if i % 3 == 0 else None,
                deleted=i % 11 == 0,
                opt_out_all=i % 13 == 0,
                casl_express_consent_at=now - dt.timedelta(days=10) if i % 2 == 0 else None,
                last_purchase_at=now - dt.timedelta(days=100) if i % 3 == 1 else None,
                created_at=now - dt.timedelta(days=500),
            )
            years = [] if i % 7 == 0 else [2014 + i % 10] + ([2021] if i % 6 == 0 else [])
            vehicle_ids = [insert_vehicle(conn, person, year=year, make="Honda", model="Civic") for year in years]
            if i % 8 == 0:
                conn.execute(
                    sa.insert(ENROLLMENTS).values(
                        campaign_id=campaign,
                        customer_id=person,
                        vehicle_id=vehicle_ids[0] if vehicle_ids else None,
                        event_key="",
                        status=CampaignCustomerStatus.QUEUED,
                        enrolled_at=now - dt.timedelta(days=100),
                    )
                )
    return campaign


def engine_run(db, purpose: RunPurpose) -> int:
    """A run of ``purpose`` executed by the engine over :func:`build_campaign`."""
    campaign = build_campaign(db)
    customer_id = None
    if purpose is RunPurpose.CUSTOMER_EVALUATION:
        with db.read() as conn:
            customer_id = conn.execute(sa.select(CUSTOMERS.c.id).where(CUSTOMERS.c.last_name == "Last1")
                                       .order_by(CUSTOMERS.c.id.desc())).scalars().first()
    run_id = create_run(db, campaign_id=campaign, purpose=purpose, customer_id=customer_id)
    execute_run(db, run_id)
    return run_id
