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
  counting the same join (the floor).

Usage: python bench/explain.py [--customers 20000] [--keep DIR]
"""

from __future__ import annotations

import argparse
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
        runs = conn.execute(sa.text("SELECT id FROM enroller_runs WHERE campaign_id = :c ORDER BY id"), {"c": campaign_id}).scalars().all()
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

    elapsed, compared = best(lambda: explain.comparison(db, run_a, run_b))
    print(f"compare counts            {elapsed * 1000:8.1f} ms  (entered {compared.entered:,}, left {compared.left:,}, "
          f"lost eligibility {compared.lost_eligibility:,}; target 3 s at 1,000,000)")
    listing = explain.difference_source(run_a, run_b).listing

    def first_page():
        with db.read() as conn:
            return listing.page_after(conn, None, 200)
    elapsed, rows = best(first_page)
    print(f"compare first rows        {elapsed * 1000:8.1f} ms  ({len(rows)} rows; target 500 ms)")
    if shutil.which("sqlite3"):
        start = time.perf_counter()
        subprocess.run(["sqlite3", str(path), SHELL_JOIN.format(a=run_a, b=run_b)], check=True, capture_output=True)
        print(f"sqlite3 shell same join   {(time.perf_counter() - start) * 1000:8.1f} ms  (the floor)")
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
    db.dispose()
    if not args.keep:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
