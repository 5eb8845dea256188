"""The funnel of RULES §3 as a whole: candidates, crediting, event keys, the stage
counts, the snapshot rule and the enrollment rows, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest

from enroller_desktop.db.enums import CampaignCustomerPurpose, CampaignCustomerStatus, PotentialStatus
from tests.builders import (
    AS_OF,
    EVERYONE,
    PASSED,
    campaign,
    customer,
    days_before,
    enrollment,
    enrollments,
    execute,
    named,
    organization,
    potential,
    potentials,
    query_param,
    run_params,
    run_row,
)

STAGE_COUNTS = ("query_param_customers", "potential_customers", "potential_events", "eligible", "success")


def totals(db, run_id: int) -> dict[int, int]:
    return {row["query_param_id"]: row["total_customers"] for row in run_params(db, run_id)}


# -- candidates ----------------------------------------------------------------------

def test_a_customer_gives_one_candidate_per_vehicle(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    person = customer(db, org, vehicles=3)
    outcome = execute(db, campaign_id)
    assert [(p["customer_id"], p["vehicle_id"]) for p in potentials(db, outcome.id)] == [
        (person.id, vehicle_id) for vehicle_id in person.vehicle_ids]


def test_a_customer_without_vehicle_gives_one_candidate_without_vehicle(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    person = customer(db, org, vehicles=0)
    outcome = execute(db, campaign_id)
    assert [(p["customer_id"], p["vehicle_id"]) for p in potentials(db, outcome.id)] == [(person.id, None)]


def test_customers_of_another_organization_are_never_candidates(db):
    org, other = organization(db), organization(db, name="Other dealer")
    campaign_id = campaign(db, org)
    mine = customer(db, org)
    customer(db, other)
    outcome = execute(db, campaign_id)
    assert [p["customer_id"] for p in potentials(db, outcome.id)] == [mine.id]


def test_a_candidate_matched_by_several_params_is_credited_to_the_first_in_process_order(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=None)
    later = query_param(db, campaign_id, EVERYONE, process_order=2)
    first = query_param(db, campaign_id, EVERYONE, process_order=1)
    customer(db, org)
    outcome = execute(db, campaign_id)
    assert [p["query_param_id"] for p in potentials(db, outcome.id)] == [first]
    assert later != first


def test_params_of_the_same_process_order_credit_the_lower_id(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=None)
    lower = query_param(db, campaign_id, EVERYONE, process_order=5)
    query_param(db, campaign_id, EVERYONE, process_order=5)
    customer(db, org)
    outcome = execute(db, campaign_id)
    assert [p["query_param_id"] for p in potentials(db, outcome.id)] == [lower]


def test_total_customers_of_a_param_counts_every_candidate_it_matched(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=None)
    first = query_param(db, campaign_id, {"any": [named("Ann"), named("Bob")]}, process_order=1)
    second = query_param(db, campaign_id, {"any": [named("Bob"), named("Cy")]}, process_order=2)
    for name in ("Ann", "Bob", "Cy", "Dee"):
        customer(db, org, first_name=name, vehicles=2)
    outcome = execute(db, campaign_id)
    assert totals(db, outcome.id) == {first: 4, second: 4}
    assert outcome.counts["query_param_customers"] == 6
    assert sorted(p["query_param_id"] for p in potentials(db, outcome.id)) == [first] * 4 + [second] * 2


def test_an_inactive_query_param_is_neither_evaluated_nor_validated(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=named("Ann"))
    query_param(db, campaign_id, "{not json", process_order=0, active=False)
    query_param(db, campaign_id, EVERYONE, process_order=0, active=False)
    ann = customer(db, org, first_name="Ann")
    customer(db, org, first_name="Bob")
    outcome = execute(db, campaign_id)
    assert outcome.status == "completed"
    assert [p["customer_id"] for p in potentials(db, outcome.id)] == [ann.id]


# -- event keys -------------------------------------------------------------------

EVENT_KEYS = [
    ("vehicle.lease_end_date", {}, {"lease_end_date": dt.date(2024, 8, 1)}, "2024-08-01"),
    ("vehicle.year", {}, {"year": 2019}, "2019"),
    ("vehicle.odometer", {}, {"odometer": 120000}, "120000"),
    ("vehicle.model", {}, {"model": "Civic Type R"}, "Civic Type R"),
    ("customer.email", {"email": "Jane.Doe@Example.com"}, {}, "Jane.Doe@Example.com"),
    ("customer.last_purchase_at", {"last_purchase_at": dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5)))},
     {}, "2024-03-02"),
    ("vehicle.lease_end_date", {}, {"lease_end_date": None}, ""),
    ("vehicle.model", {}, {"model": ""}, ""),
    (None, {}, {}, ""),
    ("", {}, {}, ""),
]


@pytest.mark.parametrize(("field", "customer_columns", "vehicle_columns", "expected"), EVENT_KEYS,
                         ids=[f"{f}={e!r}" for f, _, _, e in EVENT_KEYS])
def test_event_key_is_the_text_of_the_params_field(db, field, customer_columns, vehicle_columns, expected):
    org = organization(db)
    campaign_id = campaign(db, org, event_key=field)
    person = customer(db, org, vehicles=[vehicle_columns], **customer_columns)
    outcome = execute(db, campaign_id)
    assert potential(db, outcome.id, person.id, person.vehicle_id)["event_key"] == expected
    assert [e["event_key"] for e in enrollments(db, campaign_id)] == [expected]


def test_event_key_comes_from_the_crediting_param(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=None)
    query_param(db, campaign_id, EVERYONE, process_order=2, event_key="vehicle.vin")
    query_param(db, campaign_id, EVERYONE, process_order=1, event_key="vehicle.year")
    person = customer(db, org, vehicles=[{"vin": "1HGCM82633A004352", "year": 2021}])
    outcome = execute(db, campaign_id)
    assert potential(db, outcome.id, person.id, person.vehicle_id)["event_key"] == "2021"


# -- counts -------------------------------------------------------------------------

def _passed(value) -> bool:
    return value == PASSED


def counts_over_potentials(rows: list[dict]) -> dict[str, int]:
    """RULES §3's stages, counted in plain Python over the potentials."""
    potential_customers = [p for p in rows if _passed(p["deleted"])
                           and any(_passed(p[c]) for c in ("valid_email", "valid_phone", "valid_message"))]
    potential_events = [p for p in potential_customers if _passed(p["unique_event"]) and _passed(p["already_in_queue"])]
    eligible = [p for p in potential_events if p["casl"] in (None, PASSED)
                and _passed(p["opt_out_all"]) and _passed(p["marketing_exclusion"])]
    return {
        "query_param_customers": len(rows),
        "potential_customers": len(potential_customers),
        "potential_events": len(potential_events),
        "eligible": len(eligible),
        "success": sum(p["status"] == PotentialStatus.SUCCESS for p in rows),
    }


