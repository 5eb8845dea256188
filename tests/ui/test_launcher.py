"""The runs a window executes, tested without a window: due scheduled runs are
claimed as a worker claims them, two launchers and a worker process never
execute one twice, and a cancel says what happened."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from enroller_desktop.db.enums import RunStatus, RunStep
from enroller_desktop.engine.runs import cancel_run, create_run
from enroller_desktop.ui.launcher import RunLauncher
from tests.builders import campaign, customer, events, organization, run_row, slow_campaign
from tests.engine.test_concurrency import enroller


@pytest.fixture
def small_campaign(db):
    org = organization(db)
    campaign_id = campaign(db, org)
    for n in range(3):
        customer(db, org, first_name=f"Customer {n}", vehicles=n % 2)
    return campaign_id


@pytest.fixture
def launcher_on():
    """Makes launchers (polling every 100 ms) and shuts them down after the test."""
    made: list[RunLauncher] = []

    def make(db, *, slots: int = 2) -> RunLauncher:
        made.append(RunLauncher(db, max_concurrent=slots, due_interval_ms=100))
        return made[-1]

    yield make
    for launcher in made:
        launcher.shutdown(cancel=True)


def ago(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=seconds)


def test_a_launcher_executes_a_due_run_it_did_not_schedule(qtbot, db, small_campaign, launcher_on):
    run_id = create_run(db, campaign_id=small_campaign, scheduled_for=ago(60))
    launcher = launcher_on(db)
    with qtbot.waitSignal(launcher.runFinished, timeout=30_000) as finished:
        launcher.start()
    assert finished.args == [run_id]
    assert run_row(db, run_id)["status"] == RunStatus.COMPLETED


def test_a_run_not_yet_due_waits_and_is_counted_as_waiting(qtbot, db, small_campaign, launcher_on):
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=2)
    run_id = create_run(db, campaign_id=small_campaign, scheduled_for=later)
    launcher = launcher_on(db)
    launcher.start()
    qtbot.waitUntil(lambda: launcher.backlog is not None, timeout=10_000)
    assert launcher.backlog.scheduled == 1
    assert abs(launcher.backlog.first_due - later) < dt.timedelta(seconds=1)
    assert run_row(db, run_id)["status"] == RunStatus.SCHEDULED


def test_a_launcher_not_started_leaves_due_runs_alone(qtbot, db, small_campaign, launcher_on):
    due = create_run(db, campaign_id=small_campaign, scheduled_for=ago(60))
    asked = create_run(db, campaign_id=small_campaign)
    launcher = launcher_on(db)
    with qtbot.waitSignal(launcher.runFinished, timeout=30_000):
        launcher.execute(asked)
    qtbot.wait(300)
    assert run_row(db, asked)["status"] == RunStatus.COMPLETED
    assert run_row(db, due)["status"] == RunStatus.SCHEDULED


def test_two_launchers_and_a_worker_execute_each_due_run_exactly_once(qtbot, db, small_campaign, launcher_on):
    run_ids = [create_run(db, campaign_id=small_campaign, scheduled_for=ago(120 - n)) for n in range(12)]
    first, second = launcher_on(db), launcher_on(db)
    executed: list[int] = []
    first.runFinished.connect(executed.append)
    second.runFinished.connect(executed.append)
    first.start()
    second.start()
    worker = enroller(db, "worker", "--once")
    out, err = worker.communicate(timeout=300)
    assert worker.returncode == 0, err
    executed += [int(n) for n in re.findall(r"^Run (\d+): ", out, re.MULTILINE)]
    qtbot.waitUntil(lambda: len(executed) >= len(run_ids) and not first.executing and not second.executing, timeout=120_000)
    qtbot.wait(300)  # a double execution would arrive now
    assert sorted(executed) == run_ids
    assert {run_row(db, r)["status"] for r in run_ids} == {RunStatus.COMPLETED}
    for run_id in run_ids:
        assert [e["stage"] for e in events(db, run_id)].count(RunStep.MAIN) == 1


def test_canceling_a_run_executing_here_says_it_was_canceled(qtbot, db, launcher_on):
    run_id = create_run(db, campaign_id=slow_campaign(db))
    launcher = launcher_on(db)
    launcher.execute(run_id)
    qtbot.waitUntil(lambda: run_row(db, run_id)["status"] == RunStatus.IN_PROGRESS, timeout=30_000)
    with qtbot.waitSignal(launcher.canceled, timeout=30_000) as canceled:
        launcher.cancel([run_id])
    [result] = canceled.args[0]
    assert result.status in (RunStatus.CANCELED, RunStatus.IN_PROGRESS)
    assert "only a scheduled" not in result.message
    qtbot.waitUntil(lambda: not launcher.executing, timeout=30_000)
    assert run_row(db, run_id)["status"] == RunStatus.CANCELED


def test_canceling_a_finished_run_says_it_had_ended(qtbot, db, small_campaign, launcher_on):
    run_id = create_run(db, campaign_id=small_campaign, scheduled_for=ago(-3600))
    cancel_run(db, run_id)
    launcher = launcher_on(db)
    with qtbot.waitSignal(launcher.canceled, timeout=10_000) as canceled:
        launcher.cancel([run_id])
    assert [r.message for r in canceled.args[0]] == [f"Run {run_id} had already ended (Canceled): nothing to cancel"]


def test_canceling_a_scheduled_run_says_it_was_canceled(qtbot, db, small_campaign, launcher_on):
    run_id = create_run(db, campaign_id=small_campaign, scheduled_for=ago(-3600))
    launcher = launcher_on(db)
    with qtbot.waitSignal(launcher.canceled, timeout=10_000) as canceled:
        launcher.cancel([run_id])
    assert [r.message for r in canceled.args[0]] == [f"Run {run_id} canceled"]
