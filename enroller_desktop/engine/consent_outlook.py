"""A customer's CASL standing at a time, and the forecast of implied consent
about to lapse (issue 13), as data for the command line and the window. No Qt.

Both read the customers as they are now (not what a run recorded: that is the
audit's, ``db/consent_queries.py``), with the conditions of ``engine/consent.py``.

Readings of the forecast (a careful compliance officer's):

- A customer's implied consent ends on the later of P + 730 days and Q + 183
  days (P, Q the UTC dates of their last purchase and last inquiry): the last
  date on which a run still counts it (RULES §3's boundaries are inclusive). A
  purchase or inquiry dated after the forecast's time does not count.
- A customer counts on that date when it falls between today and today + N
  (both included), and they are not deleted (a NULL ``deleted`` is taken as
  deleted, as the Deleted check takes it), have no express consent at or before
  now, and are not withdrawn at or before now. An express consent that a later
  withdrawal overrides leaves the customer withdrawn: either way they are out,
  so any express consent or withdrawal at or before now excludes them.
- "Active enrollment" (at risk: still to be contacted) is an enrollment not
  expired with a queued, pending deployment, assigned or in progress status, in
  any campaign of the organization, or in the one campaign asked for. A
  campaign narrows the split, not the customers: its audience is its
  organization's customers.
- Weeks are ISO weeks (Monday to Sunday), named by their Monday.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from enroller_desktop.db.enums import QUEUE_STATUSES
from enroller_desktop.db.models import Campaign, CampaignCustomer, CampaignExcludedTag, Customer, Organization, QueryParam, Vehicle
from enroller_desktop.db.engine import Database
from enroller_desktop.db.types import UTCDateTime
from enroller_desktop.engine import consent, contacts, criteria, funnel
from enroller_desktop.engine.sql_time import compare_moments
from enroller_desktop.errors import UserError

CUSTOMERS = Customer.__table__
ENROLLMENTS = CampaignCustomer.__table__
CAMPAIGNS = Campaign.__table__
ORGANIZATIONS = Organization.__table__

DEFAULT_DAYS = 90


def _compare(dialect: str):
    ctx = SimpleNamespace(dialect=dialect)
    return lambda left, op, right: compare_moments(ctx, left, op, right)


def _now(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)


# -- one customer today ---------------------------------------------------------------


@dataclass(frozen=True)
class CustomerConsent:
    """A customer's CASL standing at ``at``: ``applies`` is False outside CA, and
    then the rest is None."""

    customer_id: int
    at: dt.datetime
    applies: bool
    basis: consent.ConsentBasis | None
    evidence_at: dt.datetime | None
    lapses_on: dt.date | None

    @property
    def consents(self) -> bool | None:
        """CASL passes (None where it does not apply)."""
        return None if self.basis is None else self.basis.consents


def customer_consent(conn: Connection, customer_id: int, at: dt.datetime | None = None) -> CustomerConsent | None:
    """The CASL standing of one customer at ``at`` (default: now), by the same
    conditions a run at that time would check; None when the customer does not
    exist. For the customer window."""
    at = _now(at)
    c = CUSTOMERS
    standing = consent.standing(c, at, conn.dialect.name, _compare(conn.dialect.name))
    columns = standing.basis_columns()
    query = (
        sa.select(ORGANIZATIONS.c.country, *(expr.label(name) for name, expr in columns.items()))
        .select_from(c.join(ORGANIZATIONS, ORGANIZATIONS.c.id == c.c.organization_id))
        .where(c.c.id == customer_id)
    )
    row = conn.execute(query).one_or_none()
    if row is None:
        return None
    if row.country != "CA":
        return CustomerConsent(customer_id, at, False, None, None, None)
    return CustomerConsent(customer_id, at, True, consent.ConsentBasis(row.consent_basis), row.consent_evidence_at,
                           row.consent_lapses_on)


# -- a Default run scheduled later -------------------------------------------------------


def lapsing_before_run(db: Database, campaign_id: int, at: dt.datetime, now: dt.datetime | None = None, *, cancel=None) -> int:
    """How many of today's eligible candidates of the campaign (distinct customers)
    hold implied consent that will have lapsed by ``at``'s UTC date: a Default run
    scheduled for ``at`` will fail their CASL check unless they consent anew.

    Today's eligible candidates are those a Default run now would find eligible,
    by the funnel's own statements (read, not written: no run is created). The
    contact values of the organization that no run has validated yet are
    validated first, as a run would (the verdicts are kept for the next run).
    0 where CASL does not apply or a criterion is invalid (the run itself would
    say why).
    """
    now = _now(now)
    with db.read() as conn:
        ctx, parsed = _default_run_now(conn, campaign_id, now)
    if ctx is None:
        return 0
    org_customers = sa.select(CUSTOMERS.c.id).where(CUSTOMERS.c.organization_id == ctx.organization_id)
    if ctx.uses_any_channel:
        contacts.ensure_verdicts(db, country=ctx.country, customer_ids=org_customers, cancel=cancel)
    with db.read() as conn:
        return _count_lapsing_candidates(conn, ctx, parsed, at)


def _default_run_now(conn: Connection, campaign_id: int, now: dt.datetime):
    """The funnel context of a Default run of the campaign now and its parsed
    params, or (None, None) when CASL does not apply or a criterion is invalid."""
    campaign = conn.execute(sa.select(CAMPAIGNS).where(CAMPAIGNS.c.id == campaign_id)).one_or_none()
    if campaign is None:
        return None, None
    country = conn.execute(sa.select(ORGANIZATIONS.c.country).where(ORGANIZATIONS.c.id == campaign.organization_id)).scalar()
    params = conn.execute(
        sa.select(QueryParam.__table__).where(QueryParam.campaign_id == campaign_id, QueryParam.active == sa.true())
        .order_by(QueryParam.process_order, QueryParam.id)
    ).all()
    has_excluded_tags = conn.execute(sa.select(sa.exists().where(CampaignExcludedTag.campaign_id == campaign_id))).scalar()
    ctx = funnel.FunnelContext(
        run_id=0, campaign_id=campaign_id, organization_id=campaign.organization_id, country=(country or "").upper(),
        as_of=now, customer_id=None, uses_email=bool(campaign.uses_email), uses_phone=bool(campaign.uses_phone),
        uses_sms=bool(campaign.uses_sms), marketing_exclusion_days=campaign.marketing_exclusion_days,
        has_excluded_tags=bool(has_excluded_tags), dialect=conn.dialect.name,
    )
    if not ctx.casl_applies or not params:
        return None, None
    try:
        return ctx, [(criteria.parse(p.criterion), criteria.validate_event_key(p.event_key)) for p in params]
    except criteria.CriterionError:
        return None, None


def _count_lapsing_candidates(conn: Connection, ctx: funnel.FunnelContext, parsed, at: dt.datetime) -> int:
    now = ctx.as_of
    c, v = CUSTOMERS, Vehicle.__table__
    basis = consent.standing(c, now, ctx.dialect, _compare(ctx.dialect)).basis_columns()
    implied = sa.and_(basis["consent_basis"].in_([consent.ConsentBasis.IMPLIED_PURCHASE.value, consent.ConsentBasis.IMPLIED_INQUIRY.value]),
                      basis["consent_lapses_on"] <= sa.literal(at.astimezone(dt.timezone.utc).date(), sa.Date))
    selects = []
    for index, (node, event_key_field) in enumerate(parsed):
        joined, where = funnel.candidate_source(ctx, c, v)
        event_key = criteria.event_key_sql(event_key_field, customer=c, vehicle=v, dialect=ctx.dialect)
        joined, checks = funnel.with_checks(ctx, joined, c, v, event_key)
        # A candidate is credited to the first param it matches: its event key is that param's.
        earlier = [~funnel.compile_param(ctx, n, c, v) for n, _ in parsed[:index]]
        selects.append(sa.select(c.c.id).select_from(joined).where(
            where, funnel.compile_param(ctx, node, c, v), *earlier, funnel.eligible(checks) == sa.true(), implied))
    customers = sa.union(*selects).subquery() if len(selects) > 1 else selects[0].distinct().subquery()
    return conn.execute(sa.select(sa.func.count()).select_from(customers)).scalar_one()


# -- the forecast -----------------------------------------------------------------------


@dataclass(frozen=True)
class LapsingDay:
    date: dt.date
    customers: int
    active_enrollments: int

    @property
    def rest(self) -> int:
        return self.customers - self.active_enrollments


@dataclass(frozen=True)
class Forecast:
    organization_id: int
    campaign_id: int | None
    first_day: dt.date
    days: int
    lapsing: tuple[LapsingDay, ...]

    @property
    def customers(self) -> int:
        return sum(day.customers for day in self.lapsing)

    @property
    def active_enrollments(self) -> int:
        return sum(day.active_enrollments for day in self.lapsing)

    def by_week(self) -> list[LapsingDay]:
        """The days summed by ISO week, each named by its Monday."""
        weeks: dict[dt.date, list[int]] = {}
        for day in self.lapsing:
            monday = day.date - dt.timedelta(days=day.date.weekday())
            total = weeks.setdefault(monday, [0, 0])
            total[0] += day.customers
            total[1] += day.active_enrollments
        return [LapsingDay(monday, customers, active) for monday, (customers, active) in sorted(weeks.items())]

    def as_json(self) -> dict:
        return {
            "organization_id": self.organization_id,
            "from": self.first_day.isoformat(),
            "days": self.days,
            "lapsing": [{"date": d.date.isoformat(), "customers": d.customers, "active_enrollments": d.active_enrollments}
                        for d in self.lapsing],
            "customers": self.customers,
        }


def _last_implied_day(c, now: dt.datetime, dialect: str, compare):
    """The last UTC date on which the customer's implied consent holds (SQL), NULL without any."""
    def last(column, days: int):
        return sa.case((sa.and_(column.is_not(None), compare(column, operator.le, now)),
                        consent.utc_date_plus(column, days, dialect)), else_=sa.null())

    purchase = last(c.c.last_purchase_at, consent.CASL_PURCHASE_DAYS)
    inquiry = last(c.c.last_inquiry_at, consent.CASL_INQUIRY_DAYS)
    return sa.case((purchase.is_(None), inquiry), (inquiry.is_(None), purchase), (purchase >= inquiry, purchase), else_=inquiry)


