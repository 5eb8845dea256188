"""How fast the demo data loads: 20,000 and 1,000,000 customers into a fresh
SQLite file and a fresh PostgreSQL database.

Each load runs in a process of its own, so that its peak memory is its own. The
figures: wall seconds of ``load_data`` (the schema is created before the clock
starts), the client's CPU seconds (PostgreSQL's own work is not in them),
customers per wall second, and the process's peak resident memory.

    .venv/bin/python bench/demo.py [--sizes 20000 1000000] [--backends sqlite postgresql]
                                   [--whole-sizes 20000]

Then the whole demo, as ``enroller-desktop demo`` and the first launch load it:
the data and its run history executed by the engine (``load_demo``), at
``--whole-sizes`` (20,000 customers by default; budget 10 s), with the history's
share and its number of runs. ``--whole-sizes`` alone (no ``--sizes``) skips the
data-only table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_BENCH_DATABASE = "enroller_bench_demo"


def load_once(url: str, customers: int) -> dict:
    """In the child process: open (and migrate) the database, then time the load."""
    from enroller_desktop import demo
    from enroller_desktop.db.engine import open_database

    db = open_database(url)
    wall, cpu = time.perf_counter(), time.process_time()
    counts = demo.load_data(db, customers=customers, seed=1)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    db.dispose()
    return {
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "customers_per_second": round(customers / wall),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "vehicles": counts.vehicles,
        "campaign_customers": counts.campaign_customers,
    }


def load_whole_once(url: str, customers: int) -> dict:
    """In the child process: the whole demo, data and run history, timed."""
    from enroller_desktop import demo
    from enroller_desktop.db.engine import open_database

    db = open_database(url)
    marks = []
    wall, cpu = time.perf_counter(), time.process_time()

    def progress(fraction: float, message: str) -> None:
        if not marks and fraction > 0.5:  # the history starts at half the bar
            marks.append(time.perf_counter() - wall)

    summary = demo.load_demo(db, customers=customers, seed=1, progress=progress)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    db.dispose()
    return {
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "data_seconds": round(marks[0], 2) if marks else None,
        "runs": int(summary.rsplit("; ", 1)[1].split(" ")[0].replace(",", "")),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def run_child(url: str, customers: int, kind: str = "--child") -> dict:
    done = subprocess.run(
        [sys.executable, __file__, kind, url, str(customers)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"load of {customers:,} customers failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_sqlite(customers: int, kind: str = "--child") -> dict:
    with tempfile.TemporaryDirectory(prefix="enroller-bench-") as folder:
        return run_child(f"sqlite:///{Path(folder) / 'demo.sqlite3'}", customers, kind)


def bench_postgresql(customers: int, server_url: str, kind: str = "--child") -> dict:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_BENCH_DATABASE}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{PG_BENCH_DATABASE}"')
        url = sa.engine.make_url(server_url).set(database=PG_BENCH_DATABASE).render_as_string(hide_password=False)
        return run_child(url, customers, kind)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_BENCH_DATABASE}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default=PG_URL, help="a PostgreSQL server to create the bench database on")
    parser.add_argument("--whole-sizes", type=int, nargs="*", default=[20_000])
    parser.add_argument("--child", nargs=2, metavar=("URL", "CUSTOMERS"), help=argparse.SUPPRESS)
    parser.add_argument("--whole-child", nargs=2, metavar=("URL", "CUSTOMERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(load_once(args.child[0], int(args.child[1]))))
        return
    if args.whole_child:
        print(json.dumps(load_whole_once(args.whole_child[0], int(args.whole_child[1]))))
        return
    if "--whole-sizes" in sys.argv and "--sizes" not in sys.argv:
        args.sizes = []

    if args.sizes:
        data_table(args)
    if args.whole_sizes:
        print()
        print(f"Whole demo (data and run history), {dt.date.today().isoformat()}, load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (budget 10 s at 20,000 customers)")
        print()
        print("| database | customers | runs | data s | whole s | client CPU s | peak memory MB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for backend in args.backends:
            for customers in args.whole_sizes:
                result = (bench_sqlite(customers, "--whole-child") if backend == "sqlite"
                          else bench_postgresql(customers, args.pg_url, "--whole-child"))
                print(f"| {backend} | {customers:,} | {result['runs']:,} | {result['data_seconds']} | {result['seconds']} "
                      f"| {result['cpu_seconds']} | {result['peak_rss_mb']} |", flush=True)


def data_table(args) -> None:
    print(f"Demo data load, {dt.date.today().isoformat()}, Python {sys.version.split()[0]}")
    print()
    print("| database | customers | vehicles | campaign customers | seconds | client CPU s | customers/s | peak memory MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for backend in args.backends:
        for customers in args.sizes:
            result = bench_sqlite(customers) if backend == "sqlite" else bench_postgresql(customers, args.pg_url)
            print(
                f"| {backend} | {customers:,} | {result['vehicles']:,} | {result['campaign_customers']:,} | {result['seconds']} "
                f"| {result['cpu_seconds']} | {result['customers_per_second']:,} | {result['peak_rss_mb']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
