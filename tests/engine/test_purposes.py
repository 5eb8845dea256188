"""Every purpose of RULES §2 and the statuses and steps a run ends in: completed,
not applicable (each reason), error (an invalid criterion, a failure later), the
order of outcomes, and the as-of time."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from enroller_desktop.db.enums import Expiration, PotentialStatus, RunPurpose, RunStatus, RunStep
from enroller_desktop.engine.runs import create_run, execute_run
from enroller_desktop.errors import UserError
from tests.builders import (
    AS_OF,
    AS_OF_DATE,
    ENROLLMENTS,
    EVERYONE,
    campaign,
    count_runs,
    customer,
    enrollment,
    enrollment_row,
    enrollments,
    events,
    execute,
    named,
    organization,
    potentials,
    query_param,
    run_params,
    run_row,
)

FUNNEL_COUNTS = ("query_param_customers", "potential_customers", "potential_events", "eligible", "success")
ALL_COUNTS = (*FUNNEL_COUNTS, "expired")
NULL_COUNTS = dict.fromkeys(ALL_COUNTS)
DAY = dt.timedelta(days=1)


def counts(outcome) -> dict:
    return {name: outcome.counts[name] for name in ALL_COUNTS}


@pytest.fixture
def small_campaign(db):
    """A campaign of three candidates: Ann's two vehicles (eligible) and Bob (opted out)."""
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org, first_name="Ann", vehicles=2)
    customer(db, org, first_name="Bob", opt_out_all=True)
    return campaign_id


# -- Default ----------------------------------------------------------------------

def test_default_run_completes_in_campaign_customers_enrolling_the_eligible(db, small_campaign):
    outcome = execute(db, small_campaign)
    assert (outcome.status, outcome.step) == (RunStatus.COMPLETED, RunStep.CAMPAIGN_CUSTOMERS)
    assert counts(outcome) == {"query_param_customers": 3, "potential_customers": 3, "potential_events": 3,
                               "eligible": 2, "success": 2, "expired": None}
    assert len(enrollments(db, small_campaign)) == 2


# -- Campaign Simulation ----------------------------------------------------------

def test_simulation_enrolls_nobody(db, small_campaign):
    execute(db, small_campaign, purpose=RunPurpose.CAMPAIGN_SIMULATION)
    assert enrollments(db) == []


def test_simulation_success_is_the_eligible_count(db, small_campaign):
    outcome = execute(db, small_campaign, purpose=RunPurpose.CAMPAIGN_SIMULATION)
    assert counts(outcome) == {"query_param_customers": 3, "potential_customers": 3, "potential_events": 3,
                               "eligible": 2, "success": 2, "expired": None}


def test_simulation_leaves_every_potential_pending(db, small_campaign):
    outcome = execute(db, small_campaign, purpose=RunPurpose.CAMPAIGN_SIMULATION)
    rows = potentials(db, outcome.id)
    assert {p["status"] for p in rows} == {PotentialStatus.PENDING}
    assert sum(p["is_valid"] for p in rows) == 2


def test_simulation_completes_in_customer_validation(db, small_campaign):
    outcome = execute(db, small_campaign, purpose=RunPurpose.CAMPAIGN_SIMULATION)
    assert (outcome.status, outcome.step) == (RunStatus.COMPLETED, RunStep.CUSTOMER_VALIDATION)


# -- Criterion Stats --------------------------------------------------------------

@pytest.fixture
def two_param_campaign(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=None)
    first = query_param(db, campaign_id, {"any": [named("Ann"), named("Bob")]}, process_order=1)
    second = query_param(db, campaign_id, {"any": [named("Bob"), named("Cy")]}, process_order=2)
    ann = customer(db, org, first_name="Ann", vehicles=2)
    customer(db, org, first_name="Bob")
    customer(db, org, first_name="Cy", opt_out_all=True)
    customer(db, org, first_name="Dee")
    return campaign_id, first, second, ann


