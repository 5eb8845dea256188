"""Another system of the dealership, writing while a run executes (for test_snapshot.py).

``python -m tests.engine.snapshot_writer URL SCENARIO JSON`` commits one round of
writes, prints ``committed``, and, with ``"keep_going": true``, goes on committing
a round every 20 ms until it is stopped, as the dealership's systems do all day.

Scenarios (JSON gives the ids):
- ``queue``: an active enrollment of the run's campaign for every target (another
  event key, no vehicle): Already in Queue.
- ``buffer``: an enrollment of another, non-exempt campaign a day before the
  as-of time for every target: the marketing buffer.
- ``flags``: every target becomes deleted, opts out of everything, and withdraws
  CASL consent after its express consent.
- ``same_key``: one enrollment with the exact key of one eligible candidate.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time

import sqlalchemy as sa

from enroller_desktop.db.engine import open_database
from tests.builders import AS_OF, CUSTOMERS, ENROLLMENTS, days_before


def _enrollments(campaign_id: int, customer_ids, event_key: str, enrolled_at: dt.datetime, vehicle_ids=None) -> list[dict]:
    vehicle_ids = vehicle_ids or [None] * len(customer_ids)
    return [{"campaign_id": campaign_id, "customer_id": customer, "vehicle_id": vehicle, "event_key": event_key,
             "purpose": "default", "status": "queued", "enrolled_at": enrolled_at}
            for customer, vehicle in zip(customer_ids, vehicle_ids)]


def write(db, scenario: str, ids: dict, round_: int) -> None:
    with db.write() as conn:
        if scenario == "queue":
            conn.execute(ENROLLMENTS.insert(), _enrollments(ids["campaign_id"], ids["targets"], f"other {round_}", days_before(400)))
        elif scenario == "buffer":
            conn.execute(ENROLLMENTS.insert(), _enrollments(ids["other_campaign_id"], ids["targets"], f"other {round_}", days_before(1)))
        elif scenario == "flags":
            conn.execute(sa.update(CUSTOMERS).where(CUSTOMERS.c.id.in_(ids["targets"]))
                         .values(deleted=True, opt_out_all=True, casl_withdrawn_at=days_before(1, AS_OF)))
        elif scenario == "same_key":
            conn.execute(ENROLLMENTS.insert(), _enrollments(ids["campaign_id"], [ids["customer_id"]], ids["event_key"],
                                                            days_before(400), [ids["vehicle_id"]]))
        else:
            raise SystemExit(f"unknown scenario {scenario!r}")


def main() -> None:
    url, scenario, ids = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    db = open_database(url, upgrade=False)
    round_ = 0
    while True:
        write(db, scenario, ids, round_)
        if round_ == 0:
            print("committed", flush=True)
        round_ += 1
        if not ids.get("keep_going"):
            break
        time.sleep(0.02)
    db.dispose()


if __name__ == "__main__":
    main()
