"""Kill at random: SIGKILL to an executing ``enroller-desktop run`` at a random moment.

Each trial copies the same population, starts ``run`` as a separate process,
waits until the run is seen in progress, waits a random time (drawn from an RNG
seeded by the trial) and kills the process. Then, whatever the moment:

- no enrollment key is held twice;
- the killed run enrolled nobody, unless it completed (then it enrolled exactly
  its ``success``, and its counts are a clean run's);
- once any client polls a minute later, the run is ``error`` "interrupted";
- a rerun as of the same time reaches the counts a clean run gives.

Half the trials run Default, half Campaign Evaluation and Expire (whose
enrollment and expiry are one transaction with the run's completion).
"""

from __future__ import annotations

import datetime as dt
import random
import signal
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from enroller_desktop.db.engine import open_database
from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.engine.runs import COUNT_COLUMNS, INTERRUPTED, create_run, execute_run, recover_interrupted, utcnow
from tests.reliability.conftest import start_cli, stop
from tests.polling import wait_until
from tests.builders import POPULATION_AS_OF, RUNS, duplicate_enrollments, enrolled_by, read_run

TRIALS = 20
PURPOSES = (RunPurpose.DEFAULT, RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE)
#: Where each trial's kill landed, per backend: the step the run was in, or "completed".
KILL_STEPS: dict[str, Counter] = {}
CLEAN_SECONDS: dict[str, dict[str, float]] = {}


@pytest.fixture(scope="module")
def clean_runs(population_template):
    """``clean_runs(backend)``: per purpose, the counts and the length of a run nobody
    disturbed, on a fresh copy of the population."""
    found: dict[str, dict[RunPurpose, tuple[dict, float]]] = {}

    def get(backend: str):
        if backend not in found:
            template = population_template(backend)
            found[backend] = {}
            for purpose in PURPOSES:
                db = open_database(template.copy(f"clean_{purpose.value}"))
                campaign = template.population.campaign_ids[0]
                started = time.perf_counter()
                outcome = execute_run(db, create_run(db, campaign_id=campaign, purpose=purpose, as_of=POPULATION_AS_OF))
                seconds = time.perf_counter() - started
                db.dispose()
                template.discard(db.url)
                assert outcome.status is RunStatus.COMPLETED
                found[backend][purpose] = (outcome.counts, seconds)
                CLEAN_SECONDS.setdefault(backend, {})[purpose.value] = round(seconds, 2)
        return found[backend]
    return get


@pytest.fixture(scope="module", autouse=True)
def report_kill_steps():
    yield
    for backend, steps in KILL_STEPS.items():
        print(f"\nkill trials on {backend}: {sum(steps.values())}, landed in {dict(steps)}; "
              f"clean run lengths {CLEAN_SECONDS.get(backend)}")


def _in_progress(db):
    with db.read() as conn:
        return conn.execute(sa.select(RUNS.c.id).where(RUNS.c.status == RunStatus.IN_PROGRESS.value)).scalar()


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_run_loses_nothing_and_doubles_nothing(backend, trial, population_template, clean_runs, cli_env):
    template = population_template(backend)
    clean = clean_runs(backend)
    purpose = PURPOSES[trial % len(PURPOSES)]
    clean_counts, clean_seconds = clean[purpose]
    rng = random.Random(f"kill-{backend}-{trial}")
    url = template.copy(f"kill_{trial}")
    db = open_database(url)
    campaign = template.population.campaign_ids[0]

    process = start_cli(["--db", url, "run", "--campaign", str(campaign), "--purpose", purpose.value,
                         "--as-of", POPULATION_AS_OF.isoformat(), "--json"], cli_env)
    try:
        run_id = wait_until(lambda: _in_progress(db) or process.poll() is not None, timeout=60, what="the run to start")
        assert process.poll() is None, f"the run ended before it could be killed: {process.communicate()}"
        # Up to a little past a clean run's length: some kills land after it completed.
        time.sleep(rng.uniform(0, clean_seconds * 1.2))
    finally:
        stop(process, signal.SIGKILL)

    with db.read() as conn:
        killed = read_run(conn, run_id)
        assert duplicate_enrollments(conn) == []
        enrolled = enrolled_by(conn, run_id)
    KILL_STEPS.setdefault(backend, Counter())[killed.step.value if killed.status != RunStatus.COMPLETED else "completed"] += 1

    if killed.status == RunStatus.COMPLETED:
        assert {name: killed._mapping[name] for name in COUNT_COLUMNS} == clean_counts
        assert enrolled == killed.success
        db.dispose()
        template.discard(url)
        return
    assert killed.status == RunStatus.IN_PROGRESS
    assert enrolled == 0

    assert recover_interrupted(db, now=utcnow() + dt.timedelta(seconds=61)) == [run_id]
    with db.read() as conn:
        interrupted = read_run(conn, run_id)
    assert (interrupted.status, interrupted.error_message) == (RunStatus.ERROR, INTERRUPTED)

    rerun = execute_run(db, create_run(db, campaign_id=campaign, purpose=purpose, as_of=POPULATION_AS_OF))
    assert (rerun.status, rerun.counts) == (RunStatus.COMPLETED, clean_counts)
    with db.read() as conn:
        assert duplicate_enrollments(conn) == []
        assert enrolled_by(conn, run_id) == 0
        assert enrolled_by(conn, rerun.id) == clean_counts["success"]
    db.dispose()
    template.discard(url)
