"""Name search over one run's potentials: the accent- and case-free search
(``db.folding``) against the ASCII-only ILIKE it replaced.

    .venv/bin/python bench/search.py --db sqlite:////tmp/search.sqlite3 --potentials 1000000

Writes N synthetic potentials of one run (a fifth of the names accented), then
times, for a rare and a common name: the count of matches (a full scan of the
run's potentials) and the first page of 100 (stops at its LIMIT).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import sqlalchemy as sa

from enroller_desktop.db import models as m
from enroller_desktop.db.detail_queries import PotentialFilter, PotentialListing, potentials
from enroller_desktop.db.engine import open_database

# About one name in five has a letter outside ASCII, as in a Quebec dealership's list.
FIRST = ["Anne", "Jose", "Marie", "Liam", "Olivia", "Chloé", "Noah", "Emma", "William", "Ethan"]
LAST = ["Smith", "Gutiérrez", "Tremblay", "Gagnon", "Nguyen", "Roy", "Bouchard", "Martin", "Brown", "Wilson"]


def setup(db, n: int) -> int:
    with db.write() as conn:
        org = conn.execute(sa.insert(m.Organization).values(name="Bench", country="CA", timezone="UTC").returning(m.Organization.id)).scalar_one()
        campaign = conn.execute(sa.insert(m.Campaign).values(organization_id=org, name="Bench").returning(m.Campaign.id)).scalar_one()
        customer = conn.execute(sa.insert(m.Customer).values(organization_id=org, first_name="x", last_name="y").returning(m.Customer.id)).scalar_one()
        run = conn.execute(sa.insert(m.EnrollerRun).values(organization_id=org, campaign_id=campaign, purpose="default", status="completed",
                                                           created_at=dt.datetime.now(dt.timezone.utc)).returning(m.EnrollerRun.id)).scalar_one()
        batch = []
        for i in range(n):
            last = LAST[(i * 7) % len(LAST)]
            batch.append({"run_id": run, "customer_id": customer, "event_key": str(i), "first_name": FIRST[i % len(FIRST)],
                          "last_name": last, "status": "pending", "is_valid": False})
            if len(batch) == 20_000:
                conn.execute(sa.insert(potentials), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(potentials), batch)
    with db.write() as conn:  # as the engine does after writing a run's potentials
        conn.exec_driver_sql("ANALYZE enroller_run_customers")
    return run


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--potentials", type=int, default=200_000)
    args = parser.parse_args()
    db = open_database(args.db)
    run = setup(db, args.potentials)
    print(f"{db.dialect} {args.potentials:,} potentials")
    for name in ("gutierrez", "GUTIÉRREZ", "tremblay"):
        listing = PotentialListing(run_id=run, filter=PotentialFilter(name=name))
        with db.read() as conn:
            count_s, count = timed(lambda: listing.count(conn))
            page_s, page = timed(lambda: listing.page_after(conn, None, 100))
            ilike = potentials.c.first_name + " " + potentials.c.last_name
            old_s, old = timed(lambda: conn.execute(sa.select(sa.func.count()).where(
                potentials.c.run_id == run, ilike.ilike(f"%{name}%"))).scalar_one())
        print(f"  {name!r}: count {count:,} in {count_s:.2f} s, first page ({len(page)}) in {page_s:.3f} s;"
              f" the old ILIKE counted {old:,} in {old_s:.2f} s")


if __name__ == "__main__":
    main()
