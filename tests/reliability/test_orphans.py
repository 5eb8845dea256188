"""Nothing of ours outlives a killed process: SIGKILL to a ``run`` while its pool of
processes judges contact values, and to an ``export`` while its second process
writes, at random moments; 5 s later none of its descendants is alive.

The descendants are read from ``/proc`` (children by their parent's pid, down the
chain) while the process is stopped, so none can appear between the reading and
the kill; each is known by its pid and start time, so a pid used again by another
program is not taken for ours.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from enroller_desktop.db.engine import open_database
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.db.models import EnrollerRunCustomer
from enroller_desktop.engine.runs import create_run, utcnow
from tests.reliability.conftest import _program, start_cli, stop
from tests.polling import wait_until
from tests.builders import POPULATION_AS_OF, RUNS, build_run, load_population

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

TRIALS = 3
#: Customers whose new contact values a run judges in its pool for a few seconds.
CUSTOMER_COUNT = 15_000
#: Potentials of the exported run: above ``export.SPLIT_ROWS``, so two processes write it.
EXPORTED_ROWS = 300_000
#: How long a descendant may outlive the killed process.
GRACE_S = 5.0


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of ``pid``, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()  # the name, in parentheses, may hold spaces
    return int(fields[1]), fields[0], int(fields[19])


def descendants(pid: int) -> dict[int, int]:
    """Every living descendant of ``pid``: pid -> start time."""
    children: dict[int, list[tuple[int, int]]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None and stat[1] != "Z":
            children.setdefault(stat[0], []).append((int(entry), stat[2]))
    found, todo = {}, [pid]
    while todo:
        for child, started in children.get(todo.pop(), []):
            found[child] = started
            todo.append(child)
    return found


def _bound(pid: int) -> bool:
    """Whether ``pid`` is a spawned child that ran ``lifeline.bind_to_parent`` (it
    then ignores SIGINT; the resource tracker, which ignores it too, is not one)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    ignored = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16)
    return b"spawn_main" in command and bool(ignored & (1 << (signal.SIGINT - 1)))