def check_organization(conn: Connection, organization_id: int, campaign_id: int | None = None) -> None:
    """Raise :class:`UserError` unless the organization exists and is in CA (and
    the campaign, when given, is one of its)."""
    country = conn.execute(sa.select(ORGANIZATIONS.c.country).where(ORGANIZATIONS.c.id == organization_id)).scalar()
    if country is None:
        raise UserError(f"There is no organization with id {organization_id}")
    if country != "CA":
        raise UserError(f"Organization {organization_id} is in {country}: CASL applies only to organizations in CA")
    if campaign_id is not None:
        owner = conn.execute(sa.select(CAMPAIGNS.c.organization_id).where(CAMPAIGNS.c.id == campaign_id)).scalar()
        if owner is None:
            raise UserError(f"There is no campaign with id {campaign_id}")
        if owner != organization_id:
            raise UserError(f"Campaign {campaign_id} belongs to organization {owner}, not {organization_id}")


def lapsing_customers(conn, organization_id: int, *, campaign_id: int | None = None, days: int = DEFAULT_DAYS,
                      now: dt.datetime | None = None, limit: int | None = None) -> list:
    """The first ``limit`` rows of :func:`lapsing_query` (all without a limit)."""
    query = lapsing_query(conn.dialect.name, organization_id, campaign_id=campaign_id, days=days, now=now)
    return conn.execute(query if limit is None else query.limit(limit)).all()


