"""Concurrent clients: workers, a window's thread pool and command lines sharing runs.

On PostgreSQL, three ``worker`` processes and a thread pool standing for a window
(threads that claim the next due run, and one that asks for particular runs the
way a user clicking "Run now" would) share 50 scheduled runs over the same
campaigns. On SQLite, two ``run`` processes execute at once on one file.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import signal
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from enroller_desktop.db.engine import open_database
from enroller_desktop.db.enums import PotentialStatus, RunPurpose, RunStatus
from enroller_desktop.engine.runs import create_run, execute_claimed, execute_run
from enroller_desktop.engine.worker import claim_next_due
from enroller_desktop.errors import UserError
from tests.reliability.conftest import start_cli, stop
from tests.polling import wait_until
from tests.builders import (
    ENROLLMENTS,
    EVENTS,
    POPULATION_AS_OF,
    POTENTIALS,
    RUN_PARAMS,
    RUNS,
    UTC,
    duplicate_enrollments,
    load_population,
)

RUN_COUNT = 50
PURPOSES = (RunPurpose.DEFAULT, RunPurpose.CAMPAIGN_SIMULATION, RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE,
            RunPurpose.DEFAULT, RunPurpose.CRITERION_STATS)


def _unfinished(db) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).where(
            RUNS.c.status.in_([RunStatus.SCHEDULED.value, RunStatus.IN_PROGRESS.value]))).scalar_one()


def assert_counts_consistent(conn, run) -> None:
    """Every count of a finished run agrees with the rows it wrote."""
    rid = run.id
    potentials = conn.execute(sa.select(POTENTIALS).where(POTENTIALS.c.run_id == rid)).all()
    enrolled = conn.execute(sa.select(sa.func.count()).where(ENROLLMENTS.c.run_id == rid)).scalar_one()
    if run.purpose == RunPurpose.CRITERION_STATS:
        assert potentials == [] and enrolled == 0
        assert (run.potential_customers, run.eligible, run.success) == (None, None, None)
        return
    assert run.query_param_customers == len(potentials)
    assert run.eligible == sum(1 for p in potentials if p.is_valid)
    assert run.query_param_customers >= run.potential_customers >= run.potential_events >= run.eligible >= run.success
    if run.purpose == RunPurpose.CAMPAIGN_SIMULATION:
        assert enrolled == 0 and run.success == run.eligible
        assert {p.status for p in potentials} <= {PotentialStatus.PENDING}
        return
    assert run.success == enrolled
    assert run.success == sum(1 for p in potentials if p.status == PotentialStatus.SUCCESS)
    assert run.eligible - run.success == sum(1 for p in potentials if p.status == PotentialStatus.ERROR)


def assert_executed_once(conn, run) -> None:
    """A run executed twice would have opened its query params, and logged its
    start, twice."""
    starts = conn.execute(sa.select(sa.func.count()).where(
        EVENTS.c.run_id == run.id, EVENTS.c.stage == "main", EVENTS.c.message.like("%of campaign%as of%"))).scalar_one()
    assert starts == 1
    params = conn.execute(sa.select(RUN_PARAMS.c.query_param_id).where(RUN_PARAMS.c.run_id == run.id)).scalars().all()
    assert len(params) == len(set(params))


@pytest.mark.slow
def test_three_workers_and_a_window_execute_each_of_50_runs_exactly_once(own_pg, cli_env):
    url = own_pg.url(own_pg.create("workers"))
    db = open_database(url)
    population = load_population(db, customers=500, seed=3)
    rng = random.Random("workers")
    run_ids = [
        create_run(db, campaign_id=rng.choice(population.campaign_ids), purpose=PURPOSES[index % len(PURPOSES)],
                   as_of=POPULATION_AS_OF, scheduled_for=dt.datetime(2025, 1, 1, tzinfo=UTC) + dt.timedelta(minutes=index))
        for index in range(RUN_COUNT)
    ]

    executed: Counter[int] = Counter()
    lock = threading.Lock()

    def record(run_id: int) -> None:
        with lock:
            executed[run_id] += 1

    def window_claims_due_runs() -> None:
        while (run_id := claim_next_due(db)) is not None:
            execute_claimed(db, run_id)
            record(run_id)

    def user_clicks_run_now() -> None:
        for run_id in random.Random("clicks").sample(run_ids, 15):
            try:
                execute_run(db, run_id)
            except UserError:  # another client got it first
                continue
            record(run_id)

    workers = [start_cli(["--db", url, "worker"], cli_env) for _ in range(3)]
    try:
        with ThreadPoolExecutor(3) as window:
            done = [window.submit(window_claims_due_runs), window.submit(window_claims_due_runs),
                    window.submit(user_clicks_run_now)]
            for future in done:
                future.result()
        wait_until(lambda: _unfinished(db) == 0, timeout=300, interval=0.2, what="every run to finish")
    finally:
        outputs = [stop(worker, signal.SIGTERM) for worker in workers]
    for worker, (out, err) in zip(workers, outputs):
        assert worker.returncode == 0, err
        for run_id in re.findall(r"^Run (\d+): ", out, flags=re.MULTILINE):
            record(int(run_id))

    assert executed == Counter({run_id: 1 for run_id in run_ids})
    with db.read() as conn:
        assert duplicate_enrollments(conn) == []
        runs = conn.execute(sa.select(RUNS).order_by(RUNS.c.id)).all()
        assert {run.status for run in runs} == {RunStatus.COMPLETED}
        for run in runs:
            assert_executed_once(conn, run)
            assert_counts_consistent(conn, run)
    db.dispose()


@pytest.mark.slow
def test_two_processes_running_the_same_campaign_on_one_sqlite_file_both_finish_and_enroll_each_event_once(
        tmp_path, cli_env):
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    db = open_database(url)
    population = load_population(db, customers=1_500, seed=5)
    clean_url = f"sqlite:///{tmp_path / 'clean.sqlite3'}"
    db.dispose()
    (tmp_path / "clean.sqlite3").write_bytes((tmp_path / "shared.sqlite3").read_bytes())
    clean_db = open_database(clean_url)
    clean = {campaign: execute_run(clean_db, create_run(clean_db, campaign_id=campaign, as_of=POPULATION_AS_OF)).counts["success"]
             for campaign in population.campaign_ids}
    clean_db.dispose()
    db = open_database(url)

    for campaign in population.campaign_ids:
        args = ["--db", url, "run", "--campaign", str(campaign), "--as-of", POPULATION_AS_OF.isoformat(), "--json"]
        pair = [start_cli(args, cli_env), start_cli(args, cli_env)]
        results = [process.communicate(timeout=120) for process in pair]
        for process, (_, err) in zip(pair, results):
            assert process.returncode == 0, err
        with db.read() as conn:
            runs = conn.execute(sa.select(RUNS).where(RUNS.c.campaign_id == campaign)).all()
            assert [run.status for run in runs] == [RunStatus.COMPLETED] * 2
            assert sum(run.success for run in runs) == clean[campaign]
            for run in runs:
                assert_counts_consistent(conn, run)
            attempts = conn.execute(sa.select(RUN_PARAMS.c.query_attempts)
                                    .where(RUN_PARAMS.c.run_id.in_([run.id for run in runs]))).scalars().all()
            assert attempts and all(count >= 1 for count in attempts)
            assert duplicate_enrollments(conn) == []
    db.dispose()
