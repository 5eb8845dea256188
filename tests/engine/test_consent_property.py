"""Property: whatever the customers and the campaign, a Default run's checks are
those of RULES §3's table evaluated in plain Python, and nobody is enrolled who
failed CASL (where it applies), Opt Out All, Deleted, Marketing Exclusion, or
every channel of the campaign.

Each example is a new organization with its own campaign, a second campaign of
the organization (exempt or not), and a campaign of another organization, with
a few customers drawn from small pools: valid and invalid contact values ('' and
NULL among them), consent and purchase dates around RULES §3's boundaries (730 and
183 days, the as-of time to the second), opt-outs, tags in two cases, and earlier
enrollments in any of the three campaigns with any status.
"""

from __future__ import annotations

import datetime as dt

import email_validator
import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enroller_desktop.db.enums import CampaignCustomerStatus
from tests.builders import (
    AS_OF,
    AS_OF_DATE,
    CAMPAIGNS,
    CHECKS,
    CUSTOMER_TAGS,
    CUSTOMERS,
    ENROLLMENTS,
    EMAIL,
    EVERYONE,
    EXCLUDED_TAGS,
    NEW_YORK,
    ORGANIZATIONS,
    PASSED,
    TOLL_FREE,
    TORONTO,
    VEHICLES,
    enrollments,
    execute,
    midnight,
    potentials,
    query_param,
)

EMAILS = [EMAIL, "JANE@EXAMPLE.COM", "", None, "jane@", " jane@example.com"]
PHONES = [TORONTO, NEW_YORK, TOLL_FREE, "4165550123", "call me", "", None]
TAGS = ["fleet", "Fleet", "VIP"]
ACTIVE = {CampaignCustomerStatus.QUEUED, CampaignCustomerStatus.PENDING_DEPLOYMENT,
          CampaignCustomerStatus.ASSIGNED, CampaignCustomerStatus.IN_PROGRESS}
CHANNELS = ("valid_email", "valid_phone", "valid_message")

#: Moments around the boundaries: days from the as-of date, seconds into the day
#: (the as-of time is 12:00:00, i.e. 43,200 s).
moments = st.builds(
    lambda days, seconds: midnight(AS_OF_DATE) + dt.timedelta(days=days, seconds=seconds),
    st.sampled_from([-900, -731, -730, -729, -400, -184, -183, -182, -31, -30, -7, -1, 0, 1]),
    st.sampled_from([0, 1, 43199, 43200, 43201, 86399]),
)
maybe_moment = st.none() | moments

enrollment_plans = st.fixed_dictionaries({
    "campaign": st.sampled_from(["this", "other", "foreign"]),
    "on_vehicle": st.booleans(),
    "same_event": st.booleans(),
    "status": st.sampled_from(list(CampaignCustomerStatus)),
    "expired": st.booleans(),
    "enrolled_at": moments,
})

customer_plans = st.fixed_dictionaries({
    "email": st.sampled_from(EMAILS),
    "phone": st.sampled_from(PHONES),
    "mobile": st.sampled_from(PHONES),
    "deleted": st.booleans(),
    "opt_out_all": st.booleans(),
    "email_opt_out": st.booleans(),
    "sms_opt_out": st.booleans(),
    "do_not_call": st.booleans(),
    "casl_express_consent_at": maybe_moment,
    "casl_withdrawn_at": maybe_moment,
    "last_purchase_at": maybe_moment,
    "last_inquiry_at": maybe_moment,
    "tags": st.sets(st.sampled_from(TAGS)),
    "vehicles": st.integers(0, 2),
    "enrollments": st.lists(enrollment_plans, max_size=2),
})

campaign_plans = st.fixed_dictionaries({
    "country": st.sampled_from(["CA", "US"]),
    "uses_email": st.booleans(),
    "uses_phone": st.booleans(),
    "uses_sms": st.booleans(),
    "marketing_exclusion_days": st.sampled_from([None, 0, 7, 30]),
    "excluded_tags": st.sets(st.sampled_from(["fleet", "VIP"])),
    "other_exempt": st.booleans(),
    "customers": st.lists(customer_plans, min_size=1, max_size=5),
})

