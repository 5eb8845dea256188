"""Benchmark of contact verdicts: judging new values in one process and in two, then
reading the channel checks of every customer in SQL.

    .venv/bin/python bench/contacts.py [--values 200000] [--customers 1000000] [--pg URL | --no-pg]

The data set is deterministic: ``--values`` distinct values, half emails and half phones,
about one in six of each invalid (no domain, spaces, a US number in a Canadian
organization, too few digits...), spread over ``--customers`` customers of a Canadian
organization (each customer has an email, a phone and a mobile from those values).

First the judging alone, in this process and then in two worker processes (wall time,
values/s, speed-up, and the CPU time of this process and its workers). Then
``ensure_verdicts`` end to end (finding the unjudged values in SQL, judging them,
storing them) in one process and then in two, and a second call with nothing new; then the three channel
checks of every customer, with the query plans' verdict look-ups, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from enroller_desktop.db.engine import Database, normalize_url, open_database  # noqa: E402
from enroller_desktop.db.models import ContactVerdict, Customer, Organization  # noqa: E402
from enroller_desktop.engine import contacts  # noqa: E402
from enroller_desktop.engine.contact_rules import EMAIL, PHONE, judge_packed  # noqa: E402
from enroller_desktop.engine.contacts import ensure_verdicts  # noqa: E402
from enroller_desktop.engine.funnel import FunnelContext, looked_up_channel_checks  # noqa: E402

COUNTRY = "CA"
CA_AREA_CODES = (416, 647, 437, 905, 289, 514, 438, 604, 778, 403, 587, 613, 343, 204, 306, 902)
US_AREA_CODES = (212, 646, 310, 312, 617, 305)
DOMAINS = ("gmail.com", "outlook.com", "yahoo.ca", "videotron.ca", "dealer-group.ca", "rogers.com", "concessionnaire.qc.ca")
FIRST_NAMES = ("jane", "jean-françois", "amélie", "li", "mohammed", "o'brien", "sarah", "raj", "zoë", "kevin")
customers = Customer.__table__
verdicts = ContactVerdict.__table__


def emails(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct emails, about one in six invalid."""
    values = []
    for i in range(count):
        name = f"{rng.choice(FIRST_NAMES)}.{i}"
        domain = rng.choice(DOMAINS)
        shape = rng.randrange(12)
        if shape == 0:
            values.append(f"{name}@{domain.split('.')[0]}")  # no top-level domain
        elif shape == 1:
            values.append(f"{name} @{domain}" if i % 2 else f"{name}@@{domain}")
        else:
            values.append(f"{name}@{domain}" if shape > 3 else f"{name.upper()}@{domain}")
    return values


def phones(count: int, rng: random.Random) -> list[str]:
    """``count`` distinct phones as people type them, about one in six invalid in Canada."""
    values = []
    for i in range(count):
        exchange, line = 200 + (i // 10_000) % 800, i % 10_000
        shape = rng.randrange(12)
        if shape == 0:
            values.append(f"{rng.choice(US_AREA_CODES)}-{exchange}-{line:04d}")  # valid only in the US
        elif shape == 1:
            values.append(f"{exchange}-{line:04d}")  # no area code
        else:
            area = CA_AREA_CODES[i % len(CA_AREA_CODES)]
            values.append(
                (f"+1 {area} {exchange} {line:04d}", f"({area}) {exchange}-{line:04d}", f"{area}.{exchange}.{line:04d}", f"{area}{exchange}{line:04d}")[shape % 4]
            )
    return values


def customer_rows(organization_id: int, count: int, email_values: list[str], phone_values: list[str]):
    for i in range(count):
        yield {
            "organization_id": organization_id,
            "email": email_values[i % len(email_values)],
            "phone": phone_values[i % len(phone_values)],
            "mobile": phone_values[(i * 7 + 3) % len(phone_values)],
        }


def load(db: Database, count: int, email_values: list[str], phone_values: list[str]) -> None:
    with db.write() as conn:
        organization_id = conn.execute(
            sa.insert(Organization.__table__).values(name="Benchmark Motors", country=COUNTRY).returning(Organization.id)
        ).scalar_one()
        rows = customer_rows(organization_id, count, email_values, phone_values)
        if db.is_sqlite:
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) == 50_000:
                    conn.execute(sa.insert(customers), batch)
                    batch = []
            if batch:
                conn.execute(sa.insert(customers), batch)
        else:
            cursor = conn.connection.driver_connection.cursor()
            with cursor.copy("COPY customers (organization_id, email, phone, mobile) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((row["organization_id"], row["email"], row["phone"], row["mobile"]))
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE customers")


def cpu_seconds() -> float:
    """CPU time of this process and of its finished worker processes."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def ensure(db: Database, processes: int) -> tuple[int, float, float]:
    """(verdicts added, wall seconds, CPU seconds of this process and its workers)."""
    started, cpu = time.perf_counter(), cpu_seconds()
    added = ensure_verdicts(db, country=COUNTRY, customer_ids=sa.select(customers.c.id), processes=processes)
    return added, time.perf_counter() - started, cpu_seconds() - cpu


def end_to_end(db: Database) -> None:
    """``ensure_verdicts`` from an empty verdict table in one process, then in two
    (the cold run's validation), and its speed-up."""
    seconds = {}
    for processes in (1, 2):
        with db.write() as conn:
            conn.exec_driver_sql("DELETE FROM contact_verdicts" if db.is_sqlite else "TRUNCATE contact_verdicts")
        added, seconds[processes], cpu = ensure(db, processes)
        print(f"  ensure_verdicts, {processes} process{'es' if processes > 1 else ''}: {added:,} values in "
              f"{seconds[processes]:.1f} s = {added / seconds[processes]:,.0f} values/s (CPU {cpu:.1f} s)")
    print(f"  speed-up of 2 processes, end to end: {seconds[1] / seconds[2]:.2f}x")


def checks_query(dialect: str) -> sa.Select:
    c = customers.alias("c")
    campaign = FunnelContext(
        run_id=0, campaign_id=0, organization_id=0, country=COUNTRY, as_of=dt.datetime.now(dt.timezone.utc),
        customer_id=None, uses_email=True, uses_phone=True, uses_sms=True,
        marketing_exclusion_days=None, has_excluded_tags=False, dialect=dialect,
    )
    checks = looked_up_channel_checks(campaign, c).values()
    return sa.select(sa.func.count(), *(sa.func.sum(check) for check in checks)).select_from(c)


def time_checks(db: Database) -> None:
    query = checks_query(db.dialect)
    with db.read() as conn:
        literal = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        if db.is_sqlite:
            plan = [row.detail for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + literal)]
        else:
            plan = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + literal)]
        started = time.perf_counter()
        total, email, phone, message = conn.execute(query).one()
        elapsed = time.perf_counter() - started
    print(f"  checks of {total:,} customers: {elapsed:.2f} s ({total / elapsed:,.0f}/s); passed: email {email:,}, phone {phone:,}, message {message:,}")
    print("  verdict look-ups in the plan:")
    for line in plan:
        if "contact_verdicts" in line:
            print("   ", line.strip())