def test_criterion_stats_fills_each_params_total(db, two_param_campaign):
    campaign_id, first, second, _ = two_param_campaign
    outcome = execute(db, campaign_id, purpose=RunPurpose.CRITERION_STATS)
    assert {p["query_param_id"]: (p["status"], p["total_customers"]) for p in run_params(db, outcome.id)} == {
        first: (RunStatus.COMPLETED, 3), second: (RunStatus.COMPLETED, 2)}


def test_criterion_stats_counts_distinct_candidates_and_leaves_the_other_counts_empty(db, two_param_campaign):
    campaign_id, *_ = two_param_campaign
    outcome = execute(db, campaign_id, purpose=RunPurpose.CRITERION_STATS)
    assert counts(outcome) == NULL_COUNTS | {"query_param_customers": 4}


def test_criterion_stats_writes_no_potentials_and_enrolls_nobody(db, two_param_campaign):
    campaign_id, *_ = two_param_campaign
    outcome = execute(db, campaign_id, purpose=RunPurpose.CRITERION_STATS)
    assert (potentials(db, outcome.id), enrollments(db)) == ([], [])


def test_criterion_stats_completes_in_criterions(db, two_param_campaign):
    campaign_id, *_ = two_param_campaign
    outcome = execute(db, campaign_id, purpose=RunPurpose.CRITERION_STATS)
    assert (outcome.status, outcome.step) == (RunStatus.COMPLETED, RunStep.CRITERIONS)


# -- Customer Evaluation ----------------------------------------------------------

def test_customer_evaluation_evaluates_and_enrolls_only_its_customer(db, two_param_campaign):
    campaign_id, first, second, ann = two_param_campaign
    outcome = execute(db, campaign_id, purpose=RunPurpose.CUSTOMER_EVALUATION, customer_id=ann.id)
    assert {p["customer_id"] for p in potentials(db, outcome.id)} == {ann.id}
    assert {e["customer_id"] for e in enrollments(db, campaign_id)} == {ann.id}
    assert (outcome.status, outcome.step, outcome.counts["success"]) == (RunStatus.COMPLETED, RunStep.CAMPAIGN_CUSTOMERS, 2)


def test_customer_evaluation_totals_count_only_its_customers_candidates(db, two_param_campaign):
    campaign_id, first, second, ann = two_param_campaign
    outcome = execute(db, campaign_id, purpose=RunPurpose.CUSTOMER_EVALUATION, customer_id=ann.id)
    assert {p["query_param_id"]: p["total_customers"] for p in run_params(db, outcome.id)} == {first: 2, second: 0}
    assert outcome.counts["query_param_customers"] == 2


def test_customer_evaluation_of_another_organizations_customer_is_not_applicable(db, small_campaign):
    stranger = customer(db, organization(db, name="Other dealer"))
    outcome = execute(db, small_campaign, purpose=RunPurpose.CUSTOMER_EVALUATION, customer_id=stranger.id)
    assert (outcome.status, outcome.step, counts(outcome)) == (RunStatus.NOT_APPLICABLE, RunStep.MAIN, NULL_COUNTS)
    assert (potentials(db, outcome.id), enrollments(db)) == ([], [])


def test_customer_evaluation_of_a_missing_customer_is_a_bad_argument_without_a_run(db, small_campaign):
    with pytest.raises(UserError, match="no customer with id 999"):
        create_run(db, campaign_id=small_campaign, purpose=RunPurpose.CUSTOMER_EVALUATION, customer_id=999)
    assert count_runs(db) == 0


def test_customer_evaluation_without_a_customer_is_a_bad_argument(db, small_campaign):
    with pytest.raises(UserError):
        create_run(db, campaign_id=small_campaign, purpose=RunPurpose.CUSTOMER_EVALUATION)
    assert count_runs(db) == 0


def test_a_run_of_a_missing_campaign_is_a_bad_argument_without_a_run(db):
    with pytest.raises(UserError, match="no campaign with id 42"):
        create_run(db, campaign_id=42)
    assert count_runs(db) == 0


# -- Campaign Evaluation and Expire -----------------------------------------------