CUSTOMER_COLUMNS = ("email", "phone", "mobile", "deleted", "opt_out_all", "email_opt_out", "sms_opt_out", "do_not_call",
                    "casl_express_consent_at", "casl_withdrawn_at", "last_purchase_at", "last_inquiry_at")


def build(db, plan: dict) -> tuple[int, dict]:
    """Write the example in one transaction; the campaign id and the world as the reference sees it."""
    with db.write() as conn:
        def insert(table, **values) -> int:
            return conn.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()

        org = insert(ORGANIZATIONS, name="Example dealer", country=plan["country"])
        foreign_org = insert(ORGANIZATIONS, name="Foreign dealer", country=plan["country"])
        campaigns = {
            "this": insert(CAMPAIGNS, organization_id=org, name="This", uses_email=plan["uses_email"],
                           uses_phone=plan["uses_phone"], uses_sms=plan["uses_sms"],
                           marketing_exclusion_days=plan["marketing_exclusion_days"]),
            "other": insert(CAMPAIGNS, organization_id=org, name="Other", exclusion_exempt=plan["other_exempt"]),
            "foreign": insert(CAMPAIGNS, organization_id=foreign_org, name="Foreign"),
        }
        for tag in plan["excluded_tags"]:
            conn.execute(EXCLUDED_TAGS.insert().values(campaign_id=campaigns["this"], tag=tag))
        people = []
        for n, person in enumerate(plan["customers"]):
            customer_id = insert(CUSTOMERS, organization_id=org, first_name=f"Customer {n}",
                                 **{column: person[column] for column in CUSTOMER_COLUMNS})
            vehicle_ids = [insert(VEHICLES, customer_id=customer_id, vin=f"V{customer_id}-{k}") for k in range(person["vehicles"])]
            for tag in person["tags"]:
                conn.execute(CUSTOMER_TAGS.insert().values(customer_id=customer_id, tag=tag))
            earlier, keys = [], set()
            for number, e in enumerate(person["enrollments"]):
                vehicle_id = vehicle_ids[0] if e["on_vehicle"] and vehicle_ids else None
                row = {"campaign": e["campaign"], "vehicle_id": vehicle_id, "event_key": "" if e["same_event"] else f"e{number}",
                       "status": e["status"], "enrolled_at": e["enrolled_at"],
                       "expired_at": AS_OF - dt.timedelta(days=1) if e["expired"] else None}
                key = (row["campaign"], vehicle_id, row["event_key"])
                if key in keys:
                    continue  # the unique key of enrollments allows one
                keys.add(key)
                conn.execute(ENROLLMENTS.insert().values(
                    campaign_id=campaigns[row["campaign"]], customer_id=customer_id, vehicle_id=vehicle_id,
                    event_key=row["event_key"], purpose="default", status=row["status"],
                    enrolled_at=row["enrolled_at"], expired_at=row["expired_at"]))
                earlier.append(row)
            people.append({**person, "id": customer_id, "vehicle_ids": vehicle_ids, "earlier": earlier})
    query_param(db, campaigns["this"], EVERYONE)
    return campaigns["this"], {**plan, "people": people}


# -- RULES §3's table in plain Python -------------------------------------------------

