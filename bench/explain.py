"""Explain benchmark (issue 12): customer search, the customer window's story, and
comparing two runs, on SQLite.

The data is the demo (``load_data``, no history) at N customers; two Campaign
Simulation runs of the campaign with the most candidates, a month apart, give two
runs to compare. Measured, each the best of three:

- search: first results of the customer search for a last-name prefix, an email
  prefix and a formatted phone (target 150 ms after the last keystroke);
- story: everything the customer window shows of a customer (target 500 ms);
- preview: New Run's Preview against the same Campaign Simulation run after it
  (target 1.5x; the simulation then finds the contact verdicts the preview
  computed and rolled back, so it pays for them too);
- compare: the counts (target 3 s at a million potentials a run) and the first
  page of differing potentials (target 500 ms), next to the ``sqlite3`` shell
  counting the same join (the floor); then each sort of the list's first page.

The demo's campaigns hold about 13 % of the customers as potentials, so with
``--compare-potentials N`` two more runs of N potentials each are written by SQL
(not by the engine: it would take most of an hour at a million) over the first
N / 0.98 vehicles of every organization (no organization has a million; the
comparison does not read it), and compared the same way: A holds 98 % of these
identities, B another 98 % (2 % left, 2 % entered); 10 % of those in both
change Unique Event, 3 % CASL, 1 % Is Valid and more. They are the same rows a
run writes (every column), with results spread by a hash of the ids.

Usage: python bench/explain.py [--customers 20000] [--keep DIR] [--compare-potentials N]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from enroller_desktop import demo, explain  # noqa: E402
from enroller_desktop.db import customer_queries  # noqa: E402
from enroller_desktop.db.engine import open_database  # noqa: E402
from enroller_desktop.db.enums import RunPurpose  # noqa: E402
from enroller_desktop.engine.runs import create_run, execute_run  # noqa: E402

AS_OF = dt.datetime(2026, 11, 2, 9, tzinfo=dt.timezone.utc)

SHELL_JOIN = """
SELECT count(*) FROM enroller_run_customers b JOIN enroller_run_customers a
  ON a.run_id = {a} AND a.customer_id = b.customer_id AND coalesce(a.vehicle_id, 0) = coalesce(b.vehicle_id, 0)
