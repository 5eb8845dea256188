"""Expiry (RULES §5), done by Campaign Evaluation and Expire runs: each reason, the
first that holds, which enrollments it touches, and the ``expired`` count."""

from __future__ import annotations

import datetime as dt

import pytest

from enroller_desktop.db.enums import CampaignCustomerStatus, Expiration, RunPurpose, RunStatus
from tests.builders import (
    AS_OF,
    AS_OF_DATE,
    campaign,
    customer,
    days_before,
    enrollment,
    enrollment_row,
    execute,
    midnight,
    named,
    organization,
)

SECOND = dt.timedelta(seconds=1)
ACTIVE = [CampaignCustomerStatus.QUEUED, CampaignCustomerStatus.PENDING_DEPLOYMENT,
          CampaignCustomerStatus.ASSIGNED, CampaignCustomerStatus.IN_PROGRESS, CampaignCustomerStatus.ERROR]


def expire(db, campaign_id: int, **kw):
    return execute(db, campaign_id, purpose=RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE, **kw)


def expiration_of(db, enrollment_id: int) -> tuple:
    row = enrollment_row(db, enrollment_id)
    return row["expiration"], row["expired_at"]


@pytest.fixture
def org(db):
    return organization(db)


# -- campaign_ended ---------------------------------------------------------------

def test_an_ended_campaign_expires_its_active_enrollments_as_campaign_ended(db, org):
    campaign_id = campaign(db, org, ends_on=AS_OF_DATE - dt.timedelta(days=1))
    person = customer(db, org)
    enrolled = enrollment(db, campaign_id, person.id)
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (Expiration.CAMPAIGN_ENDED, AS_OF)


def test_a_campaign_on_its_last_day_has_not_ended(db, org):
    campaign_id = campaign(db, org, ends_on=AS_OF_DATE)
    person = customer(db, org)
    enrolled = enrollment(db, campaign_id, person.id)
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (None, None)


# -- aged_out ---------------------------------------------------------------------

def aged_campaign(db, org, enrolled_at: dt.datetime, days: int = 30) -> tuple[int, int]:
    """A campaign and the enrollment, made at ``enrolled_at``, of a customer still a candidate."""
    campaign_id = campaign(db, org, expire_after_days=days)
    person = customer(db, org)
    return campaign_id, enrollment(db, campaign_id, person.id, enrolled_at=enrolled_at)


def test_an_enrollment_dated_before_the_as_of_date_less_n_days_ages_out(db, org):
    campaign_id, enrolled = aged_campaign(db, org, midnight(AS_OF_DATE - dt.timedelta(days=30)) - SECOND)
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (Expiration.AGED_OUT, AS_OF)


def test_an_enrollment_dated_the_as_of_date_less_n_days_does_not_age_out(db, org):
    """By dates: enrolled at any time of that day, it is not *before* it."""
    campaign_id, enrolled = aged_campaign(db, org, midnight(AS_OF_DATE - dt.timedelta(days=30)))
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (None, None)


def test_an_enrollment_late_on_the_last_day_does_not_age_out_though_more_than_n_times_24_hours_passed(db, org):
    enrolled_at = dt.datetime.combine(AS_OF_DATE - dt.timedelta(days=30), dt.time(0, 1), tzinfo=dt.timezone.utc)
    campaign_id, enrolled = aged_campaign(db, org, enrolled_at)
    expire(db, campaign_id, as_of=dt.datetime.combine(AS_OF_DATE, dt.time(23, 59), tzinfo=dt.timezone.utc))
    assert expiration_of(db, enrolled)[0] is None


def test_without_expire_after_days_nothing_ages_out(db, org):
    campaign_id = campaign(db, org)
    person = customer(db, org)
    enrolled = enrollment(db, campaign_id, person.id, enrolled_at=days_before(5000))
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (None, None)


# -- no_longer_qualifies ------------------------------------------------------------