def judging_bench(email_values: list[str], phone_values: list[str]) -> None:
    """The judging alone (no database), in this process and in two worker processes."""
    tasks = [*contacts._tasks(EMAIL, "", email_values), *contacts._tasks(PHONE, COUNTRY, phone_values)]
    total = len(email_values) + len(phone_values)
    print(f"Judging {total:,} distinct values ({len(email_values):,} emails, {len(phone_values):,} phones), no database")
    seconds = {}
    for processes in (1, 2):
        started, cpu = time.perf_counter(), cpu_seconds()
        if processes == 1:
            for task in tasks:
                judge_packed(*task)
        else:
            for _ in contacts._judged_in_pool(tasks, processes):
                pass
        seconds[processes], cpu = time.perf_counter() - started, cpu_seconds() - cpu
        print(f"  {processes} process{'es' if processes > 1 else ''}: {seconds[processes]:.1f} s = {total / seconds[processes]:,.0f} values/s (CPU {cpu:.1f} s)")
    print(f"  speed-up of 2 processes: {seconds[1] / seconds[2]:.2f}x (load average now {os.getloadavg()[0]:.1f})")


def sqlite_bench(args, email_values, phone_values) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{folder}/bench.sqlite3")
        load(db, args.customers, email_values, phone_values)
        print(f"SQLite, {args.customers:,} customers, {len(email_values) + len(phone_values):,} distinct values")
        end_to_end(db)
        again, elapsed, _cpu = ensure(db, 2)
        print(f"  second ensure_verdicts (nothing new): {again} added in {elapsed:.2f} s")
        time_checks(db)
        db.dispose()


def pg_bench(args, email_values, phone_values) -> None:
    admin = sa.create_engine(normalize_url(args.pg), isolation_level="AUTOCOMMIT")
    name = f"enroller_bench_{os.getpid()}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        print(f"PostgreSQL at {args.pg} unavailable, skipped: {str(exc.orig).splitlines()[0]}")
        return
    try:
        db = open_database(normalize_url(args.pg).set(database=name).render_as_string(hide_password=False))
        load(db, args.customers, email_values, phone_values)
        print(f"PostgreSQL, {args.customers:,} customers")
        end_to_end(db)
        again, elapsed, _cpu = ensure(db, 2)
        print(f"  second ensure_verdicts (nothing new): {again} added in {elapsed:.2f} s")
        time_checks(db)
        db.dispose()
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=200_000, help="distinct values, half emails, half phones")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--pg", default=os.environ.get("ENROLLER_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    rng = random.Random(20261127)
    email_values, phone_values = emails(args.values // 2, rng), phones(args.values - args.values // 2, rng)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    judging_bench(email_values, phone_values)
    sqlite_bench(args, email_values, phone_values)
    if not args.no_pg:
        pg_bench(args, email_values, phone_values)


if __name__ == "__main__":
    main()
