"""Property: the consent basis a run records agrees with its CASL check, names the
right evidence, and its lapse date is the first date on which a run at that as-of
would fail CASL on the same evidence (run and seen).

Each example is a Canadian organization with a few customers whose consent,
withdrawal, purchase and inquiry times fall around RULES §3's boundaries (730 and
183 days, the as-of time to the microsecond), for an as-of time drawn around leap
days and year ends.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enroller_desktop.db.enums import RunPurpose
from tests.builders import (
    PASSED,
    campaign,
    customer,
    execute,
    midnight,
    organization,
    potential,
    potentials,
)

UTC = dt.timezone.utc
MICRO = dt.timedelta(microseconds=1)
CONSENTING = {"express", "implied_purchase", "implied_inquiry"}
FIELDS = ("casl_express_consent_at", "casl_withdrawn_at", "last_purchase_at", "last_inquiry_at")

as_of_times = st.builds(
    lambda day, seconds: midnight(day) + dt.timedelta(seconds=seconds),
    st.sampled_from([dt.date(2024, 2, 29), dt.date(2024, 3, 1), dt.date(2025, 2, 28), dt.date(2026, 3, 1),
                     dt.date(2024, 12, 31), dt.date(2026, 1, 1)]),
    st.sampled_from([0, 43200, 86399]),
)


def moment_strategy(as_of: dt.datetime):
    around_days = st.builds(
        lambda days, seconds: midnight(as_of.date()) + dt.timedelta(days=days, seconds=seconds),
        st.sampled_from([-900, -731, -730, -729, -400, -184, -183, -182, -30, -1, 0, 1, 40]),
        st.sampled_from([0, 1, 43200, 86399]),
    )
    around_now = st.sampled_from([as_of - MICRO, as_of, as_of + MICRO])
    return st.none() | around_days | around_now


@st.composite
def examples(draw):
    as_of = draw(as_of_times)
    moment = moment_strategy(as_of)
    people = draw(st.lists(st.fixed_dictionaries({name: moment for name in FIELDS}), min_size=1, max_size=4))
    return as_of, people


def expected_basis(person: dict, as_of: dt.datetime) -> tuple[str, dt.datetime | None, dt.date | None]:
    """RULES §3's CASL reading in plain Python, with engine/consent.py's choice of basis."""
    def counts(moment):
        return moment is not None and moment <= as_of

    express_at, withdrawn_at = person["casl_express_consent_at"], person["casl_withdrawn_at"]
    purchase_at, inquiry_at = person["last_purchase_at"], person["last_inquiry_at"]
    express = counts(express_at)
    if counts(withdrawn_at) and not (express and express_at > withdrawn_at):
        return "withdrawn", withdrawn_at, None
    if express:
        return "express", express_at, None
    implied = []
    if counts(purchase_at) and purchase_at.date() >= as_of.date() - dt.timedelta(days=730):
        implied.append((purchase_at.date() + dt.timedelta(days=731), 1, "implied_purchase", purchase_at))
    if counts(inquiry_at) and inquiry_at.date() >= as_of.date() - dt.timedelta(days=183):
        implied.append((inquiry_at.date() + dt.timedelta(days=184), 0, "implied_inquiry", inquiry_at))
    if not implied:
        return "none", None, None
    lapses_on, _, basis, evidence = max(implied)
    return basis, evidence, lapses_on


def seen_at(person: dict, as_of: dt.datetime) -> dict:
    """The customer as a run at ``as_of`` saw them: later times are not evidence."""
    return {name: (value if value is not None and value <= as_of else None) for name, value in person.items()}


SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _people(db, org: int, people: list[dict]) -> list[int]:
    return [customer(db, org, **person).id for person in people]


@pytest.mark.slow
@SETTINGS
@given(example=examples())
def test_the_recorded_basis_agrees_with_the_casl_check_and_names_its_evidence(db, example):
    as_of, people = example
    org = organization(db, "CA")
    campaign_id = campaign(db, org, uses_phone=False, uses_sms=False)
    ids = _people(db, org, people)
    run = execute(db, campaign_id, as_of=as_of, purpose=RunPurpose.CAMPAIGN_SIMULATION)
    found = {row["customer_id"]: row for row in potentials(db, run.id)}
    for customer_id, person in zip(ids, people):
        row = found[customer_id]
        assert (row["casl"] == PASSED) == (row["consent_basis"] in CONSENTING)
        assert (row["consent_basis"], row["consent_evidence_at"], row["consent_lapses_on"]) == expected_basis(person, as_of)


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(example=examples())
def test_the_lapse_date_is_the_first_date_a_run_fails_casl(db, example):
    as_of, people = example
    org = organization(db, "CA")
    campaign_id = campaign(db, org, uses_phone=False, uses_sms=False)
    # What the first run saw, and nothing after it.
    ids = _people(db, org, [seen_at(person, as_of) for person in people])
    run = execute(db, campaign_id, as_of=as_of, purpose=RunPurpose.CAMPAIGN_SIMULATION)
    for customer_id in ids:
        lapses_on = potential(db, run.id, customer_id)["consent_lapses_on"]
        if lapses_on is None:
            continue
        last_moment = max(as_of, midnight(lapses_on) - MICRO)
        before = execute(db, campaign_id, as_of=last_moment, customer_id=customer_id, purpose=RunPurpose.CUSTOMER_EVALUATION)
        after = execute(db, campaign_id, as_of=midnight(lapses_on), customer_id=customer_id, purpose=RunPurpose.CUSTOMER_EVALUATION)
        assert potential(db, before.id, customer_id)["casl"] == PASSED
        assert potential(db, after.id, customer_id)["casl"] != PASSED


def test_no_basis_is_recorded_where_casl_does_not_apply(db):
    american, canadian = organization(db, "US"), organization(db, "CA")
    for org, campaign_id in ((american, campaign(db, american)), (canadian, campaign(db, canadian, uses_email=False, uses_sms=False))):
        person = customer(db, org)
        row = potential(db, execute(db, campaign_id).id, person.id)
        assert row["casl"] is None
        assert (row["consent_basis"], row["consent_evidence_at"], row["consent_lapses_on"]) == (None, None, None)


def test_a_customer_with_purchase_and_inquiry_is_recorded_on_the_one_that_lasts_longer(db):
    org = organization(db, "CA")
    campaign_id = campaign(db, org)
    as_of = dt.datetime(2024, 6, 15, 12, tzinfo=UTC)
    purchase = dt.datetime(2022, 7, 1, 9, tzinfo=UTC)  # lapses 2024-07-01
    inquiry = dt.datetime(2024, 6, 1, 9, tzinfo=UTC)  # lapses 2024-12-02
    person = customer(db, org, casl_express_consent_at=None, last_purchase_at=purchase, last_inquiry_at=inquiry)
    row = potential(db, execute(db, campaign_id, as_of=as_of).id, person.id)
    assert (row["consent_basis"], row["consent_evidence_at"], row["consent_lapses_on"]) == (
        "implied_inquiry", inquiry, dt.date(2024, 12, 2))


NEVER = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def test_an_express_consent_dated_never_does_not_undo_a_withdrawal(db):
    """Other systems write "never" as the last microsecond of 9999 (SQLite's
    julianday cannot read it: the check once passed on an implied consent)."""
    from tests.builders import AS_OF

    org = organization(db, "CA")
    campaign_id = campaign(db, org)
    recent = AS_OF - dt.timedelta(days=10)
    withdrawn = customer(db, org, casl_express_consent_at=NEVER, casl_withdrawn_at=AS_OF, last_purchase_at=recent)
    never = customer(db, org, casl_express_consent_at=NEVER, last_purchase_at=recent)
    run = execute(db, campaign_id, as_of=AS_OF)
    assert (potential(db, run.id, withdrawn.id)["casl"], potential(db, run.id, withdrawn.id)["consent_basis"]) == (0, "withdrawn")
    assert (potential(db, run.id, never.id)["casl"], potential(db, run.id, never.id)["consent_basis"]) == (PASSED, "implied_purchase")


@pytest.mark.parametrize("column", ["casl_express_consent_at", "casl_withdrawn_at"])
def test_a_consent_time_that_is_no_time_fails_closed(sqlite_db, column):
    """Text that is no time at all, written by another system into a SQLite
    timestamp column: a withdrawal at it counts as made, an express consent at it
    neither counts nor undoes the withdrawal."""
    import sqlalchemy as sa

    from tests.builders import AS_OF

    db = sqlite_db
    org = organization(db, "CA")
    campaign_id = campaign(db, org)
    person = customer(db, org, casl_express_consent_at=AS_OF - dt.timedelta(days=1), casl_withdrawn_at=AS_OF - dt.timedelta(days=2),
                      last_purchase_at=AS_OF - dt.timedelta(days=10))
    with db.write() as conn:
        conn.execute(sa.text(f"UPDATE customers SET {column} = 'unknown' WHERE id = :id"), {"id": person.id})
    run = execute(db, campaign_id, as_of=AS_OF)
    with db.read() as conn:  # read as stored: the evidence is the text as written
        row = conn.execute(sa.text("SELECT casl, consent_basis FROM enroller_run_customers WHERE run_id = :r AND customer_id = :c"),
                           {"r": run.id, "c": person.id}).one()
    assert tuple(row) == (0, "withdrawn")