def email_ok(value) -> bool:
    if value is None:
        return False
    try:
        email_validator.validate_email(value, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


def number(value, country: str):
    """The parsed number when ``value`` is valid for ``country``, else None."""
    if value is None:
        return None
    try:
        parsed = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number_for_region(parsed, country) else None


def casl_ok(person: dict) -> bool:
    def counts(moment):
        return moment is not None and moment <= AS_OF

    express, withdrawn = person["casl_express_consent_at"], person["casl_withdrawn_at"]
    is_withdrawn = counts(withdrawn) and not (counts(express) and express > withdrawn)
    purchase, inquiry = person["last_purchase_at"], person["last_inquiry_at"]
    implied = (counts(purchase) and purchase.date() >= AS_OF_DATE - dt.timedelta(days=730)) or (
        counts(inquiry) and inquiry.date() >= AS_OF_DATE - dt.timedelta(days=183))
    return not is_withdrawn and (counts(express) or implied)


def expected_checks(world: dict, person: dict, vehicle_id: int | None) -> dict:
    country = world["country"]
    mobile = number(person["mobile"], country)

    def result(applies: bool, passes: bool):
        return (1 if passes else 0) if applies else None

    own = [e for e in person["earlier"] if e["campaign"] == "this"]
    buffer = world["marketing_exclusion_days"]
    counted = [e for e in person["earlier"] if e["campaign"] == "this" or (e["campaign"] == "other" and not world["other_exempt"])]
    recent = buffer is not None and any(
        AS_OF - dt.timedelta(days=buffer) <= e["enrolled_at"] <= AS_OF for e in counted)
    return {
        "valid_email": result(world["uses_email"], email_ok(person["email"]) and not person["email_opt_out"]),
        "valid_phone": result(world["uses_phone"], (number(person["phone"], country) is not None or mobile is not None)
                              and not person["do_not_call"]),
        "valid_message": result(world["uses_sms"], mobile is not None and not person["sms_opt_out"] and phonenumbers.number_type(mobile)
                                in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)),
        "deleted": result(True, not person["deleted"]),
        "unique_event": result(True, not any(e["vehicle_id"] == vehicle_id and e["event_key"] == "" for e in own)),
        "already_in_queue": result(True, not any(e["expired_at"] is None and e["status"] in ACTIVE for e in own)),
        "casl": result(country == "CA" and (world["uses_email"] or world["uses_sms"]), casl_ok(person)),
        "opt_out_all": result(True, not person["opt_out_all"]),
        "marketing_exclusion": result(True, not (person["tags"] & world["excluded_tags"]) and not recent),
    }


def eligible(checks: dict) -> bool:
    return (checks["deleted"] == PASSED and any(checks[c] == PASSED for c in CHANNELS)
            and checks["unique_event"] == PASSED and checks["already_in_queue"] == PASSED
            and checks["casl"] in (None, PASSED) and checks["opt_out_all"] == PASSED
            and checks["marketing_exclusion"] == PASSED)


def expected_by_candidate(world: dict) -> dict:
    return {(person["id"], vehicle_id): expected_checks(world, person, vehicle_id)
            for person in world["people"] for vehicle_id in (person["vehicle_ids"] or [None])}


SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.slow
@SETTINGS
@given(plan=campaign_plans)
def test_the_runs_checks_are_spec_3s_table(db, plan):
    campaign_id, world = build(db, plan)
    outcome = execute(db, campaign_id)
    found = {(p["customer_id"], p["vehicle_id"]): {c: p[c] for c in CHECKS} for p in potentials(db, outcome.id)}
    assert found == expected_by_candidate(world)


@pytest.mark.slow
@SETTINGS
@given(plan=campaign_plans)
def test_nobody_is_enrolled_who_failed_consent_deletion_exclusion_or_every_channel(db, plan):
    campaign_id, world = build(db, plan)
    outcome = execute(db, campaign_id)
    expected = expected_by_candidate(world)
    enrolled = {(e["customer_id"], e["vehicle_id"]) for e in enrollments(db, campaign_id) if e["run_id"] == outcome.id}
    for candidate in enrolled:
        checks = expected[candidate]
        assert checks["casl"] in (None, PASSED)
        assert (checks["opt_out_all"], checks["deleted"], checks["marketing_exclusion"]) == (PASSED, PASSED, PASSED)
        assert any(checks[c] == PASSED for c in CHANNELS)
    assert enrolled == {candidate for candidate, checks in expected.items() if eligible(checks)}