def test_campaign_evaluation_and_expire_enrolls_then_expires_who_no_longer_qualifies(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=named("Ann"))
    ann = customer(db, org, first_name="Ann")
    bob = customer(db, org, first_name="Bob")
    gone = enrollment(db, campaign_id, bob.id)
    outcome = execute(db, campaign_id, purpose=RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE)
    assert (outcome.status, outcome.step) == (RunStatus.COMPLETED, RunStep.CAMPAIGN_CUSTOMERS)
    assert (outcome.counts["success"], outcome.counts["expired"]) == (1, 1)
    assert enrollment_row(db, gone)["expiration"] == Expiration.NO_LONGER_QUALIFIES
    assert [e["customer_id"] for e in enrollments(db, campaign_id) if e["expired_at"] is None] == [ann.id]


def test_campaign_evaluation_and_expire_after_the_end_only_expires_with_counts_zero(db):
    org = organization(db)
    campaign_id = campaign(db, org, ends_on=AS_OF_DATE - DAY)
    person = customer(db, org, vehicles=2)
    enrolled = enrollment(db, campaign_id, person.id, vehicle_id=person.vehicle_ids[0])
    outcome = execute(db, campaign_id, purpose=RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE)
    assert (outcome.status, outcome.step) == (RunStatus.COMPLETED, RunStep.CAMPAIGN_CUSTOMERS)
    assert counts(outcome) == dict.fromkeys(FUNNEL_COUNTS, 0) | {"expired": 1}
    assert potentials(db, outcome.id) == []
    assert [(e["id"], e["expiration"]) for e in enrollments(db, campaign_id)] == [(enrolled, Expiration.CAMPAIGN_ENDED)]


# -- not applicable ---------------------------------------------------------------

NOT_APPLICABLE = {
    "inactive": ({"active": False}, "inactive"),
    "before starts_on": ({"starts_on": AS_OF_DATE + DAY}, "before"),
    "after ends_on": ({"ends_on": AS_OF_DATE - DAY}, "after"),
}


# Campaign Evaluation and Expire after the end expires instead (tested above).
NOT_APPLICABLE_CASES = [
    (reason, purpose) for reason in NOT_APPLICABLE for purpose in RunPurpose
    if purpose is not RunPurpose.CUSTOMER_EVALUATION
    and (reason, purpose) != ("after ends_on", RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE)
]


@pytest.mark.parametrize(("reason", "purpose"), NOT_APPLICABLE_CASES)
def test_not_applicable_reason_ends_the_run_in_main_with_counts_empty(db, reason, purpose):
    columns, words = NOT_APPLICABLE[reason]
    org = organization(db)
    campaign_id = campaign(db, org, **columns)
    person = customer(db, org)
    enrollment(db, campaign_id, person.id, event_key="earlier")
    outcome = execute(db, campaign_id, purpose=purpose)
    assert (outcome.status, outcome.step, counts(outcome)) == (RunStatus.NOT_APPLICABLE, RunStep.MAIN, NULL_COUNTS)
    assert [(e["stage"], words in e["message"]) for e in events(db, outcome.id)][-1] == (RunStep.MAIN, True)
    assert potentials(db, outcome.id) == []
    assert [e["expired_at"] for e in enrollments(db)] == [None]


def test_campaign_without_any_query_param_is_not_applicable(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=None)
    customer(db, org)
    outcome = execute(db, campaign_id)
    assert (outcome.status, counts(outcome)) == (RunStatus.NOT_APPLICABLE, NULL_COUNTS)


def test_campaign_whose_query_params_are_all_inactive_is_not_applicable(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=None)
    query_param(db, campaign_id, EVERYONE, active=False)
    customer(db, org)
    outcome = execute(db, campaign_id)
    assert (outcome.status, enrollments(db)) == (RunStatus.NOT_APPLICABLE, [])
    assert "no active query param" in events(db, outcome.id)[-1]["message"]


def test_a_run_on_the_first_day_of_the_campaign_applies(db):
    org = organization(db)
    campaign_id = campaign(db, org, starts_on=AS_OF_DATE)
    customer(db, org)
    assert execute(db, campaign_id).status == RunStatus.COMPLETED


