"""The demo's run history: the last 60 days of a dealership's scheduler, every run
executed by the real engine as of its own time.

What a scheduler makes, in each organization's own time zone:

- each morning of the working week (Monday to Friday), the Default run of the
  campaigns due that morning, each at its own hour (from 5:00, a quarter of an
  hour apart), over hundreds to thousands of candidates, with the drop-off the
  engine finds at each check;
- a weekly Campaign Evaluation and Expire per campaign, early on Sunday; an
  ended campaign's only expires (the engine skips the funnel);
- before a campaign starts, a few Campaign Simulations and a Criterion Stats as
  of its first morning, run by a person in office hours;
- a handful of Customer Evaluations in office hours (one of a customer of another
  organization: not applicable), an inactive campaign the scheduler still names
  each Monday (not applicable), an ended campaign named on the two mornings after
  its end (not applicable);
- rare errors (a draft campaign whose criterion names a field that does not
  exist, picked up two mornings running) and cancels (a morning run a person
  canceled the evening before);
- the next working morning's runs (and Sunday's evaluations before it), scheduled.

A whole-campaign run costs the engine a few hundred milliseconds at 20,000
customers, and a scheduler's two months hold about 600 of them: far beyond the
demo's 10-second budget. So the history is a representative subset of that
calendar, chosen by rule, never a copy of a run: the last working morning in full
(every active campaign's Default run, what a person sees first), and before it,
each working morning the campaigns whose turn it is (every ``STRIDE``-th morning
of each campaign, staggered so that each morning has some); the weekly
evaluation of each campaign every ``EVALUATION_STRIDE``-th week. Every other
kind of run is made in full. Each run is executed by the engine as of its time;
its clock times are then moved to that time, as if it had run then.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
_ORGANIZATIONS = models.Organization.__table__
_QUERY_PARAMS = models.QueryParam.__table__
_CUSTOMERS = models.Customer.__table__
_POTENTIALS = models.EnrollerRunCustomer.__table__

DAYS = 60
#: Each campaign's Default run is made on every STRIDE-th of its working mornings
#: (the last morning excepted, made for all); a large demo, where a run takes
#: seconds, on fewer.
STRIDE = 24
LARGE_STRIDE = 40
#: Each campaign's weekly evaluation is made every EVALUATION_STRIDE-th week.
EVALUATION_STRIDE = 8
LARGE_DEMO = 100_000
FIRST_MORNING_RUN = dt.time(5, 0)
#: Sunday, before the first morning: the same UTC day in every zone of the Americas.
EVALUATION_TIME = dt.time(3, 0)
CUSTOMER_EVALUATIONS = 8
#: A campaign someone left half-written: its criterion names a field that does not exist.
DRAFT_CRITERION = {"all": [{"field": "vehicle.colour", "op": "eq", "value": "red"},
                           {"field": "vehicle.year", "op": "ge", "value": 2020}]}


@dataclass(frozen=True)
class _Campaign:
    id: int
    organization_id: int
    active: bool
    starts_on: dt.date | None
    ends_on: dt.date | None
    zone: dt.tzinfo
    morning: dt.time  # its Default run's hour, in its organization's time zone
    turn: int  # staggers its Default mornings from the other campaigns'

    def runs_on(self, day: dt.date) -> bool:
        return (self.active and (self.starts_on is None or self.starts_on <= day)
                and (self.ends_on is None or day <= self.ends_on))

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        """``time`` on ``day`` in the organization's zone, in UTC."""
        return dt.datetime.combine(day, time, tzinfo=self.zone).astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class _Planned:
    at: dt.datetime  # when it ran (UTC)
    campaign_id: int
    purpose: RunPurpose
    customer_id: int | None = None
    as_of: dt.datetime | None = None  # None: at


def make_history(db: Database, *, first_campaign_id: int, customers: int, seed: int, today: dt.date,
                 progress: Progress | None = None) -> int:
    """Execute the demo's runs over the campaigns from ``first_campaign_id`` on;
    returns how many runs there are."""
    rng = random.Random(seed)
    campaigns, customer_ids = _read(db, first_campaign_id)
    draft = _add_draft_campaign(db, campaigns[0].organization_id)
    campaigns.append(_Campaign(draft, campaigns[0].organization_id, True, None, None, campaigns[0].zone,
                               dt.time(7, 45), 0))
    plan = _plan(rng, campaigns, customer_ids, today, draft=draft,
                 stride=STRIDE if customers <= LARGE_DEMO else LARGE_STRIDE)

    for done, run in enumerate(plan):
        if progress:
            progress(done / (len(plan) + 1), f"Run {done + 1} of {len(plan)}: {run.purpose.label}")
        run_id = create_run(db, campaign_id=run.campaign_id, purpose=run.purpose, customer_id=run.customer_id,
                            as_of=run.as_of or run.at)
        execute_run(db, run_id)
        _move_to(db, run_id, run.at)

    made = len(plan) + _cancels_and_tomorrow(db, campaigns, today, draft)
    if progress:
        progress(1.0, "Run history complete")
    return made