WHERE b.run_id = {b} AND (a.is_valid <> b.is_valid OR a.casl IS NOT b.casl OR a.unique_event IS NOT b.unique_event);
"""


def best(fn, times: int = 3) -> tuple[float, object]:
    result, elapsed = None, []
    for _ in range(times):
        start = time.perf_counter()
        result = fn()
        elapsed.append(time.perf_counter() - start)
    return min(elapsed), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--keep", metavar="DIR")
    parser.add_argument("--compare-potentials", type=int, default=0, metavar="N")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-explain-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "explain.sqlite3"
    fresh = not path.exists()
    db = open_database(f"sqlite:///{path}")
    if fresh:
        demo.load_data(db, customers=args.customers, seed=1, today=AS_OF.date())
    with db.read() as conn:
        campaign_id = conn.execute(sa.text(
            "SELECT c.id FROM campaigns c WHERE c.active AND c.organization_id = "
            "(SELECT organization_id FROM customers GROUP BY organization_id ORDER BY count(*) DESC LIMIT 1) ORDER BY c.id")).scalars().first()
        runs = conn.execute(sa.text("SELECT id FROM enroller_runs WHERE campaign_id = :c AND query_param_customers IS DISTINCT FROM :n "
                                    "ORDER BY id"), {"c": campaign_id, "n": args.compare_potentials or -1}).scalars().all()
    print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load average {open('/proc/loadavg').read().split()[:3]}")
    if args.compare_potentials:  # first: the figure that most needs the machine's time
        big_a, big_b = synthetic_runs(db, campaign_id, args.compare_potentials)
        compare(db, path, big_a, big_b)
    while len(runs) < 2:
        as_of = AS_OF - dt.timedelta(days=30 * (1 - len(runs)))
        run_id = create_run(db, campaign_id=campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=as_of)
        execute_run(db, run_id)
        runs.append(run_id)
    run_a, run_b = runs[:2]
    with db.read() as conn:
        sizes = conn.execute(sa.text("SELECT run_id, count(*) FROM enroller_run_customers WHERE run_id IN (:a, :b) GROUP BY run_id"),
                             {"a": run_a, "b": run_b}).all()
        person = conn.execute(sa.text(
            "SELECT * FROM customers WHERE phone IS NOT NULL AND email IS NOT NULL AND last_name IS NOT NULL "
            "AND id IN (SELECT customer_id FROM enroller_run_customers WHERE run_id = :b) LIMIT 1"), {"b": run_b}).mappings().one()
    print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load average {open('/proc/loadavg').read().split()[:3]}")
    print(f"{args.customers:,} customers; runs {run_a} and {run_b} of campaign {campaign_id}: "
          + ", ".join(f"run {r} {n:,} potentials" for r, n in sizes))

    digits = re.sub(r"\D", "", person["phone"])[-10:]
    for label, text in (("last name prefix", person["last_name"][:3]), ("email prefix", person["email"].strip()[:4]),
                        ("formatted phone", f"({digits[:3]}) {digits[3:6]}-{digits[6:]}")):
        def search(text=text):
            with db.read() as conn:
                return customer_queries.search_customers(conn, text, person["organization_id"])
        elapsed, found = best(search)
        print(f"search {label:<18} {elapsed * 1000:8.1f} ms  ({len(found)} found, target 150 ms)")
    elapsed, _story = best(lambda: explain.customer_story(db, person["id"]))
    print(f"customer story            {elapsed * 1000:8.1f} ms  (target 500 ms)")

    compare(db, path, run_a, run_b)
    preview_against_simulation(db, campaign_id)
    print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, load average {open('/proc/loadavg').read().split()[:3]}")
    db.dispose()
    if not args.keep:
        shutil.rmtree(folder)
    return 0


def synthetic_runs(db, campaign_id: int, size: int) -> tuple[int, int]:
    """Two completed Campaign Simulation runs of ``size`` potentials each (see the
    module's docstring), made once and kept with the database."""
    with db.read() as conn:
        made = conn.execute(sa.text(
            "SELECT id FROM enroller_runs WHERE campaign_id = :c AND purpose = 'campaign_simulation' AND query_param_customers = :n "
            "ORDER BY id"), {"c": campaign_id, "n": size}).scalars().all()
    if len(made) >= 2:
        return made[0], made[1]
    start = time.perf_counter()
    runs = []
    for month in (2, 1):
        run_id = create_run(db, campaign_id=campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION,
                            as_of=AS_OF - dt.timedelta(days=30 * month))
        runs.append(run_id)
    run_a, run_b = runs
    checks = {
        # column: (SQL of the result in A, SQL of the result in B), h and g hashes of the identity
        "valid_email": ("CASE WHEN h % 10 = 0 THEN 0 ELSE 1 END", "CASE WHEN h % 10 = 0 AND g % 20 <> 0 THEN 0 ELSE 1 END"),
        "valid_phone": ("CASE WHEN h % 7 = 0 THEN 0 ELSE 1 END", "CASE WHEN h % 7 = 0 THEN 0 ELSE 1 END"),
        "valid_message": ("CASE WHEN h % 3 = 0 THEN NULL WHEN h % 5 = 0 THEN 0 ELSE 1 END",
                          "CASE WHEN h % 3 = 0 THEN NULL WHEN h % 5 = 0 THEN 0 ELSE 1 END"),
        "deleted": ("CASE WHEN h % 97 = 0 THEN 0 ELSE 1 END", "CASE WHEN h % 97 = 0 OR g % 500 = 0 THEN 0 ELSE 1 END"),
        "unique_event": ("CASE WHEN h % 9 = 0 THEN 0 ELSE 1 END", "CASE WHEN (h % 9 = 0) <> (g % 10 = 0) THEN 0 ELSE 1 END"),
        "already_in_queue": ("CASE WHEN h % 11 = 0 THEN 0 ELSE 1 END", "CASE WHEN h % 11 = 0 OR g % 40 = 1 THEN 0 ELSE 1 END"),
        "casl": ("CASE WHEN h % 13 = 0 THEN 0 ELSE 1 END", "CASE WHEN (h % 13 = 0) <> (g % 33 = 2) THEN 0 ELSE 1 END"),
        "opt_out_all": ("CASE WHEN h % 53 = 0 THEN 0 ELSE 1 END", "CASE WHEN h % 53 = 0 THEN 0 ELSE 1 END"),
        "marketing_exclusion": ("CASE WHEN h % 17 = 0 THEN 0 ELSE 1 END", "CASE WHEN h % 17 = 0 OR g % 100 = 3 THEN 0 ELSE 1 END"),
    }
    failed = " OR ".join(f"{column} = 0" for column in checks if column not in ("valid_email", "valid_phone", "valid_message"))
    channels = "(valid_email = 1 OR valid_phone = 1 OR valid_message = 1)"
    with db.write() as conn:
        for run_id, side, keep in ((run_a, 0, "g % 50 <> 0"), (run_b, 1, "g % 50 <> 1")):
            results = ", ".join(f"{pair[side]} AS {column}" for column, pair in checks.items())
            conn.execute(sa.text(f"""
                INSERT INTO enroller_run_customers (run_id, customer_id, vehicle_id, query_param_id, event_key, first_name,
                    last_name, status, is_valid, {", ".join(checks)}, validated_at)
                SELECT :run, customer_id, vehicle_id, NULL, '', first_name, last_name, 'pending',
                       coalesce({channels}, 0) AND NOT ({failed}), {", ".join(checks)}, :at
                FROM (SELECT customer_id, vehicle_id, first_name, last_name, {results}
                      FROM (SELECT v.customer_id, v.id AS vehicle_id, c.first_name, c.last_name,
                                   (v.id * 7919 + v.customer_id * 104729) % 1000003 AS h,
                                   (v.id * 15485863 + v.customer_id * 32452843) % 999983 AS g
                            FROM vehicles v JOIN customers c ON c.id = v.customer_id
                            ORDER BY v.id LIMIT :identities) identities
                      WHERE {keep}) results
            """), {"run": run_id, "identities": round(size / 0.98), "at": AS_OF})
            conn.execute(sa.text("UPDATE enroller_runs SET status = 'completed', query_param_customers = :n WHERE id = :run"),
                         {"n": size, "run": run_id})
        conn.exec_driver_sql("ANALYZE")
    print(f"two synthetic runs {run_a} and {run_b} written in {time.perf_counter() - start:.1f} s")
    return run_a, run_b


def compare(db, path: Path, run_a: int, run_b: int) -> None:
    with db.read() as conn:
        sizes = conn.execute(sa.text("SELECT run_id, count(*) FROM enroller_run_customers WHERE run_id IN (:a, :b) GROUP BY run_id"),
                             {"a": run_a, "b": run_b}).all()
    print(f"compare runs {run_a} and {run_b}: " + ", ".join(f"run {r} {n:,} potentials" for r, n in sizes))
    elapsed, compared = best(lambda: explain.comparison(db, run_a, run_b))
    print(f"compare counts            {elapsed * 1000:8.1f} ms  (entered {compared.entered:,}, left {compared.left:,}, "
          f"lost eligibility {compared.lost_eligibility:,}; target 3 s at 1,000,000)")
    listing = explain.difference_source(run_a, run_b).listing

    def first_page():
        with db.read() as conn:
            return listing.page_after(conn, None, 200)
    elapsed, rows = best(first_page)
    print(f"compare first rows        {elapsed * 1000:8.1f} ms  ({len(rows)} rows; target 500 ms)")
    elapsed, counted = best(lambda: _count(db, listing), times=1)
    print(f"compare list count        {elapsed * 1000:8.1f} ms  ({counted:,} differing potentials)")
    if shutil.which("sqlite3"):
        def shell():
            subprocess.run(["sqlite3", str(path), SHELL_JOIN.format(a=run_a, b=run_b)], check=True, capture_output=True)
        elapsed, _ = best(shell)
        print(f"sqlite3 shell same join   {elapsed * 1000:8.1f} ms  (the floor, process start included)")
    for sort, descending in (("last_name", False), ("vehicle", True), ("checks_changed", True)):
        ordered = dataclasses.replace(listing, sort=sort, descending=descending)

        def sorted_page(ordered=ordered):
            with db.read() as conn:
                return ordered.page_after(conn, None, 200)
        elapsed, rows = best(sorted_page, times=1)
        print(f"  sorted by {sort}{' desc' if descending else ''}: first page {elapsed * 1000:8.1f} ms ({len(rows)} rows)")


def _count(db, listing) -> int:
    with db.read() as conn:
        return listing.count(conn)


def preview_against_simulation(db, campaign_id: int) -> None:
    from enroller_desktop.engine.preview import preview_run

    as_of = AS_OF + dt.timedelta(days=1)
    start = time.perf_counter()
    preview = preview_run(db, campaign_id, as_of=as_of)
    previewed = time.perf_counter() - start
    start = time.perf_counter()
    execute_run(db, create_run(db, campaign_id=campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=as_of))
    simulated = time.perf_counter() - start
    print(f"preview                   {previewed * 1000:8.1f} ms  ({preview.counts.get('eligible', 0):,} eligible; "
          f"{previewed / simulated:.2f}x the Campaign Simulation's {simulated * 1000:.1f} ms; target 1.5x)")


if __name__ == "__main__":
    sys.exit(main())
