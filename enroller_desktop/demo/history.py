"""The demo's run history, made by the real engine.

About two hundred runs over the last 90 days — every purpose, and every status a
finished history can hold: completed, not applicable (an inactive campaign, one
not started yet, a customer of another organization), error (a draft campaign
whose criterion names a field that does not exist), canceled, and scheduled
runs still to come. Each run is executed by the engine as of its day; its
clock times are then moved to that day, as if it had run then.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable

import sqlalchemy as sa

from enroller_desktop.db import models
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunPurpose
from enroller_desktop.engine.runs import cancel_run, create_run, execute_run

Progress = Callable[[float, str], None]

_RUNS = models.EnrollerRun.__table__
_EVENTS = models.EnrollerRunEvent.__table__
_RUN_PARAMS = models.EnrollerRunQueryParam.__table__
_CAMPAIGNS = models.Campaign.__table__
_QUERY_PARAMS = models.QueryParam.__table__
_CUSTOMERS = models.Customer.__table__
_POTENTIALS = models.EnrollerRunCustomer.__table__

DAYS = 90
#: A large demo runs fewer whole-campaign runs: each takes seconds there.
LARGE_DEMO = 100_000
CAMPAIGN_PURPOSES = (
    (RunPurpose.DEFAULT, 12),
    (RunPurpose.CAMPAIGN_SIMULATION, 3),
    (RunPurpose.CRITERION_STATS, 2),
    (RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE, 3),
)
CUSTOMER_EVALUATIONS = 200
#: A campaign someone left half-written: its criterion names a field that does not exist.
DRAFT_CRITERION = {"all": [{"field": "vehicle.colour", "op": "eq", "value": "red"},
                           {"field": "vehicle.year", "op": "ge", "value": 2020}]}


def make_history(db: Database, *, first_campaign_id: int, customers: int, seed: int, today: dt.date,
                 progress: Progress | None = None) -> int:
    """Execute the demo's runs over the campaigns from ``first_campaign_id`` on;
    returns how many runs there are."""
    rng = random.Random(seed)
    with db.read() as conn:
        campaigns = conn.execute(
            sa.select(_CAMPAIGNS.c.id, _CAMPAIGNS.c.organization_id, _CAMPAIGNS.c.active, _CAMPAIGNS.c.starts_on)
            .where(_CAMPAIGNS.c.id >= first_campaign_id).order_by(_CAMPAIGNS.c.id)
        ).all()
        customer_ids = {
            campaign.organization_id: conn.execute(
                sa.select(_CUSTOMERS.c.id).where(_CUSTOMERS.c.organization_id == campaign.organization_id)
                .order_by(_CUSTOMERS.c.id).limit(500)
            ).scalars().all()
            for campaign in campaigns
        }
    runnable = [c for c in campaigns if c.active and (c.starts_on is None or c.starts_on <= today)]
    idle = [c for c in campaigns if c not in runnable]
    plan = _plan(rng, runnable, idle, customer_ids, today, full_runs=customers <= LARGE_DEMO)
    draft = _add_draft_campaign(db, campaigns[0].organization_id)

    for done, (as_of, campaign_id, purpose, customer_id) in enumerate(plan):
        if progress:
            progress(done / (len(plan) + 5), f"Run {done + 1} of {len(plan)}: {purpose.label}")
        run_id = create_run(db, campaign_id=campaign_id, purpose=purpose, customer_id=customer_id, as_of=as_of)
        execute_run(db, run_id)
        _move_to(db, run_id, as_of)

    at = _day(today, -3, 10)
    run_id = create_run(db, campaign_id=draft, as_of=at)
    execute_run(db, run_id)
    _move_to(db, run_id, at)
    canceled = create_run(db, campaign_id=runnable[0].id, scheduled_for=_day(today, -1, 9))
    cancel_run(db, canceled)
    _set_times(db, canceled, created_at=_day(today, -1, 8), completed_at=_day(today, -1, 8, 40))
    now = dt.datetime.combine(today, dt.datetime.now(dt.timezone.utc).time(), tzinfo=dt.timezone.utc)
    for days_ahead in (1, 3, 7):
        scheduled = create_run(db, campaign_id=rng.choice(runnable).id, scheduled_for=_day(today, days_ahead, 6))
        _set_times(db, scheduled, created_at=now)
    if progress:
        progress(1.0, "Run history complete")
    return len(plan) + 5


def _day(today: dt.date, offset: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(today + dt.timedelta(days=offset), dt.time(hour, minute), tzinfo=dt.timezone.utc)


def _plan(rng, runnable, idle, customer_ids, today, *, full_runs: bool):
    """(as-of, campaign, purpose, customer) for each run, oldest first."""
    purposes = [p for p, weight in CAMPAIGN_PURPOSES for _ in range(weight)]
    plan = []
    for offset in range(-DAYS, 0, 7 if full_runs else 45):
        for campaign in rng.sample(runnable, k=min(3, len(runnable))):
            plan.append((_day(today, offset, rng.randrange(7, 18), rng.randrange(60)), campaign.id, rng.choice(purposes), None))
    for _ in range(CUSTOMER_EVALUATIONS):
        campaign = rng.choice(runnable)
        customer = rng.choice(customer_ids[campaign.organization_id])
        plan.append((_day(today, -rng.randrange(1, DAYS), rng.randrange(7, 18), rng.randrange(60)), campaign.id,
                     RunPurpose.CUSTOMER_EVALUATION, customer))
    elsewhere = next((c for c in runnable if c.organization_id != runnable[0].organization_id), None)
    if elsewhere is not None:  # a customer of another organization: not applicable
        plan.append((_day(today, -2, 11), runnable[0].id, RunPurpose.CUSTOMER_EVALUATION,
                     customer_ids[elsewhere.organization_id][0]))
    for campaign in idle:  # inactive or not started: not applicable
        plan.append((_day(today, -rng.randrange(1, 30), 9), campaign.id, RunPurpose.DEFAULT, None))
    return sorted(plan, key=lambda run: run[0])


def _add_draft_campaign(db: Database, organization_id: int) -> int:
    with db.write() as conn:
        campaign_id = conn.execute(
            _CAMPAIGNS.insert().values(organization_id=organization_id, name="Holiday Event (draft)", active=True,
                                       uses_email=True, uses_sms=True).returning(_CAMPAIGNS.c.id)
        ).scalar_one()
        conn.execute(_QUERY_PARAMS.insert().values(
            campaign_id=campaign_id, process_order=1, name="Red cars since 2020",
            criterion=json.dumps(DRAFT_CRITERION), event_key=None, active=True))
    return campaign_id


def _set_times(db: Database, run_id: int, **times: dt.datetime) -> None:
    with db.write() as conn:
        conn.execute(sa.update(_RUNS).where(_RUNS.c.id == run_id).values(**times))


def _move_to(db: Database, run_id: int, as_of: dt.datetime) -> None:
    """Give a run just executed the clock times it would have had on its as-of day
    (times are moved in Python: SQLite has no arithmetic on its text timestamps)."""
    def shifted(row, columns):
        return {name: row._mapping[name] + shift for name in columns if row._mapping[name] is not None}

    with db.write() as conn:
        run = conn.execute(sa.select(_RUNS).where(_RUNS.c.id == run_id)).one()
        shift = as_of - run.in_progress_at
        created = as_of - dt.timedelta(minutes=2)
        conn.execute(sa.update(_RUNS).where(_RUNS.c.id == run_id).values(
            created_at=created, scheduled_for=created,
            **shifted(run, ("in_progress_at", "completed_at", "heartbeat_at"))))
        for table, columns in ((_EVENTS, ("created_at",)), (_RUN_PARAMS, ("created_at", "in_progress_at", "completed_at"))):
            for row in conn.execute(sa.select(table).where(table.c.run_id == run_id)).all():
                conn.execute(sa.update(table).where(table.c.id == row.id).values(**shifted(row, columns)))
        # The potentials were validated when the run ran: a few distinct times a run.
        validated = _POTENTIALS.c.validated_at
        for (at,) in conn.execute(sa.select(validated).where(_POTENTIALS.c.run_id == run_id, validated.is_not(None)).distinct()).all():
            conn.execute(sa.update(_POTENTIALS).where(_POTENTIALS.c.run_id == run_id, validated == at).values(validated_at=at + shift))
