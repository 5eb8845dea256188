"""The database goes away in the middle of a run, and comes back.

The shared PostgreSQL server is never stopped (other people use it). Instead, on
a database of our own, every backend connected to it is terminated with
``pg_terminate_backend``, and ``ALLOW_CONNECTIONS false`` keeps new connections
out for a while: to the run this is a server that stopped, then came back.

The URL carries a password (the test server trusts local connections, so any
password is accepted): what the user is shown must never hold it.
"""

from __future__ import annotations

import datetime as dt
import signal
import time

import pytest
import sqlalchemy as sa

from enroller_desktop.db.engine import open_database
from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.engine.runs import INTERRUPTED, create_run, recover_interrupted, utcnow
from tests.reliability.conftest import run_cli, start_cli, stop
from tests.polling import wait_until
from tests.builders import POPULATION_AS_OF, RUNS, duplicate_enrollments, enrolled_by, read_run

PASSWORD = "Away-Secret-7319"
#: Longer than a statement's retries (0.25 + 0.5 + 1 + 2 s) and those of writing
#: the error after them: the run cannot even record its end.
LONG_OUTAGE_S = 9.0
#: Shorter than the retries: the run may carry on as if nothing happened.
SHORT_OUTAGE_S = 0.5


def _step_of_running(db):
    with db.read() as conn:
        return conn.execute(sa.select(RUNS.c.id).where(RUNS.c.status == RunStatus.IN_PROGRESS.value,
                                                       RUNS.c.step != "main")).scalar()


def _take_away(own_pg, name: str) -> None:
    own_pg.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    own_pg.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name", name=name)


def _bring_back(own_pg, name: str) -> None:
    own_pg.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


@pytest.fixture
def away_db(population_template, own_pg):
    template = population_template("postgresql")
    url = template.copy("away")
    name = sa.engine.make_url(url).database
    yield template, name, own_pg.url(name, password=PASSWORD)
    _bring_back(own_pg, name)
    template.discard(url)


def _outage_during_run(own_pg, template, name: str, url: str, cli_env, seconds: float):
    """Start a run, take the database away once it is past its first step, bring it
    back after ``seconds``; returns (run id, exit status, stdout, stderr)."""
    watcher = open_database(url)
    process = start_cli(["--db", url, "run", "--campaign", str(template.population.campaign_ids[0]), "--as-of", POPULATION_AS_OF.isoformat()], cli_env)
    try:
        run_id = wait_until(lambda: _step_of_running(watcher) or process.poll() is not None, timeout=60,
                            what="the run to begin its criteria")
        assert process.poll() is None, process.communicate()
        watcher.dispose()
        _take_away(own_pg, name)
        time.sleep(seconds)
        _bring_back(own_pg, name)
        out, err = process.communicate(timeout=120)
    finally:
        stop(process)
        _bring_back(own_pg, name)
    return run_id, process.returncode, out, err


@pytest.mark.slow
def test_a_run_whose_database_stays_away_ends_in_error_and_enrolls_nobody(away_db, own_pg, cli_env):
    template, name, url = away_db
    run_id, status, out, err = _outage_during_run(own_pg, template, name, url, cli_env, LONG_OUTAGE_S)

    assert status == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "cannot use the database" in err
    assert PASSWORD not in out + err

    db = open_database(url)
    recover_interrupted(db, now=utcnow() + dt.timedelta(seconds=61))
    with db.read() as conn:
        run = read_run(conn, run_id)
        assert run.status == RunStatus.ERROR
        assert run.error_message == INTERRUPTED or "nothing was enrolled" in run.error_message
        assert PASSWORD not in (run.error_message or "")
        assert enrolled_by(conn, run_id) == 0
        assert duplicate_enrollments(conn) == []
    db.dispose()


@pytest.mark.slow
def test_a_run_whose_database_blinks_completes_or_ends_in_error_without_doubling(away_db, own_pg, cli_env):
    template, name, url = away_db
    run_id, status, out, err = _outage_during_run(own_pg, template, name, url, cli_env, SHORT_OUTAGE_S)

    assert "Traceback" not in err and PASSWORD not in out + err
    db = open_database(url)
    with db.read() as conn:
        run = read_run(conn, run_id)
        assert duplicate_enrollments(conn) == []
        if run.status == RunStatus.COMPLETED:
            assert status == 0 and enrolled_by(conn, run_id) == run.success
        else:
            assert run.status in (RunStatus.ERROR, RunStatus.IN_PROGRESS)
            assert enrolled_by(conn, run_id) == 0
    db.dispose()


@pytest.mark.slow
def test_a_worker_started_after_the_outage_executes_the_runs_due(away_db, own_pg, cli_env):
    template, name, url = away_db
    _outage_during_run(own_pg, template, name, url, cli_env, LONG_OUTAGE_S)
    db = open_database(url)
    due = create_run(db, campaign_id=template.population.campaign_ids[0], as_of=POPULATION_AS_OF,
                     scheduled_for=utcnow() - dt.timedelta(seconds=1))

    result = run_cli(["--db", url, "worker", "--once"], cli_env)

    assert result.returncode == 0, result.stderr
    with db.read() as conn:
        run = read_run(conn, due)
        assert run.status == RunStatus.COMPLETED
        assert enrolled_by(conn, due) == run.success
        assert duplicate_enrollments(conn) == []
    db.dispose()


@pytest.mark.slow
def test_a_worker_polling_through_the_outage_carries_on_once_the_database_is_back(away_db, own_pg, cli_env):
    template, name, url = away_db
    db = open_database(url)
    campaign = template.population.campaign_ids[0]
    before = create_run(db, campaign_id=campaign, as_of=POPULATION_AS_OF, scheduled_for=utcnow() - dt.timedelta(seconds=1))
    db.dispose()
    worker = start_cli(["--db", url, "worker"], cli_env)
    try:
        db = open_database(url)
        wait_until(lambda: _finished(db, before), timeout=120, interval=0.2, what="the worker's first run")
        db.dispose()
        _take_away(own_pg, name)
        time.sleep(LONG_OUTAGE_S)
        _bring_back(own_pg, name)
        assert worker.poll() is None, worker.communicate()

        db = open_database(url)
        due = create_run(db, campaign_id=campaign, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=POPULATION_AS_OF,
                         scheduled_for=utcnow() - dt.timedelta(seconds=1))
        finished = wait_until(lambda: _finished(db, due), timeout=120, interval=0.2, what="the worker to execute the run")
        assert finished == RunStatus.COMPLETED
    finally:
        out, err = stop(worker, signal.SIGTERM)
    assert worker.returncode == 0, err
    assert PASSWORD not in out + err
    db.dispose()


def _finished(db, run_id: int):
    with db.read() as conn:
        status = read_run(conn, run_id).status
    return status if status not in (RunStatus.SCHEDULED, RunStatus.IN_PROGRESS) else None
