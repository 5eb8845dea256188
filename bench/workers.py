"""Several workers at once (issue 15): 1, 2 and 4 ``worker`` processes over the same
scheduled runs of 20 campaigns on PostgreSQL.

For each worker count it copies one loaded database (an organization of
``--customers`` customers, contact verdicts stored, 20 campaigns), schedules
``--runs`` runs due now, round-robin over the campaigns, and starts the workers,
each with its own home folders (as on separate machines). It measures:

- throughput: runs completed a second, from the first run's start to the last
  one's end (as the database recorded them);
- exactly once: each run's id printed by exactly one worker, every run completed,
  no enrollment key twice;
- connections: the most connections each worker held at once, sampled every
  50 ms twice: PostgreSQL's ``pg_stat_activity`` rows under the worker's
  application_name (``enroller-desktop worker bench-N``), and the TCP sockets to
  PostgreSQL the worker process (with its children) has open, from /proc.

Then, with the largest count, one worker is killed (SIGKILL) in the middle of a run:
that run must end ``error`` "interrupted" (recovered by the others a minute later,
RULES §2), every other run completed exactly once, nothing enrolled twice.

Usage: python bench/workers.py [--workers 1 2 4] [--runs 200] [--customers 300]
Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from enroller_desktop.db.engine import normalize_url, open_database  # noqa: E402
from enroller_desktop.db.enums import RunStatus  # noqa: E402
from enroller_desktop.engine.runs import INTERRUPTED, RUNS, create_run, utcnow  # noqa: E402
from tests.builders import duplicate_enrollments, load_population  # noqa: E402

PG_ADMIN = os.environ.get("ENROLLER_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PROGRAM = Path(sys.executable).with_name("enroller-desktop")
CAMPAIGNS = 20
PG_PORT_HEX = f"{5432:04X}"


class Server:
    def __init__(self) -> None:
        self.admin = sa.create_engine(normalize_url(PG_ADMIN), isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.names.append(name)
        return normalize_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as conn:
            for name in self.names:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


def _descendants(pid: int) -> list[int]:
    children = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children[int(stat[stat.rindex(")") + 2 :].split()[1])].append(int(entry))
    found, todo = [pid], [pid]
    while todo:
        for child in children[todo.pop()]:
            found.append(child)
            todo.append(child)
    return found


def _pg_sockets() -> set[str]:
    """Inodes of the established TCP sockets whose far end is PostgreSQL's port."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[2].endswith(":" + PG_PORT_HEX) and fields[3] == "01":
                inodes.add(fields[9])
    return inodes