@pytest.fixture
def mixed_campaign(db):
    """A campaign over ten candidates, each falling out at a known stage."""
    org = organization(db)
    campaign_id = campaign(db, org, excluded_tags=["fleet"])
    customer(db, org, first_name="Passes", vehicles=2)
    customer(db, org, first_name="Deleted", deleted=True)
    customer(db, org, first_name="Unreachable", email=None, phone=None, mobile=None)
    customer(db, org, first_name="Phone only", email_opt_out=True, sms_opt_out=True)
    queued = customer(db, org, first_name="Queued")
    enrollment(db, campaign_id, queued.id, event_key="earlier")
    done = customer(db, org, first_name="Done")
    enrollment(db, campaign_id, done.id, status=CampaignCustomerStatus.COMPLETED)
    customer(db, org, first_name="No consent", casl_express_consent_at=None)
    customer(db, org, first_name="Opted out", opt_out_all=True)
    customer(db, org, first_name="Fleet", tags=["fleet"])
    customer(db, organization(db, name="Other dealer"), first_name="Elsewhere")
    return campaign_id


def test_stage_counts_are_those_of_the_funnel(db, mixed_campaign):
    outcome = execute(db, mixed_campaign)
    assert {name: outcome.counts[name] for name in STAGE_COUNTS} == {
        "query_param_customers": 10, "potential_customers": 8, "potential_events": 6, "eligible": 3, "success": 3}


def test_stage_counts_equal_counts_over_the_runs_potentials(db, mixed_campaign):
    outcome = execute(db, mixed_campaign)
    assert {name: outcome.counts[name] for name in STAGE_COUNTS} == counts_over_potentials(potentials(db, outcome.id))


def test_is_valid_marks_exactly_the_eligible_potentials(db, mixed_campaign):
    outcome = execute(db, mixed_campaign)
    rows = potentials(db, outcome.id)
    assert sorted(p["first_name"] for p in rows if p["is_valid"]) == ["Passes", "Passes", "Phone only"]


def test_potential_status_is_success_when_enrolled_and_pending_otherwise(db, mixed_campaign):
    outcome = execute(db, mixed_campaign)
    statuses = {(p["first_name"], p["status"]) for p in potentials(db, outcome.id)}
    assert {name for name, status in statuses if status == PotentialStatus.SUCCESS} == {"Passes", "Phone only"}
    assert {status for name, status in statuses if name not in ("Passes", "Phone only")} == {PotentialStatus.PENDING}


def test_potential_is_error_when_another_system_enrolled_its_event_first(db):
    """Eligible, but by the time the run enrolls, the event is taken: the unique
    key refuses the second enrollment and the potential ends ``error``."""
    org = organization(db)
    campaign_id = campaign(db, org)
    person = customer(db, org)

    def enroll_it_first(fraction, message):
        if message.startswith("Enrolling"):
            enrollment(db, campaign_id, person.id, enrolled_at=AS_OF)

    outcome = execute(db, campaign_id, progress=enroll_it_first)
    row = potential(db, outcome.id, person.id)
    assert (outcome.status, outcome.counts["eligible"], outcome.counts["success"]) == ("completed", 1, 0)
    assert (row["is_valid"], row["status"]) == (True, PotentialStatus.ERROR)
    assert [e["run_id"] for e in enrollments(db, campaign_id)] == [None]


