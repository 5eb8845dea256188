"""Engine benchmark (issue 3): a Default run over 100,000 and 1,000,000 customers.

For each size and database it builds one Canadian organization (CASL applies)
with about 1.3 vehicles a customer and one campaign whose three query params use
every channel, then measures in separate processes (so each peak memory is its
own):

- validation: the cold run's validation step alone (every distinct email and
  phone judged and stored), in one process and then in two;
- cold: a Default run with no stored contact verdicts (validation spread over
  the cores);
- warm: the same run again on a copy of the data with the verdicts stored;
- floor: a minimal hand-written pipeline over the same tables — one INSERT ...
  SELECT per query param with every check inline and the verdicts already
  stored, then one INSERT ... SELECT of the enrollments. No bookkeeping, no
  events, no counts: the floor a set-based engine can approach.

Usage: python bench/engine.py [--sizes 100000 1000000] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from enroller_desktop.db.engine import open_database  # noqa: E402

PG_ADMIN = os.environ.get("ENROLLER_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
AS_OF = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
CAMPAIGN_ID = 1

PARAMS = [
    ("Service due", {"field": "vehicle.last_service_date", "op": "older_than_days", "value": 180}, "vehicle.last_service_date"),
    ("Lease maturity", {"field": "vehicle.lease_end_date", "op": "within_next_days", "value": 120}, "vehicle.lease_end_date"),
    ("Win back", {"field": "customer.last_purchase_at", "op": "older_than_days", "value": 1095}, None),
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- data ------------------------------------------------------------------------

def _customers(n: int, rng: random.Random):
    first = ["Émilie", "Jean", "Marie", "Connor", "Nguyễn", "Sofia", "Liam", "Chloé", "Noah", "Zoë"]
    last = ["Tremblay", "O'Brien", "Gagnon", "Roy", "Müller", "Singh", "D'Amours", "Côté", "Smith", "Lee"]
    day = dt.datetime(2020, 1, 1)
    for i in range(1, n + 1):
        r = rng.random()
        email = None if r < 0.05 else ("not-an-email" if r < 0.1 else f"customer{i}@example{i % 50}.ca")
        phone = None if r < 0.2 else f"+1 416 555 {i % 10000:04d}" if r < 0.6 else f"({604}) {200 + i % 700:03d}-{i % 10000:04d}"
        mobile = None if rng.random() < 0.3 else f"514-{200 + i % 700:03d}-{(i * 7) % 10000:04d}"
        consent = rng.random()
        yield (
            i, 1, first[i % 10], last[(i // 10) % 10], email, phone, mobile,
            rng.random() < 0.02, rng.random() < 0.03, rng.random() < 0.05, rng.random() < 0.05, rng.random() < 0.05,
            day + dt.timedelta(days=rng.randrange(2000)) if consent < 0.4 else None,
            day + dt.timedelta(days=rng.randrange(2000)) if consent > 0.9 else None,
            day + dt.timedelta(days=rng.randrange(2500)) if rng.random() < 0.8 else None,
            day + dt.timedelta(days=rng.randrange(2500)) if rng.random() < 0.5 else None,
            day,
        )


def _vehicles(n_customers: int, rng: random.Random):
    vid = 0
    base = dt.date(2026, 11, 27)
    makes = [("Honda", "Civic"), ("Toyota", "RAV4"), ("Ford", "F-150"), ("Kia", "Sorento"), ("Subaru", "Outback")]
    for customer_id in range(1, n_customers + 1):
        count = rng.choices((0, 1, 2, 3), weights=(10, 55, 30, 5))[0]
        for _ in range(count):
            vid += 1
            make, model = makes[vid % 5]
            yield (
                vid, customer_id, f"VIN{vid:014d}", 2010 + vid % 16, make, model, rng.randrange(200_000),
                base - dt.timedelta(days=rng.randrange(4000)),
                base + dt.timedelta(days=rng.randrange(-400, 800)) if rng.random() < 0.3 else None,
                base - dt.timedelta(days=rng.randrange(900)) if rng.random() < 0.9 else None,
                base + dt.timedelta(days=rng.randrange(-800, 1500)),
            )


CUSTOMER_COLUMNS = ("id", "organization_id", "first_name", "last_name", "email", "phone", "mobile", "deleted",
                    "opt_out_all", "email_opt_out", "sms_opt_out", "do_not_call", "casl_express_consent_at",
                    "casl_withdrawn_at", "last_purchase_at", "last_inquiry_at", "created_at")
VEHICLE_COLUMNS = ("id", "customer_id", "vin", "year", "make", "model", "odometer", "purchase_date",
                   "lease_end_date", "last_service_date", "warranty_end_date")


def build(url: str, customers: int) -> None:
    db = open_database(url)
    rng = random.Random(42)
    with db.write() as conn:
        conn.execute(sa.text("INSERT INTO organizations (id, name, country, timezone) VALUES (1, 'Bench Motors', 'CA', 'America/Toronto')"))
        conn.execute(sa.text(
            "INSERT INTO campaigns (id, organization_id, name, active, uses_email, uses_phone, uses_sms, marketing_exclusion_days)"
            " VALUES (1, 1, 'Bench campaign', true, true, true, true, 30)"))
        for order, (name, criterion, event_key) in enumerate(PARAMS, start=1):
            conn.execute(sa.text("INSERT INTO query_params (campaign_id, process_order, name, criterion, event_key, active)"
                                 " VALUES (1, :o, :n, :c, :e, true)"), {"o": order, "n": name, "c": json.dumps(criterion), "e": event_key})
        _bulk(conn, "customers", CUSTOMER_COLUMNS, _customers(customers, rng), db.is_sqlite)
        _bulk(conn, "vehicles", VEHICLE_COLUMNS, _vehicles(customers, rng), db.is_sqlite)
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    db.dispose()


def _bulk(conn, table: str, columns, rows, is_sqlite: bool) -> None:
    if is_sqlite:
        placeholders = ", ".join("?" for _ in columns)
        cursor = conn.connection.driver_connection.cursor()
        batch: list[tuple] = []
        for row in rows:
            batch.append(tuple(v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v.isoformat() if isinstance(v, dt.date) else v for v in row))
            if len(batch) == 50_000:
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", batch)
                batch.clear()
        if batch:
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", batch)
        return
    cursor = conn.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# -- the floor -------------------------------------------------------------------

def floor(url: str) -> dict:
    """The minimal pipeline, written by hand (verdicts already stored)."""
    db = open_database(url)
    pg = not db.is_sqlite
    as_of_date = AS_OF.date()
    # The bench data is written without fractions of seconds: compare in that form.
    ts = (lambda d: d) if pg else (lambda d: d.strftime("%Y-%m-%d %H:%M:%S"))
    day = (lambda d: d) if pg else (lambda d: d.isoformat())
    params = {
        "run": 999_999, "as_of": ts(AS_OF.replace(tzinfo=None)),
        "p730": ts(dt.datetime.combine(as_of_date - dt.timedelta(days=730), dt.time())),
        "i183": ts(dt.datetime.combine(as_of_date - dt.timedelta(days=183), dt.time())),
        "ex": ts((AS_OF - dt.timedelta(days=30)).replace(tzinfo=None)),
        "svc": day(as_of_date - dt.timedelta(days=180)), "lease_from": day(as_of_date),
        "lease_to": day(as_of_date + dt.timedelta(days=120)),
        "win": ts(dt.datetime.combine(as_of_date - dt.timedelta(days=1095), dt.time())),
    }
    t, f = ("true", "false")
    vkey = "coalesce(v.id, 0)"
    checks = f"""
      CASE WHEN c.email IS NULL OR c.email_opt_out THEN 0 WHEN EXISTS (SELECT 1 FROM contact_verdicts cv WHERE cv.value = c.email AND cv.kind = 'email' AND cv.country = '' AND cv.valid) THEN 1 ELSE 0 END,
      CASE WHEN c.do_not_call THEN 0 WHEN EXISTS (SELECT 1 FROM contact_verdicts cv WHERE cv.value IN (c.phone, c.mobile) AND cv.kind = 'phone' AND cv.country = 'CA' AND cv.valid) THEN 1 ELSE 0 END,
      CASE WHEN c.sms_opt_out THEN 0 WHEN EXISTS (SELECT 1 FROM contact_verdicts cv WHERE cv.value = c.mobile AND cv.kind = 'phone' AND cv.country = 'CA' AND cv.valid AND cv.mobile) THEN 1 ELSE 0 END,
      CASE WHEN c.deleted THEN 0 ELSE 1 END,
      CASE WHEN EXISTS (SELECT 1 FROM campaign_customers cc WHERE cc.campaign_id = 1 AND cc.customer_id = c.id AND coalesce(cc.vehicle_id, 0) = {vkey} AND coalesce(cc.event_key, '') = {{key}}) THEN 0 ELSE 1 END,
      CASE WHEN EXISTS (SELECT 1 FROM campaign_customers cc WHERE cc.campaign_id = 1 AND cc.customer_id = c.id AND cc.expired_at IS NULL AND cc.status IN ('queued', 'pending_deployment', 'assigned', 'in_progress')) THEN 0 ELSE 1 END,
      CASE WHEN c.casl_withdrawn_at IS NOT NULL AND c.casl_withdrawn_at <= :as_of AND NOT (c.casl_express_consent_at IS NOT NULL AND c.casl_express_consent_at <= :as_of AND c.casl_express_consent_at > c.casl_withdrawn_at) THEN 0
           WHEN (c.casl_express_consent_at IS NOT NULL AND c.casl_express_consent_at <= :as_of)
             OR (c.last_purchase_at >= :p730 AND c.last_purchase_at <= :as_of)
             OR (c.last_inquiry_at >= :i183 AND c.last_inquiry_at <= :as_of) THEN 1 ELSE 0 END,
      CASE WHEN c.opt_out_all THEN 0 ELSE 1 END,
      CASE WHEN EXISTS (SELECT 1 FROM campaign_customers cc WHERE cc.customer_id = c.id AND cc.enrolled_at >= :ex AND cc.enrolled_at <= :as_of) THEN 0 ELSE 1 END
    """
    date_key = "to_char({col}, 'YYYY-MM-DD')" if pg else "{col}"
    wheres = [
        ("v.last_service_date < :svc", date_key.format(col="v.last_service_date")),
        ("v.lease_end_date >= :lease_from AND v.lease_end_date <= :lease_to", date_key.format(col="v.lease_end_date")),
        ("c.last_purchase_at < :win", "''"),
    ]
    with db.write() as conn:  # the potentials need a run to belong to
        conn.execute(sa.text("INSERT INTO enroller_runs (id, organization_id, campaign_id, purpose, status, step, created_at)"
                             " VALUES (:run, 1, 1, 'default', 'completed', 'main', :as_of)"), params)
    started = time.perf_counter()
    with db.write() as conn:
        for order, (where, key) in enumerate(wheres):
            credited = "" if order == 0 else (
                f" AND NOT EXISTS (SELECT 1 FROM enroller_run_customers p WHERE p.run_id = :run AND p.customer_id = c.id AND coalesce(p.vehicle_id, 0) = {vkey})")
            conn.execute(sa.text(f"""
                INSERT INTO enroller_run_customers (run_id, customer_id, vehicle_id, query_param_id, event_key, first_name, last_name,
                    status, is_valid, valid_email, valid_phone, valid_message, deleted, unique_event, already_in_queue, casl,
                    opt_out_all, marketing_exclusion)
                SELECT :run, c.id, v.id, {order + 1}, coalesce({key}, ''), c.first_name, c.last_name, 'pending', {f},
                    {checks.format(key=f"coalesce({key}, '')")}
                FROM customers c LEFT JOIN vehicles v ON v.customer_id = c.id
                WHERE c.organization_id = 1 AND {where}{credited}"""), params)
        conn.execute(sa.text(f"""
            INSERT INTO campaign_customers (campaign_id, customer_id, vehicle_id, event_key, run_id, purpose, status, enrolled_at)
            SELECT 1, p.customer_id, p.vehicle_id, p.event_key, NULL, 'default', 'queued', :as_of
            FROM enroller_run_customers p
            WHERE p.run_id = :run AND p.deleted = 1 AND (p.valid_email = 1 OR p.valid_phone = 1 OR p.valid_message = 1)
              AND p.unique_event = 1 AND p.already_in_queue = 1 AND (p.casl IS NULL OR p.casl = 1)
              AND p.opt_out_all = 1 AND p.marketing_exclusion = 1"""), params)
        enrolled = conn.execute(sa.text("SELECT count(*) FROM campaign_customers WHERE run_id IS NULL")).scalar()
        # Leave the tables as the engine's warm run will find them.
        conn.execute(sa.text("DELETE FROM campaign_customers WHERE run_id IS NULL"))
        conn.execute(sa.text("DELETE FROM enroller_run_customers WHERE run_id = :run"), params)
    seconds = time.perf_counter() - started
    with db.write() as conn:
        conn.execute(sa.text("DELETE FROM enroller_runs WHERE id = :run"), params)
    db.dispose()
    return {"seconds": seconds, "enrolled": enrolled}


# -- the engine ------------------------------------------------------------------

def engine_run(url: str) -> dict:
    from enroller_desktop.engine.runs import create_run, execute_run

    db = open_database(url)
    run_id = create_run(db, campaign_id=CAMPAIGN_ID, as_of=AS_OF)
    started = time.perf_counter()
    outcome = execute_run(db, run_id)
    seconds = time.perf_counter() - started
    with db.read() as conn:
        stages = dict(conn.execute(sa.text(
            "SELECT stage, sum(duration_ms) / 1000.0 FROM enroller_run_events WHERE run_id = :r GROUP BY stage"), {"r": run_id}).all())
        verdicts = conn.execute(sa.text("SELECT count(*) FROM contact_verdicts")).scalar()
        # Undo the enrollment so the next measurement starts from the same state.
        conn.execute(sa.text("DELETE FROM campaign_customers WHERE run_id = :r"), {"r": run_id})
        conn.commit()
    db.dispose()
    return {"seconds": seconds, "status": outcome.status.value, "success": outcome.counts["success"],
            "eligible": outcome.counts["eligible"], "stages": {k: round(float(v), 2) for k, v in stages.items()},
            "verdicts": verdicts}


def validation(url: str, processes: int) -> dict:
    """The cold run's validation step alone (``ensure_verdicts`` over every customer's
    email, phone and mobile, from an empty verdict table) in ``processes`` processes;
    the table is left empty again."""
    from enroller_desktop.engine.contacts import ensure_verdicts

    db = open_database(url)
    with db.write() as conn:
        conn.execute(sa.text("DELETE FROM contact_verdicts"))
    started = time.perf_counter()
    added = ensure_verdicts(db, country="CA", customer_ids=sa.select(sa.literal_column("id")).select_from(sa.table("customers")),
                            processes=processes)
    seconds = time.perf_counter() - started
    with db.write() as conn:
        conn.execute(sa.text("DELETE FROM contact_verdicts"))
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE contact_verdicts")
    db.dispose()
    return {"seconds": seconds, "values": added}


def _child(mode: str, url: str) -> None:
    modes = {"engine": engine_run, "floor": floor,
             "validate1": lambda u: validation(u, 1), "validate2": lambda u: validation(u, 2)}
    result = modes[mode](url)
    result["peak_mb"] = round(peak_mb(), 1)
    print(json.dumps(result))


def _measure(mode: str, url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, url], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{mode} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- orchestration ---------------------------------------------------------------

def fresh_url(backend: str, size: int, workdir: Path, bench: str = "engine") -> str:
    """An empty database for the benchmark ``bench`` at ``size`` customers: a
    SQLite file in ``workdir``, or a PostgreSQL database made anew."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / f'{bench}_{size}.sqlite3'}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"enroller_bench_{bench}_{size}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)