def connections_of(pid: int, pg: set[str]) -> int:
    count = 0
    for process in _descendants(pid):
        try:
            for fd in os.listdir(f"/proc/{process}/fd"):
                target = os.readlink(f"/proc/{process}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in pg:
                    count += 1
        except OSError:
            continue
    return count


def load_template(server: Server, customers: int) -> str:
    name = f"bench_workers_template_{os.getpid()}"
    url = server.create(name)
    db = open_database(url)
    load_population(db, customers=customers, seed=3, campaigns=CAMPAIGNS)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()
    return name


def schedule(db, runs: int) -> list[int]:
    with db.read() as conn:
        campaigns = conn.execute(sa.text("SELECT id FROM campaigns ORDER BY id")).scalars().all()
    due = utcnow() - dt.timedelta(minutes=1)
    return [create_run(db, campaign_id=campaigns[n % len(campaigns)], scheduled_for=due + dt.timedelta(milliseconds=n))
            for n in range(runs)]


def start_workers(url: str, count: int, home: Path) -> list[subprocess.Popen]:
    workers = []
    for n in range(count):
        env = {key: value for key, value in os.environ.items() if key != "ENROLLER_DB_URL"}
        for variable in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            folder = home / f"worker{n}" / variable.lower()
            folder.mkdir(parents=True, exist_ok=True)
            env[variable] = str(folder)
        env["PYTHONUNBUFFERED"] = "1"
        workers.append(subprocess.Popen([str(PROGRAM), "--db", url, "worker", "--name", f"bench-{n}"], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return workers


def pg_connections(db) -> collections.Counter:
    """pg_stat_activity's rows by application_name (each sample a transaction of its own)."""
    with db.read() as conn:
        rows = conn.execute(sa.text("SELECT application_name, count(*) FROM pg_stat_activity "
                                    "WHERE datname = current_database() GROUP BY application_name")).all()
    return collections.Counter(dict(rows))


def statuses(db, run_ids: list[int]) -> collections.Counter:
    with db.read() as conn:
        rows = conn.execute(sa.select(RUNS.c.status).where(RUNS.c.id.in_(run_ids))).scalars().all()
    return collections.Counter(RunStatus(status).value for status in rows)


def trial(server: Server, template: str, count: int, runs: int, *, kill_one: bool, limit_s: float) -> dict:
    url = server.create(f"bench_workers_{count}_{'kill' if kill_one else 'clean'}_{os.getpid()}", template)
    db = open_database(url)
    run_ids = schedule(db, runs)
    peak = [0] * count
    peak_pg = [0] * count
    killed_run = None
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as home:
        workers = start_workers(url, count, Path(home))
        deadline = time.monotonic() + limit_s
        try:
            while time.monotonic() < deadline:
                pg = _pg_sockets()
                named = pg_connections(db)
                for n, worker in enumerate(workers):
                    if worker.poll() is None:
                        peak[n] = max(peak[n], connections_of(worker.pid, pg))
                        peak_pg[n] = max(peak_pg[n], named[f"enroller-desktop worker bench-{n}"])
                done = statuses(db, run_ids)
                finished = sum(v for k, v in done.items() if k not in (RunStatus.SCHEDULED.value, RunStatus.IN_PROGRESS.value))
                if kill_one and killed_run is None and finished >= runs // 4:
                    killed_run = _kill_mid_run(db, workers[0])
                if finished == runs:
                    break
                time.sleep(0.05)
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            outputs = [worker.communicate(timeout=120) for worker in workers]
    executed = collections.Counter(int(n) for out, _ in outputs for n in re.findall(r"^Run (\d+): ", out, re.MULTILINE))
    with db.read() as conn:
        first, last = conn.execute(sa.select(sa.func.min(RUNS.c.in_progress_at), sa.func.max(RUNS.c.completed_at))
                                   .where(RUNS.c.id.in_(run_ids))).one()
        interrupted = conn.execute(sa.select(RUNS.c.id).where(RUNS.c.error_message == INTERRUPTED)).scalars().all()
        doubled = duplicate_enrollments(conn)
    final = statuses(db, run_ids)
    db.dispose()
    expected = [r for r in run_ids if r != killed_run]
    seconds = (last - first).total_seconds()
    completed = final.get(RunStatus.COMPLETED.value, 0)
    return {
        "workers": count,
        "runs": runs,
        "killed run": killed_run,
        "seconds": round(seconds, 1),
        "completed per second": round(completed / seconds, 3),
        "statuses": dict(final),
        "executed exactly once": sorted(executed) == sorted(expected) and max(executed.values()) == 1,
        "interrupted": interrupted,
        "enrollment keys twice": len(doubled),
        "peak connections per worker (pg_stat_activity)": peak_pg,
        "peak connections per worker (/proc sockets)": peak,
    }


def _kill_mid_run(db, worker: subprocess.Popen) -> int | None:
    """SIGKILL ``worker`` while it executes a run; that run's id."""
    while worker.poll() is None:
        os.kill(worker.pid, signal.SIGSTOP)
        with db.read() as conn:
            run_id = conn.execute(sa.text("SELECT current_run_id FROM workers WHERE pid = :pid AND stopped_at IS NULL"),
                                  {"pid": worker.pid}).scalar()
            status = run_id and conn.execute(sa.select(RUNS.c.status).where(RUNS.c.id == run_id)).scalar()
        if status == RunStatus.IN_PROGRESS.value:
            worker.kill()
            return run_id
        os.kill(worker.pid, signal.SIGCONT)
        time.sleep(0.01)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--limit", type=float, default=1800, metavar="SECONDS", help="give up a trial after this long")
    args = parser.parse_args()
    server = Server()
    try:
        started = time.perf_counter()
        template = load_template(server, args.customers)
        print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()}", flush=True)
        print(f"loaded {args.customers:,} customers, {CAMPAIGNS} campaigns in {time.perf_counter() - started:.1f} s", flush=True)
        for count in args.workers:
            print(trial(server, template, count, args.runs, kill_one=False, limit_s=args.limit), flush=True)
            print(f"load {os.getloadavg()}", flush=True)
        print(trial(server, template, max(args.workers), args.runs, kill_one=True, limit_s=args.limit), flush=True)
        print(f"{dt.datetime.now(dt.timezone.utc):%H:%M} UTC, load {os.getloadavg()}", flush=True)
    finally:
        server.drop_all()


if __name__ == "__main__":
    main()