def test_a_campaign_using_no_channel_writes_potentials_and_counts_none_past_the_candidates(db):
    org = organization(db)
    campaign_id = campaign(db, org, uses_email=False, uses_phone=False, uses_sms=False)
    customer(db, org, vehicles=2)
    customer(db, org)
    outcome = execute(db, campaign_id)
    assert {name: outcome.counts[name] for name in STAGE_COUNTS} == {
        "query_param_customers": 3, "potential_customers": 0, "potential_events": 0, "eligible": 0, "success": 0}
    assert len(potentials(db, outcome.id)) == 3
    assert enrollments(db, campaign_id) == []


def test_potentials_carry_the_customers_names_and_validation_time(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    person = customer(db, org, first_name="Zoë", last_name="Ångström")
    before = dt.datetime.now(dt.timezone.utc)
    outcome = execute(db, campaign_id)
    row = potential(db, outcome.id, person.id)
    assert (row["first_name"], row["last_name"]) == ("Zoë", "Ångström")
    assert row["validated_at"] >= before - dt.timedelta(seconds=1)


# -- snapshot and enrollment --------------------------------------------------------

def test_a_run_enrolls_several_vehicles_of_one_customer(db):
    """Its own first enrollment does not put the customer "in queue" for the next vehicle."""
    org = organization(db)
    campaign_id = campaign(db, org)
    person = customer(db, org, vehicles=3)
    outcome = execute(db, campaign_id)
    assert outcome.counts["success"] == 3
    assert sorted(e["vehicle_id"] for e in enrollments(db, campaign_id)) == person.vehicle_ids


def test_a_runs_own_enrollments_change_none_of_its_checks(db):
    """Snapshot: with a marketing buffer, a queue check and an event key shared by
    the vehicles, every check of every candidate still passes."""
    org = organization(db)
    campaign_id = campaign(db, org, marketing_exclusion_days=365)
    person = customer(db, org, vehicles=2)
    outcome = execute(db, campaign_id)
    assert {p[c] for p in potentials(db, outcome.id) for c in ("unique_event", "already_in_queue", "marketing_exclusion")} == {PASSED}
    assert len(enrollments(db, campaign_id)) == len(person.vehicle_ids)


def test_an_enrollment_is_queued_with_purpose_default_the_run_its_event_key_and_the_as_of_time(db):
    org = organization(db)
    campaign_id = campaign(db, org, event_key="vehicle.year")
    person = customer(db, org, vehicles=[{"year": 2018}])
    as_of = dt.datetime(2024, 6, 15, 7, 45, 12, tzinfo=dt.timezone.utc)
    outcome = execute(db, campaign_id, as_of=as_of)
    expected = {
        "campaign_id": campaign_id, "customer_id": person.id, "vehicle_id": person.vehicle_id,
        "event_key": "2018", "run_id": outcome.id, "purpose": CampaignCustomerPurpose.DEFAULT,
        "status": CampaignCustomerStatus.QUEUED, "enrolled_at": as_of, "expiration": None, "expired_at": None}
    (row,) = enrollments(db, campaign_id)
    assert {name: row[name] for name in expected} == expected


def test_a_second_run_enrolls_nobody_already_enrolled(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org, vehicles=2)
    execute(db, campaign_id)
    again = execute(db, campaign_id, as_of=AS_OF + dt.timedelta(days=1))
    assert (again.counts["potential_customers"], again.counts["potential_events"], again.counts["success"]) == (2, 0, 0)
    assert len(enrollments(db, campaign_id)) == 2


def test_the_runs_counts_are_on_its_row(db, mixed_campaign):
    outcome = execute(db, mixed_campaign)
    row = run_row(db, outcome.id)
    assert {name: row[name] for name in STAGE_COUNTS} == {name: outcome.counts[name] for name in STAGE_COUNTS}
    assert row["expired"] is None


def test_query_params_of_the_run_are_completed_with_their_attempts_and_timings(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org, vehicles=2)
    outcome = execute(db, campaign_id)
    (param,) = run_params(db, outcome.id)
    assert (param["status"], param["total_customers"], param["query_attempts"]) == ("completed", 2, 1)
    assert param["created_at"] <= param["in_progress_at"] <= param["completed_at"]
    assert param["average_potential_duration_ms"] >= 0


def test_a_recent_enrollment_in_another_campaign_holds_back_the_candidate(db):
    """End to end: the frequency buffer keeps a customer out of the campaign."""
    org = organization(db)
    campaign_id = campaign(db, org, marketing_exclusion_days=14)
    person = customer(db, org)
    enrollment(db, campaign(db, org, name="Win back"), person.id, enrolled_at=days_before(3))
    outcome = execute(db, campaign_id)
    assert (outcome.counts["potential_events"], outcome.counts["eligible"], outcome.counts["success"]) == (1, 0, 0)
