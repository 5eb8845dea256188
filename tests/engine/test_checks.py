"""The check table of RULES §3, row by row, through whole runs on both databases.

Each test builds one customer who passes everything (see ``builders``), changes
one thing, runs a Default run as of ``AS_OF`` and reads one check of its potential.
Contact validity itself is tested in ``test_contacts``; here the checks are seen
as a run writes them: applicability, opt-outs, and '' against NULL.
"""

from __future__ import annotations

import datetime as dt

import pytest

from enroller_desktop.db.enums import CampaignCustomerStatus
from tests.builders import (
    AS_OF,
    AS_OF_DATE,
    FAILED,
    NEW_YORK,
    NOT_APPLICABLE,
    PASSED,
    TOLL_FREE,
    TORONTO,
    campaign,
    checks_of,
    customer,
    days_before,
    enrollment,
    execute,
    midnight,
    organization,
    potential,
)

SECOND = dt.timedelta(seconds=1)
ACTIVE = [CampaignCustomerStatus.QUEUED, CampaignCustomerStatus.PENDING_DEPLOYMENT,
          CampaignCustomerStatus.ASSIGNED, CampaignCustomerStatus.IN_PROGRESS]
INACTIVE = [CampaignCustomerStatus.COMPLETED, CampaignCustomerStatus.ERROR]


def checks_for(db, *, country="CA", campaign_columns=None, before_run=None, **customer_columns) -> dict:
    """The checks of one customer's candidate after a Default run as of AS_OF.

    ``before_run(org, campaign_id, person)`` may add enrollments and the like."""
    org = organization(db, country)
    campaign_id = campaign(db, org, **(campaign_columns or {}))
    person = customer(db, org, **customer_columns)
    if before_run is not None:
        before_run(org, campaign_id, person)
    outcome = execute(db, campaign_id)
    return checks_of(potential(db, outcome.id, person.id))


def check(db, name: str, **kw) -> int | None:
    return checks_for(db, **kw)[name]


def test_a_customer_built_with_the_defaults_passes_every_check(db):
    assert set(checks_for(db).values()) == {PASSED}


# -- Valid Email ------------------------------------------------------------------

def test_valid_email_passes_a_valid_address(db):
    assert check(db, "valid_email", email="jane.doe@example.com") == PASSED


def test_valid_email_fails_an_invalid_address(db):
    assert check(db, "valid_email", email="jane.doe@") == FAILED


def test_valid_email_fails_an_empty_text_address(db):
    """'' is a value, not an empty field: the library refuses it."""
    assert check(db, "valid_email", email="") == FAILED


def test_valid_email_fails_without_an_address(db):
    assert check(db, "valid_email", email=None) == FAILED


def test_valid_email_judges_the_stored_value_untrimmed(db):
    assert check(db, "valid_email", email=" jane.doe@example.com") == FAILED


def test_valid_email_fails_a_valid_address_opted_out_of_email(db):
    assert check(db, "valid_email", email_opt_out=True) == FAILED


def test_valid_email_is_not_applicable_when_the_campaign_does_not_use_email(db):
    assert check(db, "valid_email", email="jane.doe@", campaign_columns={"uses_email": False}) is NOT_APPLICABLE


# -- Valid Phone ------------------------------------------------------------------

def test_valid_phone_passes_a_valid_phone_without_a_mobile(db):
    assert check(db, "valid_phone", phone=TORONTO, mobile=None) == PASSED


def test_valid_phone_passes_a_valid_mobile_beside_an_invalid_phone(db):
    assert check(db, "valid_phone", phone="call me", mobile=TORONTO) == PASSED


def test_valid_phone_passes_a_toll_free_phone(db):
    assert check(db, "valid_phone", phone=TOLL_FREE, mobile=None) == PASSED


def test_valid_phone_fails_numbers_of_another_country_than_the_organization(db):
    assert check(db, "valid_phone", phone=NEW_YORK, mobile=NEW_YORK) == FAILED


def test_valid_phone_follows_the_organization_country(db):
    assert check(db, "valid_phone", country="US", phone=NEW_YORK, mobile=None) == PASSED


def test_valid_phone_fails_a_value_that_does_not_parse(db):
    assert check(db, "valid_phone", phone="call me", mobile=None) == FAILED


def test_valid_phone_fails_empty_text_numbers(db):
    assert check(db, "valid_phone", phone="", mobile="") == FAILED