def test_a_run_on_the_last_day_of_the_campaign_applies(db):
    org = organization(db)
    campaign_id = campaign(db, org, ends_on=AS_OF_DATE)
    customer(db, org)
    outcome = execute(db, campaign_id, as_of=dt.datetime.combine(AS_OF_DATE, dt.time(23, 59, 59), tzinfo=dt.timezone.utc))
    assert outcome.status == RunStatus.COMPLETED


def test_the_as_of_times_utc_date_decides_whether_the_campaign_ended(db):
    """22:00 in Toronto on the last day is already the next day in UTC."""
    org = organization(db)
    campaign_id = campaign(db, org, ends_on=AS_OF_DATE)
    customer(db, org)
    toronto_evening = dt.datetime.combine(AS_OF_DATE, dt.time(22, 0), tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    assert execute(db, campaign_id, as_of=toronto_evening).status == RunStatus.NOT_APPLICABLE


# -- errors and the order of outcomes ---------------------------------------------

def test_not_applicable_is_decided_before_criteria_are_validated(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion='{"field": "customer.shoe_size", "op": "eq", "value": 9}',
                           starts_on=AS_OF_DATE + DAY)
    outcome = execute(db, campaign_id)
    assert (outcome.status, outcome.error_message) == (RunStatus.NOT_APPLICABLE, None)


def test_invalid_criterion_ends_the_run_in_error_at_criterions_naming_the_query_param(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=None)
    query_param(db, campaign_id, EVERYONE, process_order=1, name="Everyone")
    query_param(db, campaign_id, {"field": "customer.shoe_size", "op": "eq", "value": 9}, process_order=2,
                name="Shoe size")
    customer(db, org)
    outcome = execute(db, campaign_id)
    assert (outcome.status, outcome.step) == (RunStatus.ERROR, RunStep.CRITERIONS)
    assert "Shoe size" in outcome.error_message and "customer.shoe_size" in outcome.error_message
    assert counts(outcome) == NULL_COUNTS
    assert (potentials(db, outcome.id), enrollments(db)) == ([], [])


def test_malformed_json_criterion_ends_the_run_in_error(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion='{"field": "customer.first_name", "op": "eq"')
    customer(db, org)
    outcome = execute(db, campaign_id)
    assert (outcome.status, outcome.step, counts(outcome)) == (RunStatus.ERROR, RunStep.CRITERIONS, NULL_COUNTS)
    assert "Param 1" in outcome.error_message


def test_invalid_event_key_ends_the_run_in_error(db):
    org = organization(db)
    campaign_id = campaign(db, org, event_key="customer.tags")
    customer(db, org)
    outcome = execute(db, campaign_id)
    assert (outcome.status, outcome.step, enrollments(db)) == (RunStatus.ERROR, RunStep.CRITERIONS, [])


def test_an_error_is_recorded_as_an_event_of_the_stage_that_failed(db):
    org = organization(db)
    campaign_id = campaign(db, org, criterion='{"all": []}')
    outcome = execute(db, campaign_id)
    assert [(e["stage"], e["level"]) for e in events(db, outcome.id)][-1] == (RunStep.CRITERIONS, "error")


@pytest.fixture
def refuse_enrollments(db):
    """Call it to make the database refuse any new campaign customer, as a broken
    constraint of another system would: a run then fails at its last stage.
    (PostgreSQL's test database outlives the test: the trigger is dropped after.)"""
    def refuse():
        with db.write() as conn:
            if db.is_sqlite:
                conn.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON campaign_customers "
                                     "BEGIN SELECT RAISE(ABORT, 'enrollments refused'); END")
            else:
                conn.exec_driver_sql("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                                     "$$ BEGIN RAISE EXCEPTION 'enrollments refused'; END $$")
                conn.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON campaign_customers "
                                     "FOR EACH ROW EXECUTE FUNCTION refuse()")
    yield refuse
    with db.write() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS refuse" if db.is_sqlite
                             else "DROP TRIGGER IF EXISTS refuse ON campaign_customers")
        if not db.is_sqlite:
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS refuse()")


