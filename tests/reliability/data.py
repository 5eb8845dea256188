"""Datasets for the reliability suite, written with Core inserts.

Two kinds: a *population* (thousands of customers with vehicles, tags, consent and
earlier enrollments, over a few campaigns of one organization) big enough that a
run lasts a second or more, the same for a seed; and single rows with exactly the
awkward values a test names.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass

import sqlalchemy as sa

from enroller_desktop.db import models as m
from enroller_desktop.db.engine import Database
from enroller_desktop.engine import contacts

UTC = dt.timezone.utc
#: Every run of the suite is as of this time, so that reruns can be compared.
AS_OF = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
TODAY = AS_OF.date()

CUSTOMERS = m.Customer.__table__
VEHICLES = m.Vehicle.__table__
TAGS = m.CustomerTag.__table__
ENROLLMENTS = m.CampaignCustomer.__table__
RUNS = m.EnrollerRun.__table__

MAKES = ("Toyota", "Honda", "Ford", "Chevrolet", "Hyundai", "Kia", "Subaru", "Mazda")
TAG_POOL = ("vip", "fleet", "do-not-market", "employee", "service-plan", "lease")

#: Query params of the population's campaigns (criterion, event key).
POPULATION_PARAMS = (
    ({"field": "vehicle.last_service_date", "op": "older_than_days", "value": 180}, "vehicle.last_service_date"),
    ({"any": [{"field": "vehicle.lease_end_date", "op": "within_next_days", "value": 365},
              {"field": "vehicle.warranty_end_date", "op": "within_next_days", "value": 365}]}, "vehicle.lease_end_date"),
    ({"all": [{"field": "vehicle.make", "op": "in", "value": ["toyota", "HONDA", "Ford"]},
              {"field": "vehicle.year", "op": "between", "value": [2012, 2024]}]}, ""),
    ({"field": "customer.last_purchase_at", "op": "within_last_days", "value": 900}, None),
)


def organization(conn, *, country: str = "CA", name: str = "Reliability Motors") -> int:
    return conn.execute(
        sa.insert(m.Organization).values(name=name, country=country, timezone="America/Toronto").returning(m.Organization.id)
    ).scalar_one()


def campaign(conn, organization_id: int, *, name: str = "Service due", channels: str = "EPS", **values) -> int:
    """A campaign; ``channels`` holds the letters of those it uses (Email, Phone, SMS)."""
    return conn.execute(
        sa.insert(m.Campaign)
        .values(organization_id=organization_id, name=name, uses_email="E" in channels,
                uses_phone="P" in channels, uses_sms="S" in channels, **values)
        .returning(m.Campaign.id)
    ).scalar_one()


def query_param(conn, campaign_id: int, criterion, *, name: str = "Criterion", process_order: int = 1,
                event_key: str | None = None, active: bool = True) -> int:
    """A query param; ``criterion`` is stored as given when it is text, else as its JSON."""
    text = criterion if isinstance(criterion, str) else json.dumps(criterion)
    return conn.execute(
        sa.insert(m.QueryParam)
        .values(campaign_id=campaign_id, process_order=process_order, name=name, criterion=text,
                event_key=event_key, active=active)
        .returning(m.QueryParam.id)
    ).scalar_one()


def customer(conn, organization_id: int, **values) -> int:
    return conn.execute(
        sa.insert(m.Customer).values(organization_id=organization_id, **values).returning(m.Customer.id)
    ).scalar_one()


def vehicle(conn, customer_id: int, **values) -> int:
    return conn.execute(sa.insert(m.Vehicle).values(customer_id=customer_id, **values).returning(m.Vehicle.id)).scalar_one()


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
        org = organization(conn, country=country)
        campaign_ids = []
        for index in range(campaigns):
            cid = campaign(conn, org, name=f"Campaign {index + 1}", channels=("EPS", "E", "PS", "ES")[index % 4],
                           marketing_exclusion_days=(None, 30, 7)[index % 3],
                           expire_after_days=(None, 90)[index % 2])
            for order, (criterion, event_key) in enumerate(POPULATION_PARAMS[index % 2:][:3], start=1):
                query_param(conn, cid, criterion, name=f"Param {order}", process_order=order, event_key=event_key)
            if index % 2:
                conn.execute(sa.insert(m.CampaignExcludedTag).values(campaign_id=cid, tag="do-not-market"))
            campaign_ids.append(cid)

        first_id = (conn.execute(sa.select(sa.func.max(CUSTOMERS.c.id))).scalar() or 0) + 1
        first_vehicle = (conn.execute(sa.select(sa.func.max(VEHICLES.c.id))).scalar() or 0) + 1
        people, cars, tags, enrolled = [], [], [], []
        for offset in range(customers):
            cid = first_id + offset
            people.append(_person(rng, org, cid))
            for tag in rng.sample(TAG_POOL, rng.choice((0, 0, 1, 2))):
                tags.append({"customer_id": cid, "tag": tag})
            for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
                vid = first_vehicle + len(cars)
                cars.append(_car(rng, cid, vid))
                if rng.random() < 0.08:
                    enrolled.append(_earlier_enrollment(rng, rng.choice(campaign_ids), cid, vid, len(enrolled)))
        conn.execute(CUSTOMERS.insert(), people)
        if tags:
            conn.execute(TAGS.insert(), tags)
        if cars:
            conn.execute(VEHICLES.insert(), cars)
        if enrolled:
            conn.execute(ENROLLMENTS.insert(), enrolled)
    if judge_contacts:
        contacts.ensure_verdicts(db, country=country, customer_ids=sa.select(CUSTOMERS.c.id), processes=1)
    return Population(org, tuple(campaign_ids), customers)


def _day(rng: random.Random, low: int, high: int) -> dt.date:
    return TODAY + dt.timedelta(days=rng.randint(low, high))


def _moment(rng: random.Random, low_days: int, high_days: int) -> dt.datetime:
    return AS_OF + dt.timedelta(seconds=rng.randint(low_days * 86_400, high_days * 86_400))


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


# -- what the suite asserts about any database ---------------------------------------

def duplicate_enrollments(conn) -> list[tuple]:
    """Enrollment keys held by more than one campaign customer (RULES §6 forbids any)."""
    cc = ENROLLMENTS.c
    key = (cc.campaign_id, cc.customer_id, sa.func.coalesce(cc.vehicle_id, 0), sa.func.coalesce(cc.event_key, ""))
    return [tuple(row) for row in conn.execute(
        sa.select(*key, sa.func.count()).group_by(*key).having(sa.func.count() > 1))]


def enrolled_by(conn, run_id: int) -> int:
    return conn.execute(sa.select(sa.func.count()).where(ENROLLMENTS.c.run_id == run_id)).scalar_one()


def run_row(conn, run_id: int):
    return conn.execute(sa.select(RUNS).where(RUNS.c.id == run_id)).one()