def _read(db: Database, first_campaign_id: int) -> tuple[list[_Campaign], dict[int, list[int]]]:
    with db.read() as conn:
        rows = conn.execute(
            sa.select(_CAMPAIGNS.c.id, _CAMPAIGNS.c.organization_id, _CAMPAIGNS.c.active, _CAMPAIGNS.c.starts_on,
                      _CAMPAIGNS.c.ends_on, _ORGANIZATIONS.c.timezone)
            .join(_ORGANIZATIONS, _ORGANIZATIONS.c.id == _CAMPAIGNS.c.organization_id)
            .where(_CAMPAIGNS.c.id >= first_campaign_id).order_by(_CAMPAIGNS.c.id)
        ).all()
        customer_ids = {
            organization_id: conn.execute(
                sa.select(_CUSTOMERS.c.id).where(_CUSTOMERS.c.organization_id == organization_id)
                .order_by(_CUSTOMERS.c.id).limit(500)
            ).scalars().all()
            for organization_id in {row.organization_id for row in rows}
        }
        enrolled = models.CampaignCustomer.__table__
        for row in rows:  # by minus the campaign's id: the customers it has enrolled
            customer_ids[-row.id] = conn.execute(
                sa.select(enrolled.c.customer_id).where(enrolled.c.campaign_id == row.id)
                .order_by(enrolled.c.customer_id).distinct().limit(200)
            ).scalars().all()
    per_organization: dict[int, int] = {}
    campaigns = []
    for turn, row in enumerate(rows):
        index = per_organization[row.organization_id] = per_organization.get(row.organization_id, -1) + 1
        minutes = FIRST_MORNING_RUN.hour * 60 + 15 * index
        campaigns.append(_Campaign(row.id, row.organization_id, bool(row.active), row.starts_on, row.ends_on,
                                   _zone(row.timezone), dt.time(minutes // 60, minutes % 60), turn))
    return campaigns, customer_ids


def _zone(name: str | None) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name else dt.timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return dt.timezone.utc


def _plan(rng: random.Random, campaigns: list[_Campaign], customer_ids: dict[int, list[int]], today: dt.date, *,
          draft: int, stride: int) -> list[_Planned]:
    """Every executed run, oldest first."""
    days = [today - dt.timedelta(days=n) for n in range(DAYS, 0, -1)]
    working = [day for day in days if day.weekday() < 5]
    last_working = working[-1]
    plan: list[_Planned] = []
    scheduled = [c for c in campaigns if c.id != draft]

    for number, day in enumerate(working):
        for campaign in scheduled:
            if campaign.runs_on(day) and (day == last_working or (number + campaign.turn) % stride == 0):
                plan.append(_Planned(campaign.at(day, campaign.morning), campaign.id, RunPurpose.DEFAULT))
    for campaign in scheduled:
        # The weekly evaluation and expiry, early on Sunday; an ended campaign's only expires.
        sundays = [day for day in days if day.weekday() == 6 and campaign.active
                   and (campaign.starts_on is None or campaign.starts_on <= day)]
        for week, day in enumerate(sundays):
            ended = campaign.ends_on is not None and day > campaign.ends_on
            if ended or (week + campaign.turn) % EVALUATION_STRIDE == 0:
                plan.append(_Planned(campaign.at(day, EVALUATION_TIME), campaign.id,
                                     RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE))
        if not campaign.active:  # still on the scheduler's list: not applicable, each Monday
            plan += [_Planned(campaign.at(day, campaign.morning), campaign.id, RunPurpose.DEFAULT)
                     for day in working if day.weekday() == 0][-4:]
        if campaign.ends_on is not None and days[0] <= campaign.ends_on < today - dt.timedelta(days=3):
            # Named two more mornings after its end, until someone took it off the list.
            plan += [_Planned(campaign.at(campaign.ends_on + dt.timedelta(days=n), campaign.morning), campaign.id,
                              RunPurpose.DEFAULT) for n in (1, 2)]
        plan += _before_start(rng, campaign, today)

    office = [day for day in working if day != last_working]
    for _ in range(CUSTOMER_EVALUATIONS):
        campaign = rng.choice([c for c in scheduled if c.active and (c.starts_on is None or c.starts_on <= days[0])])
        day = rng.choice(office)
        # Someone asks about a customer the campaign knows (enrolled before) or any of the dealership's.
        known = customer_ids.get(-campaign.id) or customer_ids[campaign.organization_id]
        people = known if rng.random() < 0.6 else customer_ids[campaign.organization_id]
        plan.append(_Planned(campaign.at(day, _office_hour(rng)), campaign.id, RunPurpose.CUSTOMER_EVALUATION,
                             rng.choice(people)))
    first = scheduled[0]
    elsewhere = next((c for c in scheduled if c.organization_id != first.organization_id), None)
    if elsewhere is not None:  # a customer of another organization: not applicable
        plan.append(_Planned(first.at(office[-1], dt.time(11, 5)), first.id, RunPurpose.CUSTOMER_EVALUATION,
                             customer_ids[elsewhere.organization_id][0]))
    draft_campaign = campaigns[-1]
    for day in working[-3:-1]:  # saved as active one afternoon; the scheduler took it the next mornings
        plan.append(_Planned(draft_campaign.at(day, draft_campaign.morning), draft, RunPurpose.DEFAULT))
    return sorted(plan, key=lambda run: (run.at, run.campaign_id))


def _before_start(rng: random.Random, campaign: _Campaign, today: dt.date) -> list[_Planned]:
    """A person's Campaign Simulations and a Criterion Stats in the days before a
    campaign starts (one that started within the history, or starts within a month),
    each as of the campaign's first morning."""
    start = campaign.starts_on
    if not campaign.active or start is None or not (today - dt.timedelta(days=DAYS - 14) <= start <= today + dt.timedelta(days=30)):
        return []
    as_of = campaign.at(start, campaign.morning)
    last = min(start, today) - dt.timedelta(days=1)
    days = [last - dt.timedelta(days=n) for n in range(0, 14) if (last - dt.timedelta(days=n)).weekday() < 5][:8]
    runs = [_Planned(campaign.at(day, _office_hour(rng)), campaign.id, RunPurpose.CAMPAIGN_SIMULATION, as_of=as_of)
            for day in sorted(rng.sample(days, k=min(2, len(days))))]
    stats_day = days[-1] if days else last
    runs.append(_Planned(campaign.at(stats_day, _office_hour(rng)), campaign.id, RunPurpose.CRITERION_STATS, as_of=as_of))
    return runs


def _office_hour(rng: random.Random) -> dt.time:
    return dt.time(rng.randrange(9, 17), rng.randrange(60))


def _cancels_and_tomorrow(db: Database, campaigns: list[_Campaign], today: dt.date, draft: int) -> int:
    """A morning run canceled the evening before, and the next runs due (Sunday's
    evaluations, the next working morning's Default runs), scheduled; returns how many
    runs that made."""
    made = 0
    live = [c for c in campaigns if c.id != draft and c.runs_on(today)]
    yesterday = today - dt.timedelta(days=1)
    for campaign in live[:2]:
        canceled = create_run(db, campaign_id=campaign.id, scheduled_for=campaign.at(yesterday, campaign.morning))
        cancel_run(db, canceled)
        evening = campaign.at(yesterday - dt.timedelta(days=1), dt.time(18, 40))
        _set_times(db, canceled, created_at=evening - dt.timedelta(days=1), completed_at=evening)
        made += 1
    now = dt.datetime.combine(today, dt.datetime.now(dt.timezone.utc).time(), tzinfo=dt.timezone.utc)
    following = [today + dt.timedelta(days=n) for n in range(1, 4)]
    morning = next(day for day in following if day.weekday() < 5)
    due = [(c, RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE, c.at(day, EVALUATION_TIME))
           for day in following if day < morning and day.weekday() == 6 for c in live]
    due += [(c, RunPurpose.DEFAULT, c.at(morning, c.morning)) for c in live if c.runs_on(morning)]
    for campaign, purpose, at in due:
        scheduled = create_run(db, campaign_id=campaign.id, purpose=purpose, scheduled_for=at)
        _set_times(db, scheduled, created_at=now)
        made += 1
    return made


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


def _move_to(db: Database, run_id: int, at: dt.datetime) -> None:
    """Give a run just executed the clock times it would have had, started at ``at``
    (times are moved in Python: SQLite has no arithmetic on its text timestamps)."""
    def shifted(row, columns):
        return {name: row._mapping[name] + shift for name in columns if row._mapping[name] is not None}

    with db.write() as conn:
        run = conn.execute(sa.select(_RUNS).where(_RUNS.c.id == run_id)).one()
        shift = at - run.in_progress_at
        created = at - dt.timedelta(minutes=2)
        conn.execute(sa.update(_RUNS).where(_RUNS.c.id == run_id).values(
            created_at=created, scheduled_for=created,
            **shifted(run, ("in_progress_at", "completed_at", "heartbeat_at"))))
        for table, columns in ((_EVENTS, ("created_at",)), (_RUN_PARAMS, ("created_at", "in_progress_at", "completed_at"))):
            for row in conn.execute(sa.select(table).where(table.c.run_id == run_id)).all():
                conn.execute(sa.update(table).where(table.c.id == row.id).values(**shifted(row, columns)))
        # The potentials were validated when the run ran: a few distinct times a run.
        validated = _POTENTIALS.c.validated_at
        for (when,) in conn.execute(sa.select(validated).where(_POTENTIALS.c.run_id == run_id, validated.is_not(None)).distinct()).all():
            conn.execute(sa.update(_POTENTIALS).where(_POTENTIALS.c.run_id == run_id, validated == when).values(validated_at=when + shift))