def test_a_run_failing_at_enrollment_keeps_the_counts_of_the_stages_it_completed(db, small_campaign, refuse_enrollments):
    refuse_enrollments()
    outcome = execute(db, small_campaign)
    assert (outcome.status, outcome.step) == (RunStatus.ERROR, RunStep.CAMPAIGN_CUSTOMERS)
    assert counts(outcome) == {"query_param_customers": 3, "potential_customers": 3, "potential_events": 3,
                               "eligible": 2, "success": None, "expired": None}
    assert enrollments(db) == []
    assert "refused" in events(db, outcome.id)[-1]["message"]


def test_eligible_potentials_of_a_run_failing_at_enrollment_end_in_error(db, small_campaign, refuse_enrollments):
    """RULES §3: a potential is ``error`` when it was eligible but its enrollment
    failed. A run that fails while enrolling failed every eligible potential's
    enrollment: showing them ``pending`` would tell a user they may yet be
    enrolled. The others stay ``pending``."""
    refuse_enrollments()
    outcome = execute(db, small_campaign)
    assert sorted((p["is_valid"], p["status"]) for p in potentials(db, outcome.id)) == [
        (False, PotentialStatus.PENDING), (True, PotentialStatus.ERROR), (True, PotentialStatus.ERROR)]


def test_a_campaign_evaluation_failing_at_enrollment_expires_nothing(db, refuse_enrollments):
    org = organization(db)
    campaign_id = campaign(db, org, criterion=named("Ann"))
    customer(db, org, first_name="Ann")
    bob = customer(db, org, first_name="Bob")
    enrollment(db, campaign_id, bob.id)
    refuse_enrollments()
    outcome = execute(db, campaign_id, purpose=RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE)
    assert (outcome.status, outcome.counts["expired"]) == (RunStatus.ERROR, None)
    with db.read() as conn:
        assert conn.execute(sa.select(ENROLLMENTS.c.expired_at)).scalars().all() == [None]


# -- the as-of time ---------------------------------------------------------------

def test_as_of_defaults_to_the_time_the_run_starts_executing(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org)
    run_id = create_run(db, campaign_id=campaign_id, scheduled_for=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    before = dt.datetime.now(dt.timezone.utc)
    execute_run(db, run_id)
    after = dt.datetime.now(dt.timezone.utc)
    row = run_row(db, run_id)
    assert before <= row["as_of"] <= after
    assert row["as_of"] == row["in_progress_at"]
    assert [e["enrolled_at"] for e in enrollments(db, campaign_id)] == [row["as_of"]]


def test_a_given_as_of_time_is_kept(db, small_campaign):
    outcome = execute(db, small_campaign, as_of=AS_OF)
    assert run_row(db, outcome.id)["as_of"] == AS_OF


def lease_campaign(db) -> int:
    org = organization(db)
    campaign_id = campaign(db, org, criterion={"field": "vehicle.lease_end_date", "op": "within_next_days", "value": 30})
    customer(db, org, vehicles=[{"lease_end_date": AS_OF_DATE + dt.timedelta(days=30)}])
    return campaign_id


def test_relative_dates_count_from_the_as_of_date(db):
    campaign_id = lease_campaign(db)
    outcome = execute(db, campaign_id, as_of=AS_OF)
    assert outcome.counts["query_param_customers"] == 1


def test_relative_dates_of_an_earlier_as_of_date_move_with_it(db):
    campaign_id = lease_campaign(db)
    outcome = execute(db, campaign_id, as_of=AS_OF - DAY)
    assert outcome.counts["query_param_customers"] == 0


def test_a_run_replayed_as_of_a_past_time_sees_that_days_candidates(db):
    """Replay: as of last year's date, a simulation today finds what a run then found."""
    campaign_id = lease_campaign(db)
    first = execute(db, campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=AS_OF)
    replay = execute(db, campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=AS_OF)
    today = execute(db, campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=None)
    assert (first.counts["success"], replay.counts["success"], today.counts["success"]) == (1, 1, 0)