def test_valid_phone_fails_without_any_number(db):
    assert check(db, "valid_phone", phone=None, mobile=None) == FAILED


def test_valid_phone_fails_a_valid_number_marked_do_not_call(db):
    assert check(db, "valid_phone", do_not_call=True) == FAILED


def test_valid_phone_is_not_applicable_when_the_campaign_does_not_call(db):
    assert check(db, "valid_phone", phone=None, mobile=None, campaign_columns={"uses_phone": False}) is NOT_APPLICABLE


# -- Valid Message ----------------------------------------------------------------

def test_valid_message_passes_a_valid_mobile(db):
    assert check(db, "valid_message", phone=None, mobile=TORONTO) == PASSED


def test_valid_message_fails_a_valid_number_that_is_not_a_mobile(db):
    assert check(db, "valid_message", mobile=TOLL_FREE) == FAILED


def test_valid_message_ignores_the_phone_column(db):
    assert check(db, "valid_message", phone=TORONTO, mobile=None) == FAILED


def test_valid_message_fails_a_mobile_of_another_country(db):
    assert check(db, "valid_message", mobile=NEW_YORK) == FAILED


def test_valid_message_fails_an_empty_text_mobile(db):
    assert check(db, "valid_message", mobile="") == FAILED


def test_valid_message_fails_a_valid_mobile_opted_out_of_sms(db):
    assert check(db, "valid_message", sms_opt_out=True) == FAILED


def test_valid_message_is_not_applicable_when_the_campaign_does_not_use_sms(db):
    assert check(db, "valid_message", mobile=None, campaign_columns={"uses_sms": False}) is NOT_APPLICABLE


def test_an_opt_out_of_one_channel_leaves_the_others_passing(db):
    checks = checks_for(db, email_opt_out=True, do_not_call=True)
    assert (checks.pop("valid_email"), checks.pop("valid_phone")) == (FAILED, FAILED)
    assert set(checks.values()) == {PASSED}


# -- Deleted ----------------------------------------------------------------------

def test_deleted_customer_is_a_candidate_that_fails_deleted(db):
    assert check(db, "deleted", deleted=True) == FAILED


def test_customer_not_deleted_passes_deleted(db):
    assert check(db, "deleted", deleted=False) == PASSED


# -- Unique Event -----------------------------------------------------------------

@pytest.mark.parametrize("status", list(CampaignCustomerStatus))
@pytest.mark.parametrize("expired", [False, True], ids=["live", "expired"])
def test_unique_event_fails_on_an_enrollment_of_the_same_event_whatever_its_status(db, status, expired):
    def enrolled(org, campaign_id, person):
        enrollment(db, campaign_id, person.id, status=status, expired_at=days_before(100) if expired else None)
    assert check(db, "unique_event", before_run=enrolled) == FAILED


def vehicle_unique_event(db, enrolled_vehicle) -> int:
    """Unique Event of a customer's one vehicle, after an enrollment of
    ``enrolled_vehicle(person)`` (a vehicle id or None) with the same event key."""
    org = organization(db)
    campaign_id = campaign(db, org)
    person = customer(db, org, vehicles=1)
    enrollment(db, campaign_id, person.id, vehicle_id=enrolled_vehicle(person), status=CampaignCustomerStatus.COMPLETED)
    outcome = execute(db, campaign_id)
    return potential(db, outcome.id, person.id, person.vehicle_id)["unique_event"]


def test_unique_event_fails_on_an_enrollment_of_the_same_vehicle_and_event_key(db):
    assert vehicle_unique_event(db, lambda person: person.vehicle_id) == FAILED


def test_unique_event_passes_when_only_the_customer_without_vehicle_was_enrolled(db):
    """"Vehicle or none": an enrollment with no vehicle is not one of the vehicle's."""
    assert vehicle_unique_event(db, lambda person: None) == PASSED