def lapsing_query(dialect: str, organization_id: int, *, campaign_id: int | None = None, days: int = DEFAULT_DAYS,
                  now: dt.datetime | None = None) -> sa.Select:
    """The customers the forecast counts, one row each, by their last day of
    implied consent then id: the list the window shows and exports."""
    now = _now(now)
    today = now.date()
    compare = _compare(dialect)
    c = CUSTOMERS
    last_day = _last_implied_day(c, now, dialect, compare)

    def not_at_or_before_now(column):
        return ~sa.and_(column.is_not(None), compare(column, operator.le, now))

    active = _actively_enrolled(organization_id, campaign_id)
    return (
        sa.select(c.c.id, c.c.first_name, c.c.last_name, c.c.email, c.c.last_purchase_at, c.c.last_inquiry_at,
                  last_day.label("last_day"), active.c.customer_id.is_not(None).label("active"))
        .select_from(c.outerjoin(active, active.c.customer_id == c.c.id))
        .where(
            c.c.organization_id == organization_id,
            # First, and cheap: the purchase or the inquiry that gives the last day lies in its window
            # (a range of the index of each, migration 0006: a few percent of the organization's customers).
            sa.or_(_dated_between(c.c.last_purchase_at, consent.CASL_PURCHASE_DAYS, today, days, dialect),
                   _dated_between(c.c.last_inquiry_at, consent.CASL_INQUIRY_DAYS, today, days, dialect)),
            c.c.deleted == sa.false(),
            not_at_or_before_now(c.c.casl_express_consent_at),
            not_at_or_before_now(c.c.casl_withdrawn_at),
            last_day.between(sa.literal(today, sa.Date), sa.literal(today + dt.timedelta(days=days), sa.Date)),
        )
        .order_by(last_day, c.c.id)
    )


