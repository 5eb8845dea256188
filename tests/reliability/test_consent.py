"""Consent is never bypassed, whatever the dates: a property over adversarial
customers and campaigns, run through the real engine.

The data sits on the edges a careless comparison gets wrong: consent and
withdrawal at the same instant, a microsecond either side of the as-of time,
purchases exactly 730 days back at midnight, far-future and far-past moments,
earlier enrollments on the ends of the marketing buffer, as-of times at
midnight and at the ends of the calendar. For every candidate the run enrolled,
an independent reading of RULES §3 (written here, with the email and phone
libraries called directly) must find that it passed Deleted, Opt Out All, CASL
where it applies, Marketing Exclusion, and at least one channel.
"""

from __future__ import annotations

import datetime as dt

import email_validator
import phonenumbers
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from enroller_desktop.db import models as m
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.engine.runs import create_run, execute_run
from tests.builders import (
    AS_OF,
    CAMPAIGNS,
    CUSTOMER_TAGS,
    ENROLLMENTS,
    UTC,
    insert_campaign,
    insert_customer,
    insert_organization,
    insert_query_param,
)

MICRO = dt.timedelta(microseconds=1)
FAR_FUTURE = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
FAR_PAST = dt.datetime(1, 1, 1, tzinfo=UTC)
AS_OFS = (AS_OF, AS_OF + MICRO, dt.datetime(2026, 6, 1, tzinfo=UTC), dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC))
EMAILS = ("ann@example.com", "not an email", "", "ann@example..com", "\u202eann@example.com", "a" * 300 + "@example.com", None)
PHONES = ("+1 416 555 0123", "+1 212 736 5000", "+1 800 555 0199", "+44 7400 123456", "555", "", None)
TAG_POOL = ("vip", "VIP", "do-not-market", "do-not-market ", "")
EVERYONE = {"any": [{"field": "customer.last_name", "op": "is_null"}, {"field": "customer.last_name", "op": "not_null"}]}


def _start_of_day(moment: dt.datetime, days_back: int) -> dt.datetime:
    day = moment.date() - dt.timedelta(days=days_back)
    return dt.datetime.combine(day, dt.time.min, tzinfo=UTC)


def moments(as_of: dt.datetime) -> st.SearchStrategy:
    """Times on the edges that matter for ``as_of``."""
    edges = [as_of, as_of - MICRO, as_of + MICRO, as_of - dt.timedelta(seconds=1), as_of + dt.timedelta(days=1),
             _start_of_day(as_of, 730), _start_of_day(as_of, 730) - MICRO, _start_of_day(as_of, 183),
             _start_of_day(as_of, 183) - MICRO, _start_of_day(as_of, 0), FAR_FUTURE, FAR_PAST]
    return st.none() | st.sampled_from(edges)


@st.composite
def scenarios(draw):
    as_of = draw(st.sampled_from(AS_OFS))
    days = draw(st.none() | st.sampled_from([0, 1, 7, 30]))
    buffer_start = as_of - dt.timedelta(days=days or 0)
    buffer_edges = st.sampled_from([buffer_start, buffer_start - MICRO, as_of, as_of + MICRO])
    when = moments(as_of)
    recently = st.just(as_of - dt.timedelta(days=10))  # a plain, valid consent: many candidates pass
    people = []
    for _ in range(draw(st.integers(1, 6))):
        consent = draw(when | recently)
        people.append({
            "email": draw(st.sampled_from(EMAILS[:1] * 3 + EMAILS)), "phone": draw(st.sampled_from(PHONES)),
            "mobile": draw(st.sampled_from(PHONES[:1] * 3 + PHONES)),
            # Mostly reachable people, so that the property is tested on many enrollments.
            **{flag: draw(st.sampled_from([False, False, False, True])) for flag in
               ("deleted", "opt_out_all", "email_opt_out", "sms_opt_out", "do_not_call")},
            "casl_express_consent_at": consent,
            "casl_withdrawn_at": draw(st.none() | st.sampled_from([consent]) | when),
            "last_purchase_at": draw(when | recently), "last_inquiry_at": draw(when),
            "tags": draw(st.sets(st.sampled_from(TAG_POOL), max_size=2)),
            "enrolled_at": draw(st.lists(when | buffer_edges, max_size=2)),
        })
    return {
        "as_of": as_of, "people": people, "country": draw(st.sampled_from(["CA", "US"])),
        "channels": draw(st.sets(st.sampled_from("EPS"), min_size=1) | st.just(set())),
        "marketing_exclusion_days": days,
        "excluded_tags": draw(st.sets(st.sampled_from(TAG_POOL), max_size=2)),
        "other_exempt": draw(st.booleans()),
    }


