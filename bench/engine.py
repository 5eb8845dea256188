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

With ``--shapes`` (issue 15) it measures instead one campaign per criterion shape
(``SHAPES``: the issue's three params, nested all/any/not, text, lists, tags,
between, timestamps) on data whose times are written in every form other systems
write, each warm run beside its own hand-written floor (``shape_floor``), and
checks that the two wrote the same potentials.

Usage: python bench/engine.py [--sizes 100000 1000000] [--backends sqlite postgresql]
       python bench/engine.py --shapes [--shape issue text ...] [--repeat N] [--sizes ...] [--backends ...]
         (issue 15: each criterion shape against its own hand-written floor)
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

def _contact_values(i: int, rng: random.Random) -> tuple[str | None, str | None, str | None]:
    """Customer ``i``'s email, phone and mobile: some missing, some invalid, phones in two formats."""
    r = rng.random()
    email = None if r < 0.05 else ("not-an-email" if r < 0.1 else f"customer{i}@example{i % 50}.ca")
    phone = None if r < 0.2 else f"+1 416 555 {i % 10000:04d}" if r < 0.6 else f"({604}) {200 + i % 700:03d}-{i % 10000:04d}"
    mobile = None if rng.random() < 0.3 else f"514-{200 + i % 700:03d}-{(i * 7) % 10000:04d}"
    return email, phone, mobile