def _dated_between(column, span: int, today: dt.date, days: int, dialect: str) -> sa.ColumnElement[bool]:
    """A necessary condition, cheap to test, for ``column``'s UTC date + ``span``
    days to fall between ``today`` and ``today + days``: the exact test reads
    each timestamp's text on SQLite. There the stored text starts with its own
    date, which an offset puts at most a day from the UTC date, so bounds two
    days wider keep every such row. The column bare on one side and a constant
    on the other, so the database reads it as a range of the index
    (organization_id, column); SQLite compares an indexed text exactly as an
    unindexed one, so the index changes which rows are read, never which match."""
    first, last = today - dt.timedelta(days=span + 2), today + dt.timedelta(days=days - span + 3)
    if dialect == "sqlite":
        return sa.and_(column >= sa.literal(first.isoformat(), sa.Text), column < sa.literal(last.isoformat(), sa.Text))
    def moment(day: dt.date):
        return sa.literal(dt.datetime.combine(day, dt.time.min, dt.timezone.utc), UTCDateTime())
    return sa.and_(column >= moment(first), column < moment(last))


def forecast(conn: Connection, organization_id: int, *, campaign_id: int | None = None, days: int = DEFAULT_DAYS,
             now: dt.datetime | None = None) -> Forecast:
    """The organization's customers whose implied consent lapses in the next ``days``
    days, counted per last date of consent, with those holding an active enrollment."""
    if days < 0:
        raise UserError(f"The forecast's days must not be negative: {days}")
    check_organization(conn, organization_id, campaign_id)
    now = _now(now)
    counted = lapsing_query(conn.dialect.name, organization_id, campaign_id=campaign_id, days=days, now=now).order_by(None).subquery()
    query = (
        sa.select(counted.c.last_day, sa.func.count(), sa.func.sum(sa.case((counted.c.active, 1), else_=0)))
        .group_by(counted.c.last_day)
        .order_by(counted.c.last_day)
    )
    lapsing = tuple(LapsingDay(_as_date(day), int(customers), int(active or 0)) for day, customers, active in conn.execute(query))
    return Forecast(organization_id, campaign_id, now.date(), days, lapsing)


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _actively_enrolled(organization_id: int, campaign_id: int | None) -> sa.Subquery:
    cc = ENROLLMENTS.c
    # Equalities, not IN: the list's export reads through the driver, which takes no expanding parameter.
    queued = sa.or_(*(cc.status == status.value for status in QUEUE_STATUSES))
    query = sa.select(cc.customer_id).where(cc.expired_at.is_(None), queued)
    if campaign_id is not None:
        query = query.where(cc.campaign_id == campaign_id)
    else:
        query = query.where(cc.campaign_id.in_(sa.select(CAMPAIGNS.c.id).where(CAMPAIGNS.c.organization_id == organization_id)))
    return query.distinct().subquery("active")


def describe(result: Forecast) -> str:
    """The forecast as lines a person reads: one per week, then the total."""
    end = result.first_day + dt.timedelta(days=result.days)
    lines = [f"Implied consent lapsing from {result.first_day} to {end} (organization {result.organization_id}"
             + (f", campaign {result.campaign_id}" if result.campaign_id is not None else "") + ")"]
    lines += [f"week of {week.date}: {_customers(week.customers)}, {week.active_enrollments} with an active enrollment"
              for week in result.by_week()]
    lines.append(f"total: {_customers(result.customers)}, {result.active_enrollments} with an active enrollment")
    return "\n".join(lines)


def _customers(count: int) -> str:
    return f"{count} customer" if count == 1 else f"{count} customers"
