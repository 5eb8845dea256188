"""Run rows written straight into a test database, for the main window's tests.

The index only reads runs, so its tests make the rows they need with every
purpose, status, count and time the table shows, empty ones included.
"""

from __future__ import annotations

import datetime as dt
import random

import sqlalchemy as sa

from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunPurpose, RunStatus, RunStep
from enroller_desktop.db.models import Campaign, Customer, EnrollerRun, Organization

RUNS = EnrollerRun.__table__
NOW = dt.datetime(2025, 3, 14, 12, 0, tzinfo=dt.timezone.utc)


def add_organizations(db: Database) -> dict[str, int]:
    """Two organizations with two campaigns each; returns ids by name."""
    ids: dict[str, int] = {}
    with db.write() as conn:
        for org_name, country, campaigns in (
            ("Maple Motors", "CA", ("Service Due", "Lease Maturity")),
            ("Bayside Auto Group", "US", ("Warranty Expiry", "Win Back")),
        ):
            org_id = conn.execute(
                sa.insert(Organization.__table__).values(name=org_name, country=country, timezone="UTC").returning(Organization.id)
            ).scalar_one()
            ids[org_name] = org_id
            for name in campaigns:
                ids[name] = conn.execute(
                    sa.insert(Campaign.__table__)
                    .values(organization_id=org_id, name=name, active=True, uses_email=True, uses_phone=True, uses_sms=False)
                    .returning(Campaign.id)
                ).scalar_one()
    return ids


def campaign_owner(ids: dict[str, int], campaign: str) -> int:
    return ids["Maple Motors"] if campaign in ("Service Due", "Lease Maturity") else ids["Bayside Auto Group"]


def run_values(ids: dict[str, int], rng: random.Random, created_at: dt.datetime) -> dict:
    campaign = rng.choice(("Service Due", "Lease Maturity", "Warranty Expiry", "Win Back"))
    status = rng.choice(list(RunStatus))
    purpose = rng.choice(list(RunPurpose))
    started = created_at + dt.timedelta(seconds=rng.randint(0, 90)) if status not in (RunStatus.SCHEDULED, RunStatus.NOT_APPLICABLE) else None
    finished = started + dt.timedelta(seconds=rng.randint(1, 4000)) if started and status.finished else None
    counts: dict[str, int | None] = {}
    funnel = rng.randint(0, 250_000) if status in (RunStatus.COMPLETED, RunStatus.IN_PROGRESS) else None
    for column in ("query_param_customers", "potential_customers", "potential_events", "eligible", "success"):
        counts[column] = funnel
        if funnel is not None:
            funnel = rng.randint(0, funnel) if rng.random() > 0.1 else None
    return {
        "organization_id": campaign_owner(ids, campaign),
        "campaign_id": ids[campaign],
        "purpose": purpose,
        "status": status,
        "step": RunStep.MAIN,
        "created_at": created_at,
        "scheduled_for": created_at,
        "in_progress_at": started,
        "completed_at": finished,
        "error_message": "The criterion of query param 1 names an unknown field" if status is RunStatus.ERROR else None,
        **counts,
    }


def add_runs(db: Database, ids: dict[str, int], count: int, *, seed: int = 7, start: dt.datetime = NOW, step_minutes: int = 317) -> list[int]:
    """``count`` runs of every purpose and status, one every ``step_minutes`` back
    from ``start`` (so they spread over many days); returns their ids."""
    rng = random.Random(seed)
    rows = [run_values(ids, rng, start - dt.timedelta(minutes=step_minutes * i)) for i in range(count)]
    with db.write() as conn:
        conn.execute(sa.insert(RUNS), rows)
        return list(conn.execute(sa.select(RUNS.c.id).order_by(RUNS.c.id)).scalars())


def add_run(db: Database, ids: dict[str, int], **values) -> int:
    base = {
        "organization_id": ids["Maple Motors"],
        "campaign_id": ids["Service Due"],
        "purpose": RunPurpose.DEFAULT,
        "status": RunStatus.SCHEDULED,
        "step": RunStep.MAIN,
        "created_at": dt.datetime.now(dt.timezone.utc),
    }
    base.update(values)
    with db.write() as conn:
        return conn.execute(sa.insert(RUNS).values(**base).returning(RUNS.c.id)).scalar_one()


def update_run(db: Database, run_id: int, **values) -> None:
    with db.write() as conn:
        conn.execute(sa.update(RUNS).where(RUNS.c.id == run_id).values(**values))


def add_customer(db: Database, organization_id: int, **values) -> int:
    with db.write() as conn:
        return conn.execute(
            sa.insert(Customer.__table__).values(organization_id=organization_id, **values).returning(Customer.id)
        ).scalar_one()


def read_to_the_end(qtbot, model) -> None:
    """Wait until every row of a lazy runs model is read, asking for each page as
    painting the rows would (what a user scrolling to the bottom gets)."""

    def all_there() -> bool:
        for row in range(model.rowCount()):
            if model.run_at(row) is None:
                model.data(model.index(row, 1))
                return False
        return True

    qtbot.waitUntil(all_there, timeout=20_000)
