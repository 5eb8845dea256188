"""How fast the demo data loads: 20,000 and 1,000,000 customers into a fresh
SQLite file and a fresh PostgreSQL database.

Each load runs in a process of its own, so that its peak memory is its own. The
figures: wall seconds of ``load_data`` (the schema is created before the clock
starts), the client's CPU seconds (PostgreSQL's own work is not in them),
customers per wall second, and the process's peak resident memory.

    .venv/bin/python bench/demo.py [--sizes 20000 1000000] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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


def run_child(url: str, customers: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, str(customers)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"load of {customers:,} customers failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_sqlite(customers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="enroller-bench-") as folder:
        return run_child(f"sqlite:///{Path(folder) / 'demo.sqlite3'}", customers)


def bench_postgresql(customers: int, server_url: str) -> dict:
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_BENCH_DATABASE}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{PG_BENCH_DATABASE}"')
        url = sa.engine.make_url(server_url).set(database=PG_BENCH_DATABASE).render_as_string(hide_password=False)
        return run_child(url, customers)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{PG_BENCH_DATABASE}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default=PG_URL, help="a PostgreSQL server to create the bench database on")
    parser.add_argument("--child", nargs=2, metavar=("URL", "CUSTOMERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(load_once(args.child[0], int(args.child[1]))))
        return

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
