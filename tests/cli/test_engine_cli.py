"""The engine's commands of RULES §7 (``run``, ``runs``, ``cancel``, ``worker``), run
as a user runs them: the installed ``enroller-desktop`` program in a subprocess."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.engine.runs import cancel_run, claim, create_run
from tests.builders import (
    AS_OF,
    ENROLLER,
    RUNS,
    campaign,
    count_runs,
    customer,
    enrollments,
    execute,
    no_write_in_progress,
    organization,
    paused_when,
    potentials,
    run_row,
    slow_campaign,
)

COUNT_KEYS = {"query_param_customers", "potential_customers", "potential_events", "eligible", "success", "expired"}


def enroller(db, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ENROLLER), "--db", db.url, *map(str, args)], capture_output=True, text=True, timeout=120)


def assert_one_line_refusal(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("enroller-desktop: ")


@pytest.fixture
def campaign_id(db):
    """Three candidates, two of them eligible."""
    org = organization(db)
    campaign_id = campaign(db, org)
    customer(db, org, vehicles=2)
    customer(db, org, first_name="Bob", opt_out_all=True)
    return campaign_id


# -- run --------------------------------------------------------------------------

def test_run_prints_the_run_id_status_and_counts(db, campaign_id):
    result = enroller(db, "run", "--campaign", campaign_id)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Run 1: Completed")
    assert [line.split() for line in lines[1:]] == [
        ["Query", "param", "customers", "3"], ["Potential", "customers", "3"], ["Potential", "events", "3"],
        ["Eligible", "2"], ["Success", "2"]]


def test_run_json_is_one_object_with_the_id_status_and_counts(db, campaign_id):
    result = enroller(db, "run", "--campaign", campaign_id, "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed == {"id": 1, "status": "completed", "step": "campaign_customers", "query_param_customers": 3,
                       "potential_customers": 3, "potential_events": 3, "eligible": 2, "success": 2, "expired": None,
                       "error_message": None, "sole_blockers": {"deleted": 0, "channels": 0, "unique_event": 0,
                       "already_in_queue": 0, "casl": 0, "opt_out_all": 1, "marketing_exclusion": 0}}


def test_run_ending_in_error_exits_1(db):
    broken = campaign(db, organization(db), criterion='{"field": "customer.shoe_size", "op": "eq", "value": 9}')
    result = enroller(db, "run", "--campaign", broken, "--json")
    printed = json.loads(result.stdout)
    assert (result.returncode, printed["status"]) == (1, "error")
    assert "customer.shoe_size" in printed["error_message"]


def test_run_not_applicable_exits_0(db):
    idle = campaign(db, organization(db), active=False)
    result = enroller(db, "run", "--campaign", idle, "--json")
    assert (result.returncode, json.loads(result.stdout)["status"]) == (0, "not_applicable")


def test_run_of_each_purpose_prints_its_outcome(db, campaign_id):
    statuses = [json.loads(enroller(db, "run", "--campaign", campaign_id, "--purpose", purpose.value, "--json",
                                    *(["--customer", "1"] if purpose is RunPurpose.CUSTOMER_EVALUATION else [])).stdout)["status"]
                for purpose in RunPurpose]
    assert statuses == ["completed"] * len(RunPurpose)


def test_run_of_a_missing_campaign_exits_2_without_a_run(db):
    result = enroller(db, "run", "--campaign", 404)
    assert_one_line_refusal(result)
    assert "404" in result.stderr
    assert count_runs(db) == 0


def test_customer_evaluation_of_a_missing_customer_exits_2_without_a_run(db, campaign_id):
    result = enroller(db, "run", "--campaign", campaign_id, "--purpose", "customer_evaluation", "--customer", 999)
    assert_one_line_refusal(result)
    assert count_runs(db) == 0


BAD_ARGUMENTS = {
    "no campaign": [],
    "campaign not a number": ["--campaign", "abc"],
    "unknown purpose": ["--campaign", "1", "--purpose", "everything"],
    "as-of not a time": ["--campaign", "1", "--as-of", "yesterday"],
    "at not a time": ["--campaign", "1", "--at", "soon"],
    "customer for a default run": ["--campaign", "1", "--customer", "1"],
}


@pytest.mark.parametrize("arguments", BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys())
def test_run_with_a_bad_argument_exits_2_with_one_line(db, campaign_id, arguments):
    assert_one_line_refusal(enroller(db, "run", *arguments))
    assert count_runs(db) == 0


def test_run_at_a_time_schedules_the_run_instead(db, campaign_id):
    result = enroller(db, "run", "--campaign", campaign_id, "--at", "2031-01-02T03:04:05Z", "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    row = run_row(db, printed["id"])
    assert (printed["status"], row["status"]) == ("scheduled", RunStatus.SCHEDULED)
    assert row["scheduled_for"] == dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert potentials(db, printed["id"]) == []


def test_run_as_of_a_time_without_zone_takes_it_as_utc(db, campaign_id):
    result = enroller(db, "run", "--campaign", campaign_id, "--as-of", "2024-06-15T12:00:00", "--json")
    assert run_row(db, json.loads(result.stdout)["id"])["as_of"] == AS_OF


def test_run_as_of_a_time_with_a_zone_is_stored_in_utc(db, campaign_id):
    result = enroller(db, "run", "--campaign", campaign_id, "--as-of", "2024-06-15T08:00:00-04:00", "--json")
    assert run_row(db, json.loads(result.stdout)["id"])["as_of"] == AS_OF


@pytest.mark.slow
def test_run_canceled_from_another_process_exits_0_and_enrolls_nobody(db):
    campaign_id = slow_campaign(db)
    process = subprocess.Popen([str(ENROLLER), "--db", db.url, "run", "--campaign", str(campaign_id), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def cancelable() -> bool:
        """In progress, and not in the middle of a write: a cancel asked in the
        run's enrollment transaction waits for it and hears that it completed."""
        return (count_runs(db) == 1 and run_row(db, 1)["status"] == RunStatus.IN_PROGRESS
                and no_write_in_progress(db, 1))

    with paused_when(process, cancelable):
        assert cancel_run(db, 1) == RunStatus.IN_PROGRESS
    out, err = process.communicate(timeout=120)
    assert (process.returncode, json.loads(out)["status"]) == (0, "canceled"), err
    assert enrollments(db) == []