def test_an_enrollment_whose_customer_is_no_longer_a_candidate_expires(db, org):
    campaign_id = campaign(db, org, criterion=named("Ann"))
    bob = customer(db, org, first_name="Bob")
    enrolled = enrollment(db, campaign_id, bob.id)
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (Expiration.NO_LONGER_QUALIFIES, AS_OF)


def test_an_enrollment_of_a_vehicle_no_longer_a_candidate_expires_while_the_other_vehicle_stays(db, org):
    campaign_id = campaign(db, org, criterion={"field": "vehicle.model", "op": "eq", "value": "Civic"})
    person = customer(db, org, vehicles=[{"model": "Civic"}, {"model": "Accord"}])
    civic = enrollment(db, campaign_id, person.id, vehicle_id=person.vehicle_ids[0])
    accord = enrollment(db, campaign_id, person.id, vehicle_id=person.vehicle_ids[1])
    expire(db, campaign_id)
    assert [expiration_of(db, e)[0] for e in (civic, accord)] == [None, Expiration.NO_LONGER_QUALIFIES]


def test_an_enrollment_without_vehicle_stays_while_the_customer_without_vehicle_is_a_candidate(db, org):
    campaign_id = campaign(db, org)
    person = customer(db, org)
    enrolled = enrollment(db, campaign_id, person.id, vehicle_id=None)
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (None, None)


def test_an_enrollment_without_vehicle_expires_once_the_customer_has_vehicles(db, org):
    """The candidate is now (customer, vehicle): (customer, none) is no longer one."""
    campaign_id = campaign(db, org)
    person = customer(db, org, vehicles=1)
    enrolled = enrollment(db, campaign_id, person.id, vehicle_id=None)
    expire(db, campaign_id)
    assert expiration_of(db, enrolled)[0] == Expiration.NO_LONGER_QUALIFIES


def test_a_candidate_failing_a_check_is_still_a_candidate_and_keeps_its_enrollment(db, org):
    """RULES §5 says "not a candidate of this run": a candidate who fails a check (here
    Opt Out All) still matched the criteria, so the enrollment stays; stopping the
    contact is the job of the checks of the systems that deploy it."""
    campaign_id = campaign(db, org)
    person = customer(db, org, opt_out_all=True)
    enrolled = enrollment(db, campaign_id, person.id)
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (None, None)


def test_a_customer_evaluation_expires_nothing(db, org):
    campaign_id = campaign(db, org, criterion=named("Ann"))
    ann = customer(db, org, first_name="Ann")
    bob = customer(db, org, first_name="Bob")
    enrolled = enrollment(db, campaign_id, bob.id)
    outcome = execute(db, campaign_id, purpose=RunPurpose.CUSTOMER_EVALUATION, customer_id=ann.id)
    assert (outcome.counts["expired"], expiration_of(db, enrolled)) == (None, (None, None))


def test_a_default_run_expires_nothing(db, org):
    campaign_id = campaign(db, org, criterion=named("Ann"), expire_after_days=1)
    bob = customer(db, org, first_name="Bob")
    enrolled = enrollment(db, campaign_id, bob.id, enrolled_at=days_before(100))
    outcome = execute(db, campaign_id)
    assert (outcome.counts["expired"], expiration_of(db, enrolled)) == (None, (None, None))


# -- the first reason wins ----------------------------------------------------------

def test_campaign_ended_wins_over_aged_out_and_no_longer_qualifies(db, org):
    campaign_id = campaign(db, org, criterion=named("Ann"), ends_on=AS_OF_DATE - dt.timedelta(days=1), expire_after_days=1)
    bob = customer(db, org, first_name="Bob")
    enrolled = enrollment(db, campaign_id, bob.id, enrolled_at=days_before(100))
    expire(db, campaign_id)
    assert expiration_of(db, enrolled)[0] == Expiration.CAMPAIGN_ENDED