def _customers(n: int, rng: random.Random):
    first = ["Émilie", "Jean", "Marie", "Connor", "Nguyễn", "Sofia", "Liam", "Chloé", "Noah", "Zoë"]
    last = ["Tremblay", "O'Brien", "Gagnon", "Roy", "Müller", "Singh", "D'Amours", "Côté", "Smith", "Lee"]
    day = dt.datetime(2020, 1, 1)
    for i in range(1, n + 1):
        email, phone, mobile = _contact_values(i, rng)
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
    f = "false"
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
        conn.execute(sa.text("""
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
    modes = {"engine": engine_run, "floor": floor, "verdicts": store_verdicts,
             "validate1": lambda u: validation(u, 1), "validate2": lambda u: validation(u, 2)}
    kind, _, shape = mode.partition(":")
    result = {"floor": shape_floor, "engine": shape_engine}[kind](url, shape) if shape else modes[mode](url)
    result["peak_mb"] = round(peak_mb(), 1)
    print(json.dumps(result))


def _measure(mode: str, url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, url], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{mode} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- criterion shapes (issue 15) ---------------------------------------------------
#
# The engine's cost must not depend on the criterion's shape. ``--shapes`` builds
# one data set whose timestamps are written as other systems write them (every
# form RULES §6 lets SQLite hold: with 'T' or a space, without seconds, with 3, 6
# or 9 digits of fraction, with 'Z' or an offset; PostgreSQL stores what it
# parses), with tags, names and makes in mixed case and some enrollments, and one
# campaign per shape. For each shape it measures, in separate processes, a
# minimal pipeline written by hand for that shape (its floor) and a warm Default
# run of the engine, and checks that both wrote the same potentials.

SHAPES: dict[str, list[tuple[str, dict, str | None]]] = {
    # The benchmark's own three params.
    "bench": PARAMS,
    # The three params.
    "issue": [
        ("Lease end", {"field": "vehicle.lease_end_date", "op": "within_next_days", "value": 90}, "vehicle.lease_end_date"),
        ("Service or mileage", {"any": [{"field": "vehicle.last_service_date", "op": "older_than_days", "value": 180},
                                        {"field": "vehicle.odometer", "op": "gt", "value": 150000}]}, "vehicle.last_service_date"),
        ("Recent buyers", {"field": "customer.last_purchase_at", "op": "within_last_days", "value": 730}, None),
    ],
    # all / any / not nested three deep, with a tag, text, numbers and dates.
    "nested": [
        ("Nested", {"all": [
            {"any": [{"field": "vehicle.year", "op": "ge", "value": 2018},
                     {"not": {"field": "vehicle.odometer", "op": "lt", "value": 100000}}]},
            {"not": {"all": [{"field": "customer.tags", "op": "has_tag", "value": "fleet"},
                             {"field": "vehicle.make", "op": "eq", "value": "FORD"}]}},
            {"any": [{"field": "vehicle.warranty_end_date", "op": "within_next_days", "value": 365},
                     {"field": "customer.last_inquiry_at", "op": "within_last_days", "value": 365}]},
        ]}, "vehicle.warranty_end_date"),
    ],
    # Text ops, ASCII case folded.
    "text": [
        ("Text", {"any": [{"field": "vehicle.make", "op": "eq", "value": "HONDA"},
                          {"field": "customer.last_name", "op": "in", "value": ["o'brien", "TREMBLAY", "gagnon"]},
                          {"field": "vehicle.model", "op": "ge", "value": "rav"}]}, "vehicle.vin"),
        ("Not Smith", {"field": "customer.last_name", "op": "ne", "value": "smith"}, "customer.last_name"),
    ],
    # in / not_in lists on numbers and text.
    "lists": [
        ("In lists", {"all": [{"field": "vehicle.year", "op": "in", "value": [2012, 2015, 2018, 2021, 2024]},
                              {"field": "vehicle.model", "op": "not_in", "value": ["CIVIC", "f-150"]}]}, "vehicle.year"),
        ("Makes", {"field": "vehicle.make", "op": "in", "value": ["kia", "Subaru", "toyota"]}, "vehicle.make"),
    ],
    # Tags.
    "tags": [
        ("VIP or loyal", {"any": [{"field": "customer.tags", "op": "has_tag", "value": "VIP"},
                                  {"field": "customer.tags", "op": "has_tag", "value": "loyal"}]}, None),
        ("Not fleet", {"not": {"field": "customer.tags", "op": "has_tag", "value": "fleet"}}, "vehicle.purchase_date"),
    ],
    # between on dates, numbers and a timestamp.
    "between": [
        ("Bought and driven", {"all": [{"field": "vehicle.purchase_date", "op": "between", "value": ["2018-01-01", "2024-12-31"]},
                                       {"field": "vehicle.odometer", "op": "between", "value": [20000, 180000]}]}, "vehicle.purchase_date"),
        ("Created between", {"field": "customer.created_at", "op": "between", "value": ["2019-06-01", "2023-06-30"]}, "customer.created_at"),
    ],
    # Timestamps written by other systems: day ops and comparisons on them, keyed by them.
    "times": [
        ("Inquired", {"field": "customer.last_inquiry_at", "op": "within_last_days", "value": 400}, "customer.last_inquiry_at"),
        ("Old customers", {"field": "customer.created_at", "op": "older_than_days", "value": 1500}, "customer.created_at"),
        ("Bought by 2022", {"field": "customer.last_purchase_at", "op": "le", "value": "2022-12-31"}, "customer.last_purchase_at"),
    ],
}
#: The shapes' campaigns are 10, 11, ...; campaign 9 holds earlier enrollments.
SHAPE_CAMPAIGN = {name: 10 + i for i, name in enumerate(SHAPES)}
EARLIER_CAMPAIGN = 9


def _written(moment: dt.datetime, rng: random.Random, sqlite: bool) -> str:
    """``moment`` (UTC) as some other system may write it."""
    form = rng.randrange(9 if sqlite else 6)
    if form == 0:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if form == 1:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if form == 2:
        return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    if form == 3:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    if form == 4:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000"
    if form == 5:
        return moment.strftime("%Y-%m-%d %H:%M")  # a minute's precision
    if form == 6:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    hours = rng.choice((-5, -4, 1, 5))
    shown = moment + dt.timedelta(hours=hours)
    return shown.strftime("%Y-%m-%d %H:%M:%S") + ("" if form == 7 else shown.strftime(".%f")) + f"{'+' if hours > 0 else '-'}{abs(hours):02d}:00"


def _moment(rng: random.Random, start: dt.datetime, days: int) -> dt.datetime:
    """A time in ``days`` days from ``start``; one in five at an edge of its day."""
    day = start + dt.timedelta(days=rng.randrange(days))
    edge = rng.random()
    if edge < 0.1:
        return day.replace(hour=23, minute=59, second=59, microsecond=999_700)
    if edge < 0.2:
        return day
    if rng.random() < 0.5:  # a whole minute, so that the minute form says the same time
        return day + dt.timedelta(minutes=rng.randrange(1440))
    return day + dt.timedelta(microseconds=rng.randrange(86_400_000_000))


def _shape_customers(n: int, rng: random.Random, sqlite: bool):
    first = ["Émilie", "JEAN", "marie", "Connor", "Nguyễn", "Sofia", "liam", "Chloé", "NOAH", "Zoë"]
    last = ["Tremblay", "O'Brien", "GAGNON", "roy", "Müller", "Singh", "d'amours", "Côté", "SMITH", "Lee", "o'brien", "Smith"]
    start = dt.datetime(2019, 1, 1)

    def when(probability: float, days: int, since: dt.datetime = start):
        return _written(_moment(rng, since, days), rng, sqlite) if rng.random() < probability else None

    for i in range(1, n + 1):
        email, phone, mobile = _contact_values(i, rng)
        consent = rng.random()
        yield (
            i, 1, first[i % 10], last[(i // 10) % 12], email, phone, mobile,
            rng.random() < 0.02, rng.random() < 0.03, rng.random() < 0.05, rng.random() < 0.05, rng.random() < 0.05,
            when(1.0, 2900) if consent < 0.4 else None,
            when(1.0, 2900) if consent > 0.9 else None,
            when(0.8, 2900), when(0.5, 2900), when(1.0, 2500, dt.datetime(2016, 1, 1)),
        )


def _shape_vehicles(n_customers: int, rng: random.Random):
    vid = 0
    base = dt.date(2026, 11, 27)
    makes = [("Honda", "Civic"), ("TOYOTA", "RAV4"), ("ford", "F-150"), ("Kia", "sorento"), ("Subaru", "Outback"),
             ("HONDA", "civic"), ("Ford", "Escape"), ("toyota", "rav4")]
    for customer_id in range(1, n_customers + 1):
        count = rng.choices((0, 1, 2, 3), weights=(10, 55, 30, 5))[0]
        for _ in range(count):
            vid += 1
            make, model = makes[vid % len(makes)]
            yield (
                vid, customer_id, f"VIN{vid:014d}", 2010 + vid % 16, make, model, rng.randrange(200_000),
                base - dt.timedelta(days=rng.randrange(4000)),
                base + dt.timedelta(days=rng.randrange(-400, 800)) if rng.random() < 0.3 else None,
                base - dt.timedelta(days=rng.randrange(900)) if rng.random() < 0.9 else None,
                base + dt.timedelta(days=rng.randrange(-800, 1500)),
            )


def _shape_tags(n_customers: int, rng: random.Random):
    names = ["VIP", "vip", "loyal", "fleet", "Fleet"]
    for customer_id in range(1, n_customers + 1):
        for tag in rng.sample(names, rng.choices((0, 1, 2), weights=(50, 35, 15))[0]):
            yield customer_id, tag


def _shape_enrollments(n_customers: int, rng: random.Random, sqlite: bool):
    """Earlier enrollments: in campaign 9 (the marketing buffer of 30 days reads
    them), and a few in each shape's campaign (Unique Event and Already in Queue)."""
    recent = AS_OF.replace(tzinfo=None) - dt.timedelta(days=45)
    for customer_id in range(1, n_customers + 1):
        r = rng.random()
        if r < 0.06:
            campaign = EARLIER_CAMPAIGN if r < 0.04 else 10 + rng.randrange(len(SHAPES))
            status = rng.choice(("queued", "completed", "in_progress", "error"))
            yield (campaign, customer_id, None, "", None, "default", status,
                   _written(_moment(rng, recent, 46), rng, sqlite))


def build_shapes(url: str, customers: int) -> None:
    db = open_database(url)
    rng = random.Random(15)
    sqlite = db.is_sqlite
    with db.write() as conn:
        conn.execute(sa.text("INSERT INTO organizations (id, name, country, timezone) VALUES (1, 'Shape Motors', 'CA', 'America/Toronto')"))
        conn.execute(sa.text("INSERT INTO campaigns (id, organization_id, name, active, uses_email, uses_phone, uses_sms)"
                             " VALUES (:id, 1, 'Earlier campaign', true, true, false, false)"), {"id": EARLIER_CAMPAIGN})
        for name, params in SHAPES.items():
            campaign = SHAPE_CAMPAIGN[name]
            conn.execute(sa.text(
                "INSERT INTO campaigns (id, organization_id, name, active, uses_email, uses_phone, uses_sms, marketing_exclusion_days)"
                " VALUES (:id, 1, :name, true, true, true, true, 30)"), {"id": campaign, "name": f"Shape {name}"})
            for order, (param, criterion, event_key) in enumerate(params, start=1):
                conn.execute(sa.text("INSERT INTO query_params (id, campaign_id, process_order, name, criterion, event_key, active)"
                                     " VALUES (:id, :cp, :o, :n, :c, :e, true)"),
                             {"id": campaign * 10 + order, "cp": campaign, "o": order, "n": param,
                              "c": json.dumps(criterion), "e": event_key})
        _bulk(conn, "customers", CUSTOMER_COLUMNS, _shape_customers(customers, rng, sqlite), sqlite)
        _bulk(conn, "vehicles", VEHICLE_COLUMNS, _shape_vehicles(customers, rng), sqlite)
        _bulk(conn, "customer_tags", ("customer_id", "tag"), _shape_tags(customers, rng), sqlite)
        _bulk(conn, "campaign_customers", ("campaign_id", "customer_id", "vehicle_id", "event_key", "run_id",
                                           "purpose", "status", "enrolled_at"),
              _shape_enrollments(customers, rng, sqlite), sqlite)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()


def store_verdicts(url: str) -> dict:
    """Judge and store every customer's contact values once, so every run is warm."""
    from enroller_desktop.engine.contacts import ensure_verdicts

    db = open_database(url)
    started = time.perf_counter()
    added = ensure_verdicts(db, country="CA", customer_ids=sa.select(sa.literal_column("id")).select_from(sa.table("customers")),
                            processes=2)
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE contact_verdicts")
    db.dispose()
    return {"seconds": time.perf_counter() - started, "values": added}


# The floors: SQL written by hand for each shape, on each database.

def _sq_whole(x: str) -> str:
    """SQLite: the text of timestamp ``x`` without its fraction of a second."""
    return f"(CASE WHEN substr({x}, 20, 1) = '.' THEN substr({x}, 1, 19) || ltrim(substr({x}, 21), '0123456789') ELSE {x} END)"


def _sq_micro(x: str) -> str:
    """SQLite: the six microsecond digits of timestamp ``x``."""
    digits = f"substr({x}, 21, length({x}) - 20 - length(ltrim(substr({x}, 21), '0123456789')))"
    return f"(CASE WHEN substr({x}, 20, 1) = '.' THEN substr({digits} || '000000', 1, 6) ELSE '000000' END)"


def _day(pg: bool, x: str) -> str:
    """The UTC date of timestamp ``x``."""
    return f"CAST({x} AS date)" if pg else f"date({_sq_whole(x)})"


def _moment_cmp(pg: bool, x: str, op: str, y: str) -> str:
    """Timestamps ``x op y`` to the microsecond. SQLite's julianday rounds to the
    millisecond: it decides unless it ties, and the tie is decided on exact parts."""
    if pg:
        return f"{x} {op} {y}"
    strict = op.rstrip("=")
    jx, jy = f"julianday({x})", f"julianday({y})"
    wx, wy = f"julianday({_sq_whole(x)})", f"julianday({_sq_whole(y)})"
    exact = f"({wx} {strict} {wy} OR ({wx} = {wy} AND {_sq_micro(x)} {op} {_sq_micro(y)}))"
    return f"({jx} {strict} {jy} OR ({jx} = {jy} AND {exact}))"


def _fold(pg: bool, x: str) -> str:
    return f"translate({x}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE \"C\"" if pg else f"{x} COLLATE NOCASE"


def _date_key(pg: bool, x: str) -> str:
    return f"to_char({x}, 'YYYY-MM-DD')" if pg else x


def shape_floor_params(shape: str, pg: bool) -> list[tuple[str, str]]:
    """(WHERE, event key) of each query param of ``shape``, written by hand.
    Dates relative to the as-of date are bound: :d0 the as-of date, :dN N days later
    (negative: earlier)."""
    tag = lambda *tags: "EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id AND t.tag IN ({}))".format(
        ", ".join(f"'{t}'" for t in tags))
    key = lambda x: f"coalesce({x}, '')"
    num_key = lambda x: f"coalesce(CAST({x} AS {'text' if pg else 'TEXT'}), '')"
    day = lambda x: _day(pg, x)
    ts_key = lambda x: key(f"to_char({x}, 'YYYY-MM-DD')" if pg else day(x))
    if shape == "bench":
        return [("v.last_service_date < :dm180", key(_date_key(pg, "v.last_service_date"))),
                ("v.lease_end_date BETWEEN :d0 AND :d120", key(_date_key(pg, "v.lease_end_date"))),
                (f"{day('c.last_purchase_at')} < :dm1095", "''")]
    if shape == "issue":
        return [("v.lease_end_date BETWEEN :d0 AND :d90", key(_date_key(pg, "v.lease_end_date"))),
                ("(v.last_service_date < :dm180 OR v.odometer > 150000)", key(_date_key(pg, "v.last_service_date"))),
                (f"{day('c.last_purchase_at')} BETWEEN :dm730 AND :d0", "''")]
    if shape == "nested":
        return [(f"(v.year >= 2018 OR NOT v.odometer < 100000)"
                 f" AND NOT ({tag('fleet')} AND {_fold(pg, 'v.make')} = 'ford')"
                 f" AND (v.warranty_end_date BETWEEN :d0 AND :d365 OR {day('c.last_inquiry_at')} BETWEEN :dm365 AND :d0)",
                 key(_date_key(pg, "v.warranty_end_date")))]
    if shape == "text":
        return [(f"({_fold(pg, 'v.make')} = 'honda' OR {_fold(pg, 'c.last_name')} IN ('o''brien', 'tremblay', 'gagnon')"
                 f" OR {_fold(pg, 'v.model')} >= 'rav')", key("v.vin")),
                (f"{_fold(pg, 'c.last_name')} <> 'smith'", key("c.last_name"))]
    if shape == "lists":
        return [(f"v.year IN (2012, 2015, 2018, 2021, 2024) AND {_fold(pg, 'v.model')} NOT IN ('civic', 'f-150')", num_key("v.year")),
                (f"{_fold(pg, 'v.make')} IN ('kia', 'subaru', 'toyota')", key("v.make"))]
    if shape == "tags":
        return [(tag("VIP", "loyal"), "''"), (f"NOT {tag('fleet')}", key(_date_key(pg, "v.purchase_date")))]
    if shape == "between":
        return [("v.purchase_date BETWEEN '2018-01-01' AND '2024-12-31' AND v.odometer BETWEEN 20000 AND 180000",
                 key(_date_key(pg, "v.purchase_date"))),
                (f"{day('c.created_at')} BETWEEN '2019-06-01' AND '2023-06-30'", ts_key("c.created_at"))]
    if shape == "times":
        return [(f"{day('c.last_inquiry_at')} BETWEEN :dm400 AND :d0", ts_key("c.last_inquiry_at")),
                (f"{day('c.created_at')} < :dm1500", ts_key("c.created_at")),
                (f"{day('c.last_purchase_at')} <= '2022-12-31'", ts_key("c.last_purchase_at"))]
    raise ValueError(shape)


def shape_floor(url: str, shape: str) -> dict:
    """The minimal pipeline of ``shape``: one INSERT ... SELECT per query param writing
    every column the engine writes (the checks, is_valid, the consent basis) with the
    verdicts stored, then one INSERT ... SELECT of the enrollments. Its potentials are
    kept (run 999999) for the comparison with the engine's; its enrollments are not."""
    db = open_database(url)
    pg = not db.is_sqlite
    campaign = SHAPE_CAMPAIGN[shape]
    as_of_date = AS_OF.date()
    text = (lambda d: d) if pg else (lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f"))
    day = (lambda d: d) if pg else (lambda d: d.isoformat())
    params = {"run": 999_999, "campaign": campaign, "as_of": text(AS_OF.replace(tzinfo=None)),
              "p730": text(dt.datetime.combine(as_of_date - dt.timedelta(days=730), dt.time())),
              "i183": text(dt.datetime.combine(as_of_date - dt.timedelta(days=183), dt.time())),
              "ex": text((AS_OF - dt.timedelta(days=30)).replace(tzinfo=None))}
    for n in (0, 90, 120, 365):
        params[f"d{n}"] = day(as_of_date + dt.timedelta(days=n))
    for n in (180, 365, 400, 730, 1095, 1500):
        params[f"dm{n}"] = day(as_of_date - dt.timedelta(days=n))
    m = lambda x, op, y: _moment_cmp(pg, x, op, y)
    express = f"(c.casl_express_consent_at IS NOT NULL AND {m('c.casl_express_consent_at', '<=', ':as_of')})"
    withdrawn = (f"(c.casl_withdrawn_at IS NOT NULL AND {m('c.casl_withdrawn_at', '<=', ':as_of')}"
                 f" AND NOT ({express} AND {m('c.casl_express_consent_at', '>', 'c.casl_withdrawn_at')}))")
    purchase = f"(c.last_purchase_at IS NOT NULL AND {m('c.last_purchase_at', '>=', ':p730')} AND {m('c.last_purchase_at', '<=', ':as_of')})"
    inquiry = f"(c.last_inquiry_at IS NOT NULL AND {m('c.last_inquiry_at', '>=', ':i183')} AND {m('c.last_inquiry_at', '<=', ':as_of')})"
    lapse = (lambda x, n: f"(CAST({x} AS date) + {n})") if pg else (lambda x, n: f"date({_sq_whole(x)}, '+{n} days')")
    p_lapse, i_lapse = lapse("c.last_purchase_at", 731), lapse("c.last_inquiry_at", 184)
    purchase_lasts = f"({purchase} AND (NOT {inquiry} OR {p_lapse} >= {i_lapse}))"
    vkey = "coalesce(v.id, 0)"
    # The checks, computed once a row in a derived table; is_valid from them outside.
    checks = f"""
      CASE WHEN c.email IS NULL OR c.email_opt_out THEN 0 WHEN EXISTS (SELECT 1 FROM contact_verdicts cv WHERE cv.value = c.email AND cv.kind = 'email' AND cv.country = '' AND cv.valid) THEN 1 ELSE 0 END AS valid_email,
      CASE WHEN c.do_not_call OR (c.phone IS NULL AND c.mobile IS NULL) THEN 0 WHEN EXISTS (SELECT 1 FROM contact_verdicts cv WHERE cv.value IN (c.phone, c.mobile) AND cv.kind = 'phone' AND cv.country = 'CA' AND cv.valid) THEN 1 ELSE 0 END AS valid_phone,
      CASE WHEN c.mobile IS NULL OR c.sms_opt_out THEN 0 WHEN EXISTS (SELECT 1 FROM contact_verdicts cv WHERE cv.value = c.mobile AND cv.kind = 'phone' AND cv.country = 'CA' AND cv.valid AND cv.mobile) THEN 1 ELSE 0 END AS valid_message,
      CASE WHEN c.deleted THEN 0 ELSE 1 END AS deleted,
      CASE WHEN EXISTS (SELECT 1 FROM campaign_customers cc WHERE cc.campaign_id = :campaign AND cc.customer_id = c.id AND coalesce(cc.vehicle_id, 0) = {vkey} AND coalesce(cc.event_key, '') = {{key}}) THEN 0 ELSE 1 END AS unique_event,
      CASE WHEN EXISTS (SELECT 1 FROM campaign_customers cc WHERE cc.campaign_id = :campaign AND cc.customer_id = c.id AND cc.expired_at IS NULL AND cc.status IN ('queued', 'pending_deployment', 'assigned', 'in_progress')) THEN 0 ELSE 1 END AS already_in_queue,
      CASE WHEN {withdrawn} THEN 0 WHEN {express} OR {purchase} OR {inquiry} THEN 1 ELSE 0 END AS casl,
      CASE WHEN c.opt_out_all THEN 0 ELSE 1 END AS opt_out_all,
      CASE WHEN EXISTS (SELECT 1 FROM campaign_customers cc WHERE cc.customer_id = c.id AND {m('cc.enrolled_at', '>=', ':ex')} AND {m('cc.enrolled_at', '<=', ':as_of')}) THEN 0 ELSE 1 END AS marketing_exclusion,
      CASE WHEN {withdrawn} THEN 'withdrawn' WHEN {express} THEN 'express' WHEN {purchase_lasts} THEN 'implied_purchase' WHEN {inquiry} THEN 'implied_inquiry' ELSE 'none' END AS consent_basis,
      CASE WHEN {withdrawn} THEN c.casl_withdrawn_at WHEN {express} THEN c.casl_express_consent_at WHEN {purchase_lasts} THEN c.last_purchase_at WHEN {inquiry} THEN c.last_inquiry_at END AS consent_evidence_at,
      CASE WHEN {withdrawn} THEN NULL WHEN {express} THEN NULL WHEN {purchase_lasts} THEN {p_lapse} WHEN {inquiry} THEN {i_lapse} END AS consent_lapses_on
    """
    eligible = ("x.deleted = 1 AND (x.valid_email = 1 OR x.valid_phone = 1 OR x.valid_message = 1) AND x.unique_event = 1"
                " AND x.already_in_queue = 1 AND x.casl = 1 AND x.opt_out_all = 1 AND x.marketing_exclusion = 1")
    columns = ("valid_email, valid_phone, valid_message, deleted, unique_event, already_in_queue, casl, opt_out_all,"
               " marketing_exclusion, consent_basis, consent_evidence_at, consent_lapses_on")
    with db.write() as conn:  # the potentials need a run to belong to
        conn.execute(sa.text("DELETE FROM enroller_run_customers WHERE run_id = :run"), params)
        conn.execute(sa.text("DELETE FROM enroller_runs WHERE id = :run"), params)
        conn.execute(sa.text("INSERT INTO enroller_runs (id, organization_id, campaign_id, purpose, status, step, created_at)"
                             " VALUES (:run, 1, :campaign, 'default', 'completed', 'main', :as_of)"), params)
    started = time.perf_counter()
    candidates = 0
    with db.write() as conn:
        for order, (where, key) in enumerate(shape_floor_params(shape, pg), start=1):
            credited = "" if order == 1 else (
                f" AND NOT EXISTS (SELECT 1 FROM enroller_run_customers p WHERE p.run_id = :run AND p.customer_id = c.id AND coalesce(p.vehicle_id, 0) = {vkey})")
            candidates += conn.execute(sa.text(f"""
                INSERT INTO enroller_run_customers (run_id, customer_id, vehicle_id, query_param_id, event_key, first_name, last_name,
                    status, validated_at, is_valid, {columns})
                SELECT :run, x.customer_id, x.vehicle_id, {campaign * 10 + order}, x.event_key, x.first_name, x.last_name, 'pending', :as_of,
                    {eligible}, {columns}
                FROM (SELECT c.id AS customer_id, v.id AS vehicle_id, {key} AS event_key, c.first_name, c.last_name,
                        {checks.format(key=key)}
                      FROM customers c LEFT JOIN vehicles v ON v.customer_id = c.id
                      WHERE c.organization_id = 1 AND {where}{credited}) AS x"""), params).rowcount
        conn.execute(sa.text("""
            INSERT INTO campaign_customers (campaign_id, customer_id, vehicle_id, event_key, run_id, purpose, status, enrolled_at)
            SELECT :campaign, p.customer_id, p.vehicle_id, p.event_key, :run, 'default', 'queued', :as_of
            FROM enroller_run_customers p WHERE p.run_id = :run AND p.is_valid"""), params)
    seconds = time.perf_counter() - started
    with db.write() as conn:
        enrolled = conn.execute(sa.text("DELETE FROM campaign_customers WHERE run_id = :run"), params).rowcount
    db.dispose()
    return {"seconds": seconds, "candidates": candidates, "enrolled": enrolled}


POTENTIAL_FIELDS = ("customer_id", "vehicle_id", "query_param_id", "event_key", "first_name", "last_name", "is_valid",
                    "valid_email", "valid_phone", "valid_message", "deleted", "unique_event", "already_in_queue", "casl",
                    "opt_out_all", "marketing_exclusion", "consent_basis", "consent_evidence_at", "consent_lapses_on")


def shape_engine(url: str, shape: str) -> dict:
    """A warm Default run of ``shape``'s campaign; then how many of its potentials
    differ from the floor's, and the state put back (its enrollments and potentials deleted)."""
    from enroller_desktop.engine.runs import create_run, execute_run

    db = open_database(url)
    run_id = create_run(db, campaign_id=SHAPE_CAMPAIGN[shape], as_of=AS_OF)
    started = time.perf_counter()
    outcome = execute_run(db, run_id)
    seconds = time.perf_counter() - started
    fields = ", ".join(POTENTIAL_FIELDS)
    with db.write() as conn:
        stages = dict(conn.execute(sa.text(
            "SELECT stage, sum(duration_ms) / 1000.0 FROM enroller_run_events WHERE run_id = :r GROUP BY stage"), {"r": run_id}).all())
        differ = conn.execute(sa.text(f"""
            SELECT count(*) FROM (
              SELECT {fields} FROM (SELECT {fields} FROM enroller_run_customers WHERE run_id = :r
                                    EXCEPT SELECT {fields} FROM enroller_run_customers WHERE run_id = 999999) AS a
              UNION ALL
              SELECT {fields} FROM (SELECT {fields} FROM enroller_run_customers WHERE run_id = 999999
                                    EXCEPT SELECT {fields} FROM enroller_run_customers WHERE run_id = :r) AS b) AS d"""),
            {"r": run_id}).scalar()
        conn.execute(sa.text("DELETE FROM campaign_customers WHERE run_id = :r"), {"r": run_id})
        conn.execute(sa.text("DELETE FROM enroller_run_customers WHERE run_id IN (:r, 999999)"), {"r": run_id})
        conn.execute(sa.text("DELETE FROM enroller_runs WHERE id = 999999"))
    db.dispose()
    return {"seconds": seconds, "status": outcome.status.value, "error": outcome.error_message,
            "candidates": outcome.counts["query_param_customers"], "success": outcome.counts["success"],
            "stages": {k: round(float(v), 2) for k, v in stages.items()}, "differ": differ}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_shapes(args, workdir: Path) -> None:
    shapes = args.shape or list(SHAPES)
    for size in args.sizes:
        for backend in args.backends:
            url = fresh_url(backend, size, workdir, bench="shapes")
            started = time.perf_counter()
            build_shapes(url, size)
            verdicts = _measure("verdicts", url)
            print(f"\n## {backend}, {size:,} customers (built in {time.perf_counter() - started:.1f} s, "
                  f"{verdicts['values']:,} verdicts stored in {verdicts['seconds']:.1f} s), load {load()}", flush=True)
            print("| shape | engine | floor | engine / floor | candidates | enrolled | load average (1, 5, 15 min) | engine stages |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |", flush=True)
            for shape in shapes:
                for _ in range(args.repeat):
                    before = load()
                    floor_result = _measure("floor:" + shape, url)
                    engine = _measure("engine:" + shape, url)
                    ratio = engine["seconds"] / floor_result["seconds"]
                    print(f"| {shape} | {engine['seconds']:.2f} s | {floor_result['seconds']:.2f} s | {ratio:.2f} | "
                          f"{engine['candidates']:,} | {engine['success']:,} | {before} | {engine['stages']} |", flush=True)
                    if (engine["status"] != "completed" or engine["candidates"] != floor_result["candidates"]
                            or engine["success"] != floor_result["enrolled"] or engine["differ"]):
                        print(f"!! DISAGREEMENT on {shape}: engine {engine['status']} {engine['error'] or ''} "
                              f"{engine['candidates']:,} candidates, {engine['success']:,} enrolled; floor "
                              f"{floor_result['candidates']:,} candidates, {floor_result['enrolled']:,} enrolled; "
                              f"{engine['differ']:,} potentials differ", flush=True)
            if backend == "postgresql":
                drop_pg(size, bench="shapes")


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
    parser.add_argument("--shapes", action="store_true", help="the criterion shapes against their floors (issue 15)")
    parser.add_argument("--shape", nargs="+", choices=list(SHAPES), help="only these shapes")
    parser.add_argument("--repeat", type=int, default=1, help="measure each shape this many times")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "URL"))
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    workdir = Path(tempfile.mkdtemp(prefix="enroller-bench-"))
    if args.shapes:
        print(f"# criterion shapes benchmark {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores")
        try:
            run_shapes(args, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
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