# -- runs -------------------------------------------------------------------------

@pytest.fixture
def history(db, campaign_id):
    """A completed Default and a completed Simulation of one campaign, a not
    applicable run of another, and a scheduled run."""
    idle = campaign(db, organization(db, name="Idle dealer"), active=False)
    return {
        "default": execute(db, campaign_id).id,
        "simulation": execute(db, campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION).id,
        "not_applicable": execute(db, idle).id,
        "scheduled": create_run(db, campaign_id=idle, scheduled_for=dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc)),
        "idle": idle,
    }


def listed(db, *filters) -> list[int]:
    result = enroller(db, "runs", "--json", *filters)
    assert result.returncode == 0, result.stderr
    return [run["id"] for run in json.loads(result.stdout)]


def test_runs_lists_every_run_newest_first(db, history):
    assert listed(db) == [history[k] for k in ("scheduled", "not_applicable", "simulation", "default")]


def test_runs_filters_by_status(db, history):
    assert listed(db, "--status", "completed") == [history["simulation"], history["default"]]


def test_runs_filters_by_purpose(db, history):
    assert listed(db, "--purpose", "campaign_simulation") == [history["simulation"]]


def test_runs_filters_by_campaign(db, history):
    assert listed(db, "--campaign", history["idle"]) == [history["scheduled"], history["not_applicable"]]


def test_runs_json_carries_each_runs_status_and_counts(db, history):
    result = enroller(db, "runs", "--json", "--purpose", "default", "--status", "completed")
    (run,) = json.loads(result.stdout)
    assert (run["id"], run["status"], run["purpose"], run["success"]) == (history["default"], "completed", "default", 2)
    assert COUNT_KEYS <= set(run)


def test_runs_prints_a_table_with_a_line_per_run(db, history):
    result = enroller(db, "runs", "--status", "not_applicable")
    assert result.returncode == 0, result.stderr
    assert "Not Applicable" in result.stdout
    assert result.stdout.splitlines()[-1] == "1 run(s)"


def test_runs_marks_a_run_whose_process_died_as_interrupted(db, campaign_id):
    run_id = create_run(db, campaign_id=campaign_id)
    claim(db, run_id)
    stopped = run_row(db, run_id)["heartbeat_at"] - dt.timedelta(seconds=61)
    with db.write() as conn:  # its process stopped beating more than 60 s ago
        conn.execute(RUNS.update().where(RUNS.c.id == run_id).values(heartbeat_at=stopped))
    (run,) = json.loads(enroller(db, "runs", "--json").stdout)
    assert (run["status"], run["error_message"]) == ("error", "interrupted")


def test_runs_with_an_unknown_status_exits_2(db):
    assert_one_line_refusal(enroller(db, "runs", "--status", "finished"))


# -- cancel -----------------------------------------------------------------------

def test_cancel_of_a_scheduled_run_cancels_it(db, campaign_id):
    run_id = create_run(db, campaign_id=campaign_id)
    result = enroller(db, "cancel", run_id)
    assert (result.returncode, run_row(db, run_id)["status"]) == (0, RunStatus.CANCELED)


def test_cancel_of_a_finished_run_exits_2(db, campaign_id):
    run_id = execute(db, campaign_id).id
    assert_one_line_refusal(enroller(db, "cancel", run_id))
    assert run_row(db, run_id)["status"] == RunStatus.COMPLETED


def test_cancel_of_a_missing_run_exits_2(db):
    assert_one_line_refusal(enroller(db, "cancel", 12345))


# -- worker -------------------------------------------------------------------------

def test_worker_once_executes_the_due_runs_and_exits_0(db, campaign_id):
    due = create_run(db, campaign_id=campaign_id, scheduled_for=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    later = create_run(db, campaign_id=campaign_id, scheduled_for=dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc))
    result = enroller(db, "worker", "--once")
    assert result.returncode == 0, result.stderr
    assert (run_row(db, due)["status"], run_row(db, later)["status"]) == (RunStatus.COMPLETED, RunStatus.SCHEDULED)


def test_worker_once_exits_1_when_a_run_it_executed_ended_in_error(db, campaign_id):
    broken = campaign(db, organization(db, name="Broken"), criterion='{"any": []}')
    create_run(db, campaign_id=campaign_id)
    failing = create_run(db, campaign_id=broken)
    result = enroller(db, "worker", "--once")
    assert result.returncode == 1
    assert run_row(db, failing)["status"] == RunStatus.ERROR