def drop_pg(size: int, bench: str = "engine") -> None:
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "enroller_bench_{bench}_{size}" WITH (FORCE)')
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "URL"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    workdir = Path(tempfile.mkdtemp(prefix="enroller-bench-"))
    print(f"# engine benchmark {dt.date.today().isoformat()}, {os.cpu_count()} cores")
    try:
        for size in args.sizes:
            for backend in args.backends:
                url = fresh_url(backend, size, workdir)
                started = time.perf_counter()
                build(url, size)
                print(f"\n## {backend}, {size:,} customers (built in {time.perf_counter() - started:.1f} s)")
                one, two = _measure("validate1", url), _measure("validate2", url)
                cold = _measure("engine", url)
                floor_result = _measure("floor", url)
                warm = _measure("engine", url)
                print(f"cold  {cold['seconds']:7.2f} s  {size / cold['seconds']:9,.0f} customers/s  peak {cold['peak_mb']:6.1f} MB  "
                      f"stages {cold['stages']}  verdicts {cold['verdicts']:,}  enrolled {cold['success']:,}")
                print(f"warm  {warm['seconds']:7.2f} s  {size / warm['seconds']:9,.0f} customers/s  peak {warm['peak_mb']:6.1f} MB  "
                      f"stages {warm['stages']}  enrolled {warm['success']:,}")
                print(f"floor {floor_result['seconds']:7.2f} s  {size / floor_result['seconds']:9,.0f} customers/s  peak {floor_result['peak_mb']:6.1f} MB  "
                      f"enrolled {floor_result['enrolled']:,}")
                print(f"warm / floor = {warm['seconds'] / floor_result['seconds']:.2f}")
                if not cold["success"] == warm["success"] == floor_result["enrolled"]:
                    print(f"!! DISAGREEMENT: cold enrolled {cold['success']:,}, warm {warm['success']:,}, "
                          f"the floor {floor_result['enrolled']:,}: they must be equal")
                print(f"validation (ensure_verdicts, {one['values']:,} values): 1 process {one['seconds']:.1f} s, "
                      f"2 processes {two['seconds']:.1f} s: speed-up {one['seconds'] / two['seconds']:.2f}x "
                      f"(peak {one['peak_mb']:.0f} / {two['peak_mb']:.0f} MB)")
                if backend == "postgresql":
                    drop_pg(size)  # leave no database behind
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