def _load(db, scenario) -> tuple[int, dict[int, dict]]:
    with db.write() as conn:
        org = insert_organization(conn, country=scenario["country"])
        cid = insert_campaign(conn, org, channels="".join(scenario["channels"]),
                       marketing_exclusion_days=scenario["marketing_exclusion_days"])
        other = insert_campaign(conn, org, name="Other", channels="E", exclusion_exempt=scenario["other_exempt"])
        insert_query_param(conn, cid, EVERYONE)
        for tag in scenario["excluded_tags"]:
            conn.execute(m.CampaignExcludedTag.__table__.insert().values(campaign_id=cid, tag=tag))
        people = {}
        for index, person in enumerate(scenario["people"]):
            values = {k: v for k, v in person.items() if k not in ("tags", "enrolled_at")}
            pid = insert_customer(conn, org, last_name=f"P{index}", **values)
            people[pid] = person
            for tag in person["tags"]:
                conn.execute(CUSTOMER_TAGS.insert().values(customer_id=pid, tag=tag))
            # Earlier enrollments, in the other campaign and in this one under past
            # event keys, often at the edges of the marketing buffer.
            for number, enrolled_at in enumerate(person["enrolled_at"]):
                conn.execute(ENROLLMENTS.insert().values(
                    campaign_id=(other, cid)[number % 2], customer_id=pid, event_key=f"past-{number}",
                    purpose="default", status="completed", enrolled_at=enrolled_at))
    return cid, people


# -- RULES §3, read independently ------------------------------------------------------

def _email_passes(person) -> bool:
    if person["email"] is None or person["email_opt_out"]:
        return False
    try:
        email_validator.validate_email(person["email"], check_deliverability=False)
    except email_validator.EmailNotValidError:
        return False
    return True


def _number(value, country):
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number_for_region(number, country) else None


def _phone_passes(person, country) -> bool:
    return not person["do_not_call"] and any(
        value is not None and _number(value, country) for value in (person["phone"], person["mobile"]))


def _message_passes(person, country) -> bool:
    if person["mobile"] is None or person["sms_opt_out"]:
        return False
    number = _number(person["mobile"], country)
    mobile_types = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return number is not None and phonenumbers.number_type(number) in mobile_types


def _casl_passes(person, as_of: dt.datetime) -> bool:
    express, withdrawn = person["casl_express_consent_at"], person["casl_withdrawn_at"]
    express = express if express is not None and express <= as_of else None
    if withdrawn is not None and withdrawn <= as_of and not (express is not None and express > withdrawn):
        return False

    def within(moment, days):
        return moment is not None and _start_of_day(as_of, days) <= moment <= as_of
    return express is not None or within(person["last_purchase_at"], 730) or within(person["last_inquiry_at"], 183)


def _excluded(person, scenario, prior) -> bool:
    if person["tags"] & scenario["excluded_tags"]:
        return True
    days = scenario["marketing_exclusion_days"]
    if days is None:
        return False
    as_of = scenario["as_of"]
    return any(as_of - dt.timedelta(days=days) <= enrolled_at <= as_of
               for enrolled_at, counts in prior if counts and enrolled_at is not None)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(scenario=scenarios())
def test_no_enrolled_candidate_ever_failed_consent(db, scenario):
    campaign_id, people = _load(db, scenario)

    outcome = execute_run(db, create_run(db, campaign_id=campaign_id, as_of=scenario["as_of"]))

    assert outcome.status is RunStatus.COMPLETED, outcome.error_message
    channels, country, as_of = scenario["channels"], scenario["country"], scenario["as_of"]
    with db.read() as conn:
        enrolled = conn.execute(sa.select(ENROLLMENTS.c.customer_id).where(ENROLLMENTS.c.run_id == outcome.id)).scalars().all()
        prior_rows = conn.execute(
            sa.select(ENROLLMENTS.c.customer_id, ENROLLMENTS.c.enrolled_at, ENROLLMENTS.c.campaign_id == campaign_id,
                      CAMPAIGNS.c.exclusion_exempt)
            .join(CAMPAIGNS, CAMPAIGNS.c.id == ENROLLMENTS.c.campaign_id)
            .where(ENROLLMENTS.c.customer_id.in_(list(people)), ENROLLMENTS.c.run_id.is_(None))).all()
    event(f"enrolled {min(len(enrolled), 2)}+ of {len(people)}" if enrolled else "enrolled nobody")
    for pid in enrolled:
        person = people[pid]
        prior = [(row.enrolled_at, bool(row[2]) or not row.exclusion_exempt) for row in prior_rows if row.customer_id == pid]
        assert not person["deleted"] and not person["opt_out_all"]
        assert not _excluded(person, scenario, prior)
        if country == "CA" and channels & {"E", "S"}:
            assert _casl_passes(person, as_of)
        assert ("E" in channels and _email_passes(person)) or ("P" in channels and _phone_passes(person, country)) \
            or ("S" in channels and _message_passes(person, country))