def test_aged_out_wins_over_no_longer_qualifies(db, org):
    campaign_id = campaign(db, org, criterion=named("Ann"), expire_after_days=1)
    bob = customer(db, org, first_name="Bob")
    enrolled = enrollment(db, campaign_id, bob.id, enrolled_at=days_before(100))
    expire(db, campaign_id)
    assert expiration_of(db, enrolled)[0] == Expiration.AGED_OUT


# -- which enrollments ----------------------------------------------------------------

@pytest.mark.parametrize("status", ACTIVE)
def test_every_enrollment_not_completed_is_expired_including_error(db, org, status):
    campaign_id = campaign(db, org, criterion=named("Ann"))
    bob = customer(db, org, first_name="Bob")
    enrolled = enrollment(db, campaign_id, bob.id, status=status)
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (Expiration.NO_LONGER_QUALIFIES, AS_OF)
    assert enrollment_row(db, enrolled)["status"] == status


def test_a_completed_enrollment_is_left_alone(db, org):
    campaign_id = campaign(db, org, criterion=named("Ann"), ends_on=AS_OF_DATE - dt.timedelta(days=1))
    bob = customer(db, org, first_name="Bob")
    enrolled = enrollment(db, campaign_id, bob.id, status=CampaignCustomerStatus.COMPLETED)
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (None, None)


def test_an_already_expired_enrollment_keeps_its_reason_and_time(db, org):
    campaign_id = campaign(db, org, criterion=named("Ann"), ends_on=AS_OF_DATE - dt.timedelta(days=1))
    bob = customer(db, org, first_name="Bob")
    earlier = days_before(200)
    enrolled = enrollment(db, campaign_id, bob.id, expired_at=earlier, expiration=Expiration.AGED_OUT)
    expire(db, campaign_id)
    assert expiration_of(db, enrolled) == (Expiration.AGED_OUT, earlier)


def test_enrollments_of_other_campaigns_are_left_alone(db, org):
    campaign_id = campaign(db, org, criterion=named("Ann"), ends_on=AS_OF_DATE - dt.timedelta(days=1))
    bob = customer(db, org, first_name="Bob")
    elsewhere = enrollment(db, campaign(db, org, name="Win back"), bob.id)
    expire(db, campaign_id)
    assert expiration_of(db, elsewhere) == (None, None)


def test_the_runs_own_new_enrollments_are_not_expired(db, org):
    campaign_id = campaign(db, org, expire_after_days=0)
    customer(db, org, vehicles=2)
    outcome = expire(db, campaign_id)
    assert (outcome.counts["success"], outcome.counts["expired"]) == (2, 0)


# -- the count ----------------------------------------------------------------------

def test_expired_counts_the_enrollments_the_run_expired(db, org):
    campaign_id = campaign(db, org, criterion=named("Ann"), expire_after_days=30)
    ann = customer(db, org, first_name="Ann", vehicles=2)
    bob = customer(db, org, first_name="Bob")
    enrollment(db, campaign_id, ann.id, vehicle_id=ann.vehicle_ids[0], enrolled_at=days_before(40))  # aged out
    enrollment(db, campaign_id, ann.id, vehicle_id=ann.vehicle_ids[1], enrolled_at=days_before(10))  # stays
    enrollment(db, campaign_id, bob.id)  # no longer qualifies
    enrollment(db, campaign_id, bob.id, event_key="done", status=CampaignCustomerStatus.COMPLETED)  # untouched
    enrollment(db, campaign_id, bob.id, event_key="gone", expired_at=days_before(300))  # untouched
    outcome = expire(db, campaign_id)
    assert (outcome.status, outcome.counts["expired"]) == (RunStatus.COMPLETED, 2)


def test_expired_is_zero_when_nothing_expires(db, org):
    campaign_id = campaign(db, org)
    customer(db, org)
    assert expire(db, campaign_id).counts["expired"] == 0