def test_unique_event_passes_when_another_vehicle_of_the_customer_was_enrolled(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    person = customer(db, org, vehicles=2)
    enrollment(db, campaign_id, person.id, vehicle_id=person.vehicle_ids[0], status=CampaignCustomerStatus.COMPLETED)
    outcome = execute(db, campaign_id)
    assert potential(db, outcome.id, person.id, person.vehicle_ids[0])["unique_event"] == FAILED
    assert potential(db, outcome.id, person.id, person.vehicle_ids[1])["unique_event"] == PASSED


def test_unique_event_compares_the_event_key_of_the_crediting_param(db):
    org = organization(db)
    campaign_id = campaign(db, org, event_key="vehicle.lease_end_date")
    person = customer(db, org, vehicles=[{"lease_end_date": dt.date(2024, 8, 1)}])
    enrollment(db, campaign_id, person.id, vehicle_id=person.vehicle_id, event_key="2024-08-01",
               status=CampaignCustomerStatus.COMPLETED)
    outcome = execute(db, campaign_id)
    assert potential(db, outcome.id, person.id, person.vehicle_id)["unique_event"] == FAILED


def test_unique_event_passes_for_a_new_event_key_of_the_same_vehicle(db):
    org = organization(db)
    campaign_id = campaign(db, org, event_key="vehicle.lease_end_date")
    person = customer(db, org, vehicles=[{"lease_end_date": dt.date(2027, 8, 1)}])
    enrollment(db, campaign_id, person.id, vehicle_id=person.vehicle_id, event_key="2024-08-01",
               status=CampaignCustomerStatus.COMPLETED)
    outcome = execute(db, campaign_id)
    assert potential(db, outcome.id, person.id, person.vehicle_id)["unique_event"] == PASSED


def test_unique_event_ignores_enrollments_in_other_campaigns(db):
    def enrolled(org, campaign_id, person):
        other = campaign(db, org, name="Win back")
        enrollment(db, other, person.id, status=CampaignCustomerStatus.COMPLETED)
    assert check(db, "unique_event", before_run=enrolled) == PASSED


# -- Already in Queue ---------------------------------------------------------------

@pytest.mark.parametrize("status", ACTIVE)
def test_already_in_queue_fails_on_an_active_enrollment(db, status):
    def enrolled(org, campaign_id, person):
        enrollment(db, campaign_id, person.id, event_key="an earlier event", status=status)
    assert check(db, "already_in_queue", before_run=enrolled) == FAILED


@pytest.mark.parametrize("status", INACTIVE)
def test_already_in_queue_passes_on_a_finished_enrollment(db, status):
    def enrolled(org, campaign_id, person):
        enrollment(db, campaign_id, person.id, event_key="an earlier event", status=status)
    assert check(db, "already_in_queue", before_run=enrolled) == PASSED


@pytest.mark.parametrize("status", ACTIVE)
def test_already_in_queue_passes_on_an_expired_enrollment(db, status):
    def enrolled(org, campaign_id, person):
        enrollment(db, campaign_id, person.id, event_key="an earlier event", status=status, expired_at=days_before(10))
    assert check(db, "already_in_queue", before_run=enrolled) == PASSED


def test_already_in_queue_fails_for_every_vehicle_of_a_customer_queued_for_one(db):
    """The check is about the customer: one active enrollment holds back all their vehicles."""
    org = organization(db)
    campaign_id = campaign(db, org)
    person = customer(db, org, vehicles=2)
    enrollment(db, campaign_id, person.id, vehicle_id=person.vehicle_ids[0])
    outcome = execute(db, campaign_id)
    assert [potential(db, outcome.id, person.id, v)["already_in_queue"] for v in person.vehicle_ids] == [FAILED, FAILED]


def test_already_in_queue_ignores_enrollments_in_other_campaigns(db):
    def enrolled(org, campaign_id, person):
        enrollment(db, campaign(db, org, name="Win back"), person.id)
    assert check(db, "already_in_queue", before_run=enrolled) == PASSED


# -- CASL -------------------------------------------------------------------------

def test_casl_is_not_applicable_outside_canada(db):
    assert check(db, "casl", country="US", casl_express_consent_at=None) is NOT_APPLICABLE


def test_casl_is_not_applicable_to_a_canadian_campaign_that_only_calls(db):
    assert check(db, "casl", casl_express_consent_at=None,
                 campaign_columns={"uses_email": False, "uses_sms": False}) is NOT_APPLICABLE


@pytest.mark.parametrize("channel", ["uses_email", "uses_sms"])
def test_casl_applies_to_a_canadian_campaign_using_email_or_sms(db, channel):
    columns = {"uses_email": False, "uses_phone": False, "uses_sms": False, channel: True}
    assert check(db, "casl", casl_express_consent_at=None, campaign_columns=columns) == FAILED


def test_casl_passes_on_express_consent(db):
    assert check(db, "casl", casl_express_consent_at=days_before(3000)) == PASSED


def test_casl_fails_without_any_consent(db):
    assert check(db, "casl", casl_express_consent_at=None) == FAILED


def test_casl_ignores_an_express_consent_after_the_as_of_time(db):
    assert check(db, "casl", casl_express_consent_at=AS_OF + SECOND) == FAILED


def test_casl_counts_an_express_consent_at_the_as_of_time(db):
    assert check(db, "casl", casl_express_consent_at=AS_OF) == PASSED


def test_casl_passes_on_a_purchase_exactly_730_days_before_the_as_of_date(db):
    """On or after the as-of date less 730 days: the first moment of that day counts."""
    assert check(db, "casl", casl_express_consent_at=None,
                 last_purchase_at=midnight(AS_OF_DATE - dt.timedelta(days=730))) == PASSED


def test_casl_fails_on_a_purchase_731_days_before_the_as_of_date(db):
    assert check(db, "casl", casl_express_consent_at=None,
                 last_purchase_at=midnight(AS_OF_DATE - dt.timedelta(days=730)) - SECOND) == FAILED


def test_casl_passes_on_an_inquiry_exactly_183_days_before_the_as_of_date(db):
    assert check(db, "casl", casl_express_consent_at=None,
                 last_inquiry_at=midnight(AS_OF_DATE - dt.timedelta(days=183))) == PASSED


def test_casl_fails_on_an_inquiry_184_days_before_the_as_of_date(db):
    assert check(db, "casl", casl_express_consent_at=None,
                 last_inquiry_at=midnight(AS_OF_DATE - dt.timedelta(days=183)) - SECOND) == FAILED


def test_casl_ignores_a_purchase_later_on_the_as_of_date_than_the_as_of_time(db):
    assert check(db, "casl", casl_express_consent_at=None, last_purchase_at=AS_OF + SECOND) == FAILED


def test_casl_ignores_an_inquiry_after_the_as_of_time(db):
    assert check(db, "casl", casl_express_consent_at=None, last_inquiry_at=AS_OF + dt.timedelta(days=1)) == FAILED


def test_casl_fails_after_a_withdrawal_despite_an_earlier_express_consent(db):
    assert check(db, "casl", casl_express_consent_at=days_before(30), casl_withdrawn_at=days_before(10)) == FAILED


def test_casl_fails_after_a_withdrawal_despite_a_recent_purchase_and_inquiry(db):
    assert check(db, "casl", casl_express_consent_at=None, casl_withdrawn_at=days_before(10),
                 last_purchase_at=days_before(1), last_inquiry_at=days_before(1)) == FAILED


def test_casl_passes_when_a_strictly_later_express_consent_lifts_a_withdrawal(db):
    assert check(db, "casl", casl_withdrawn_at=days_before(10), casl_express_consent_at=days_before(10) + SECOND) == PASSED


def test_casl_fails_when_express_consent_and_withdrawal_are_at_the_same_moment(db):
    assert check(db, "casl", casl_withdrawn_at=days_before(10), casl_express_consent_at=days_before(10)) == FAILED


def test_casl_counts_a_withdrawal_at_the_as_of_time(db):
    assert check(db, "casl", casl_express_consent_at=days_before(30), casl_withdrawn_at=AS_OF) == FAILED


def test_casl_ignores_a_withdrawal_after_the_as_of_time(db):
    assert check(db, "casl", casl_express_consent_at=days_before(30), casl_withdrawn_at=AS_OF + SECOND) == PASSED


def test_casl_withdrawal_is_not_lifted_by_an_express_consent_after_the_as_of_time(db):
    assert check(db, "casl", casl_withdrawn_at=days_before(10), casl_express_consent_at=AS_OF + SECOND) == FAILED


# -- Opt Out All --------------------------------------------------------------------

def test_opt_out_all_fails_a_customer_opted_out_of_everything(db):
    assert check(db, "opt_out_all", opt_out_all=True) == FAILED


def test_opt_out_all_passes_a_customer_not_opted_out(db):
    assert check(db, "opt_out_all", opt_out_all=False) == PASSED


# -- Marketing Exclusion ------------------------------------------------------------

def test_marketing_exclusion_fails_a_customer_with_an_excluded_tag(db):
    assert check(db, "marketing_exclusion", tags=["VIP", "fleet"],
                 campaign_columns={"excluded_tags": ["fleet"]}) == FAILED


def test_marketing_exclusion_compares_tags_with_their_case(db):
    assert check(db, "marketing_exclusion", tags=["Fleet", "FLEET"],
                 campaign_columns={"excluded_tags": ["fleet"]}) == PASSED


def test_marketing_exclusion_ignores_another_campaigns_excluded_tags(db):
    def other_campaign(org, campaign_id, person):
        campaign(db, org, name="Win back", excluded_tags=["fleet"])
    assert check(db, "marketing_exclusion", tags=["fleet"], before_run=other_campaign) == PASSED


def buffer_check(db, enrolled_at: dt.datetime, *, days: int = 30, exempt: bool = False, same_campaign: bool = False,
                 other_organization: bool = False, this_campaign_exempt: bool = False,
                 expired_at: dt.datetime | None = None) -> int:
    """Marketing Exclusion of a customer with one earlier enrollment, in a campaign
    with a buffer of ``days``. The earlier enrollment is completed, so that the
    queue check stays out of the way."""
    def enrolled(org, campaign_id, person):
        if same_campaign:
            target = campaign_id
        else:
            owner = organization(db, name="Other dealer") if other_organization else org
            target = campaign(db, owner, name="Win back", exclusion_exempt=exempt)
        enrollment(db, target, person.id, event_key="earlier", status=CampaignCustomerStatus.COMPLETED,
                   enrolled_at=enrolled_at, expired_at=expired_at)
    columns = {"marketing_exclusion_days": days, "exclusion_exempt": this_campaign_exempt}
    return check(db, "marketing_exclusion", campaign_columns=columns, before_run=enrolled)


def test_marketing_exclusion_buffer_includes_an_enrollment_exactly_n_days_before_the_as_of_time(db):
    assert buffer_check(db, days_before(30)) == FAILED


def test_marketing_exclusion_buffer_excludes_an_enrollment_just_before_its_start(db):
    assert buffer_check(db, days_before(30) - SECOND) == PASSED


def test_marketing_exclusion_buffer_includes_an_enrollment_at_the_as_of_time(db):
    assert buffer_check(db, AS_OF) == FAILED


def test_marketing_exclusion_buffer_ignores_an_enrollment_after_the_as_of_time(db):
    assert buffer_check(db, AS_OF + SECOND) == PASSED


def test_marketing_exclusion_buffer_counts_an_expired_enrollment(db):
    assert buffer_check(db, days_before(5), expired_at=days_before(1)) == FAILED


def test_marketing_exclusion_buffer_counts_this_campaigns_own_enrollments(db):
    assert buffer_check(db, days_before(5), same_campaign=True) == FAILED


def test_marketing_exclusion_buffer_counts_this_campaigns_own_enrollments_even_when_it_is_exempt(db):
    """Exemption spares *other* campaigns from this buffer; a campaign's own
    enrollments always count (RULES §3: "in this campaign, or in any other campaign
    ... that is not exclusion_exempt")."""
    assert buffer_check(db, days_before(5), same_campaign=True, this_campaign_exempt=True) == FAILED


def test_marketing_exclusion_buffer_counts_another_campaign_of_the_organization(db):
    assert buffer_check(db, days_before(5)) == FAILED


def test_marketing_exclusion_buffer_ignores_an_exclusion_exempt_campaign(db):
    assert buffer_check(db, days_before(5), exempt=True) == PASSED


def test_marketing_exclusion_buffer_ignores_a_campaign_of_another_organization(db):
    assert buffer_check(db, days_before(5), other_organization=True) == PASSED


def test_marketing_exclusion_without_a_buffer_ignores_recent_enrollments(db):
    def enrolled(org, campaign_id, person):
        enrollment(db, campaign(db, org, name="Win back"), person.id, enrolled_at=days_before(1),
                   status=CampaignCustomerStatus.COMPLETED)
    assert check(db, "marketing_exclusion", before_run=enrolled) == PASSED


def test_marketing_exclusion_buffer_of_zero_days_holds_only_the_as_of_time(db):
    assert buffer_check(db, AS_OF, days=0) == FAILED


# -- every check for every candidate ---------------------------------------------

def test_every_check_is_computed_for_a_candidate_failing_several(db):
    def enrolled(org, campaign_id, person):
        enrollment(db, campaign_id, person.id, status=CampaignCustomerStatus.QUEUED)
    checks = checks_for(
        db, deleted=True, opt_out_all=True, email=None, phone=None, mobile=None, casl_express_consent_at=None,
        tags=["fleet"], campaign_columns={"excluded_tags": ["fleet"]}, before_run=enrolled,
    )
    assert set(checks.values()) == {FAILED}