def _alive(found: dict[int, int]) -> dict[int, str]:
    """Those of ``found`` still running (a zombie runs nothing), with their command lines."""
    alive = {}
    for pid, started in found.items():
        stat = _stat(pid)
        if stat is not None and stat[2] == started and stat[1] != "Z":
            try:
                alive[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
            except FileNotFoundError:
                pass
    return alive


def kill_at_random_then_nothing_left(process, rng: random.Random, *, helpers: int, hold: bool = False,
                                     working=lambda: True) -> None:
    """Once ``process`` has ``helpers`` descendants and ``working()`` holds, wait a
    random moment, kill it and assert that none of its descendants lives ``GRACE_S`` later.

    With ``hold`` its spawned helpers are stopped (SIGSTOP) at that moment and kept
    so: a helper with much work left (a slow disk, a loaded machine) must end anyway,
    not when it has finished."""
    found: dict[int, int] = {}
    try:
        wait_until(lambda: (len(descendants(process.pid)) >= helpers and working()) or process.poll() is not None,
                   timeout=120, interval=0.02, what="the helper processes to start")
        assert process.poll() is None, f"it ended before it could be killed: {process.communicate()}"
        time.sleep(rng.uniform(0, 1.0))
        os.kill(process.pid, signal.SIGSTOP)
        found = descendants(process.pid)
        if hold:
            for pid, command in _alive(found).items():
                if "spawn_main" in command:  # not the resource tracker
                    os.kill(pid, signal.SIGSTOP)
    finally:
        # Not communicate(): the helpers inherited its output pipes, and a helper
        # left alive would hold them open for ever.
        process.kill()
        process.wait()
    try:
        assert found, "the kill landed when no helper process ran"
        try:
            wait_until(lambda: not _alive(found), timeout=GRACE_S, interval=0.05, what="the helpers to end")
        except AssertionError:
            raise AssertionError(f"alive {GRACE_S:.0f} s after the kill: {_alive(found)}") from None
    finally:
        for pid in _alive(found):  # so that a failed trial leaves nothing behind either
            os.kill(pid, signal.SIGKILL)
        stop(process)


@pytest.fixture(scope="module")
def unjudged_population(tmp_path_factory, own_pg):
    """``unjudged_population(backend)``: a database URL maker; each copy holds
    customers whose contact values were never judged, so a run judges them in its pool."""
    made = {}

    def get(backend: str):
        if backend not in made:
            if backend == "sqlite":
                path = tmp_path_factory.mktemp("unjudged") / "template.sqlite3"
                db = open_database(f"sqlite:///{path}")
            else:
                name = own_pg.create("unjudged")
                db = open_database(own_pg.url(name))
            population = load_population(db, customers=CUSTOMER_COUNT, seed=11, judge_contacts=False)
            db.dispose()

            def copy(tag: str) -> str:
                if backend == "sqlite":
                    target = tmp_path_factory.mktemp(tag) / "enroller.sqlite3"
                    target.write_bytes(path.read_bytes())
                    return f"sqlite:///{target}"
                return own_pg.url(own_pg.create(tag, template=name))
            made[backend] = (population, copy)
        return made[backend]
    return get


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_run_killed_while_judging_contact_values_leaves_no_process_behind(backend, trial, unjudged_population, cli_env):
    population, copy = unjudged_population(backend)
    url = copy(f"orphan_run_{trial}")
    process = start_cli(["--db", url, "run", "--campaign", str(population.campaign_ids[0]),
                         "--as-of", POPULATION_AS_OF.isoformat()], cli_env)
    # The resource tracker and at least one process of the pool, bound to its parent
    # (one still starting ends when its start-up does: see enroller_desktop.lifeline).
    kill_at_random_then_nothing_left(process, random.Random(f"orphan-run-{backend}-{trial}"), helpers=2,
                                     working=lambda: any(_bound(pid) for pid in descendants(process.pid)))


@pytest.fixture(scope="module")
def large_finished_run(tmp_path_factory):
    """A SQLite database with a finished run of ``EXPORTED_ROWS`` potentials."""
    path = tmp_path_factory.mktemp("large_run") / "enroller.sqlite3"
    db = open_database(f"sqlite:///{path}")
    built = build_run(db)
    potentials = EnrollerRunCustomer.__table__
    columns = [column.name for column in potentials.columns if column.name != "id"]
    with db.write() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(potentials)).scalar_one()
        copies = -(-EXPORTED_ROWS // have)
        conn.exec_driver_sql(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {copies - 1}) "
            f"INSERT INTO {potentials.name} ({', '.join(columns)}) "
            f"SELECT {', '.join(columns)} FROM {potentials.name}, n WHERE run_id = {built.run_id}"
        )
    db.dispose()
    return path, built.run_id


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_an_export_killed_while_split_between_two_processes_leaves_no_process_behind(trial, large_finished_run, tmp_path, cli_env):
    path, run_id = large_finished_run
    copy = tmp_path / "enroller.sqlite3"
    copy.write_bytes(path.read_bytes())
    process = start_cli(["--db", f"sqlite:///{copy}", "export", str(run_id), "--tab", "potentials",
                         "--out", str(tmp_path / "potentials.csv")], cli_env)
    def second_half_begun() -> bool:
        return any(part.stat().st_size for part in tmp_path.glob(".potentials.csv.*.part2"))

    # The resource tracker and the process writing the second half, once it writes
    # (held stopped before, it could never look at its parent).
    kill_at_random_then_nothing_left(process, random.Random(f"orphan-export-{trial}"), helpers=2, hold=True,
                                     working=second_half_begun)


@pytest.mark.slow
def test_ctrl_c_reaching_a_worker_s_process_group_while_its_pool_judges_lets_it_finish_the_run(unjudged_population, cli_env):
    """A terminal sends Ctrl-C to every process of the group, the pool's too: the
    worker decides (it finishes its run), its pool does not die under it."""
    population, copy = unjudged_population("sqlite")
    db = open_database(copy("ctrl_c"))
    run_id = create_run(db, campaign_id=population.campaign_ids[0], as_of=POPULATION_AS_OF, scheduled_for=utcnow() - dt.timedelta(minutes=1))
    process = subprocess.Popen([*_program(), "--db", db.url, "worker", "--name", "terminal"], env=cli_env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_until(lambda: len(descendants(process.pid)) >= 2 or process.poll() is not None,
                   timeout=120, what="the pool to start")
        os.killpg(process.pid, signal.SIGINT)
        out, err = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 0, out + err
    with db.read() as conn:
        status = conn.execute(sa.select(RUNS.c.status).where(RUNS.c.id == run_id)).scalar_one()
    assert status == RunStatus.COMPLETED.value, out + err
    db.dispose()
