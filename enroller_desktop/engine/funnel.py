"""The funnel of RULES §3 as set-based SQL: a handful of statements over whole sets.

Each query param inserts its new candidates into the potentials table with every
check computed in the same INSERT ... SELECT; a second statement repairs the few
rows whose contact values had no stored verdict yet (see ``contacts``); one
aggregate counts the stages; one INSERT ... SELECT enrolls. No Python loop runs
over candidates.

Readings of the spec made here (a careful compliance officer's):

- Every check is computed for every candidate, even when an earlier one failed,
  so that a user sees every reason.
- A channel check whose value has no verdict yet is repaired before the run
  counts anything; should a verdict still be missing, the check fails (a run
  never enrolls on a contact nobody validated).
- CASL: consent is withdrawn when ``casl_withdrawn_at`` is at or before the as-of
  time and no express consent at or before the as-of time is strictly later than
  it; a withdrawn customer fails even with a recent purchase or inquiry.
- Marketing Exclusion's frequency buffer counts enrollments of this campaign and
  of every other campaign of the organization that is not ``exclusion_exempt``,
  with ``enrolled_at`` in [as-of − N days, as-of], both ends included.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import operator
import threading
from dataclasses import dataclass
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from enroller_desktop.db.enums import (
    FAILED,
    PASSED,
    QUEUE_STATUSES,
    CampaignCustomerPurpose,
    CampaignCustomerStatus,
    PotentialStatus,
)
from enroller_desktop.db.models import (
    Campaign,
    CampaignCustomer,
    CampaignExcludedTag,
    ContactVerdict,
    Customer,
    CustomerTag,
    EnrollerRunCustomer,
    Vehicle,
)
from enroller_desktop.db.stages import Stage, stage_condition
from enroller_desktop.engine import consent, criteria
from enroller_desktop.engine.sql_time import RunTime, compare_moments
from enroller_desktop.engine.sql_time import bind as _bind
from enroller_desktop.engine.sql_time import time_expr as _time_expr
from enroller_desktop.engine.sql_time import time_literal as _time  # its old private spelling, kept so the move touches no statement
from enroller_desktop.engine.sqlite_time import exact_parts_of

CUSTOMERS = Customer.__table__
VEHICLES = Vehicle.__table__
TAGS = CustomerTag.__table__
POTENTIALS = EnrollerRunCustomer.__table__
ENROLLMENTS = CampaignCustomer.__table__
CAMPAIGNS = Campaign.__table__
EXCLUDED_TAGS = CampaignExcludedTag.__table__
VERDICTS = ContactVerdict.__table__


# Literal (not bound) so that SQLite and PostgreSQL match the expressions of the
# unique enrollment index and use it.
_NO_VEHICLE = sa.literal_column("0")
_NO_EVENT_KEY = sa.literal_column("''")


@dataclass(frozen=True)
class FunnelContext:
    """What every statement of one run needs to know."""

    run_id: int
    campaign_id: int
    organization_id: int
    country: str
    as_of: dt.datetime
    customer_id: int | None
    uses_email: bool
    uses_phone: bool
    uses_sms: bool
    marketing_exclusion_days: int | None
    has_excluded_tags: bool
    dialect: str

    @property
    def as_of_date(self) -> dt.date:
        return self.as_of.astimezone(dt.timezone.utc).date()

    @property
    def casl_applies(self) -> bool:
        return self.country == "CA" and (self.uses_email or self.uses_sms)

    @property
    def uses_any_channel(self) -> bool:
        return self.uses_email or self.uses_phone or self.uses_sms


# -- the run's values, bound by name ------------------------------------------------
#
# Every value of a run that the candidate INSERT holds is a bind parameter named
# here, so that the statement built for one run executes for any other run of the
# same shape (RunShape) with run_params(): SQLAlchemy then neither builds nor
# cache-keys nor compiles it again. A value is bound with the value of the run
# that built it, so the same helpers serve statements that are built once.


def _campaign(ctx: FunnelContext) -> BindParameter:
    return _bind("ctx_campaign_id", ctx.campaign_id)


def _country(ctx: FunnelContext) -> BindParameter:
    return _bind("ctx_country", ctx.country)


def _as_of(ctx: FunnelContext) -> RunTime:
    return RunTime("ctx_as_of", ctx.as_of)


def _exclusion_since(ctx: FunnelContext) -> dt.datetime:
    return ctx.as_of - dt.timedelta(days=ctx.marketing_exclusion_days)


def _time_params(name: str, value: dt.datetime, dialect: str) -> dict[str, object]:
    params: dict[str, object] = {name: value}
    if dialect == "sqlite":
        params[f"{name}_whole"], params[f"{name}_micro"] = exact_parts_of(value)
    return params


def run_params(ctx: FunnelContext, **values) -> dict[str, object]:
    """The value of every named parameter of a run's statements, for run ``ctx``;
    ``values`` are the statement's own (``query_param_id=7`` gives ``ctx_query_param_id``).
    A time given in ``values`` is one (``validated_at``)."""
    params: dict[str, object] = {
        "ctx_run_id": ctx.run_id, "ctx_campaign_id": ctx.campaign_id, "ctx_organization_id": ctx.organization_id,
        "ctx_country": ctx.country, "ctx_customer_id": ctx.customer_id,
    }
    times = {f"ctx_{name}": time(ctx.as_of) for name, time in consent.TIMES.items()}
    if ctx.marketing_exclusion_days is not None:
        times["ctx_exclusion_since"] = _exclusion_since(ctx)
    for name, value in values.items():
        if isinstance(value, dt.datetime):
            times[f"ctx_{name}"] = value
        else:
            params[f"ctx_{name}"] = value
    for name, value in times.items():
        params.update(_time_params(name, value, ctx.dialect))
    return params


@dataclass(frozen=True)
class RunShape:
    """What decides the SQL of a run's candidate INSERT, beside its query param:
    runs of one shape share their statements (see :func:`insert_candidates`)."""

    dialect: str
    casl_applies: bool
    customer: bool
    uses_email: bool
    uses_phone: bool
    uses_sms: bool
    marketing_exclusion: bool
    has_excluded_tags: bool

    @classmethod
    def of(cls, ctx: FunnelContext) -> "RunShape":
        return cls(ctx.dialect, ctx.casl_applies, ctx.customer_id is not None, ctx.uses_email, ctx.uses_phone,
                   ctx.uses_sms, ctx.marketing_exclusion_days is not None, ctx.has_excluded_tags)


class StatementCache:
    """Statements built once per key and kept (the least recently used dropped
    beyond ``size``), shared by every thread: a statement is immutable."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._statements: collections.OrderedDict = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, build):
        with self._lock:
            statement = self._statements.get(key)
            if statement is not None:
                self._statements.move_to_end(key)
                return statement
        statement = build()
        with self._lock:
            self._statements[key] = statement
            while len(self._statements) > self._size:
                self._statements.popitem(last=False)
        return statement

    def clear(self) -> None:
        with self._lock:
            self._statements.clear()


def named_params(statement) -> dict[str, object]:
    """The named bind parameters of ``statement`` and their values (anonymous
    ones, the constants of a criterion, are left out). Read from the statement's
    cache key, which SQLAlchemy computes once per statement object and needs to
    execute it anyway (a traversal of its own cost as much as building it)."""
    return {bind.key: bind.effective_value for bind in statement._generate_cache_key().bindparams if not bind.unique}


def check_params(statement, params: dict[str, object]) -> None:
    """Raise unless ``params`` (:func:`run_params` of the run that built
    ``statement``) gives each of its named parameters the value it was built with:
    a kept statement executed for another run then has every value of that run."""
    for name, value in named_params(statement).items():
        if name not in params or params[name] != value:
            raise RuntimeError(f"the statement's parameter {name!r} is not derived from the run: "
                               f"{value!r}, run_params gives {params.get(name, '(nothing)')!r}")


def vehicle_key(column) -> ColumnElement:
    return sa.func.coalesce(column, _NO_VEHICLE)


def event_key_of(column) -> ColumnElement:
    return sa.func.coalesce(column, _NO_EVENT_KEY)


def _set(flag) -> ColumnElement[bool]:
    """A customer's flag (deleted, an opt-out) is set, or not known to be clear:
    a NULL written by another system holds the customer back, never lets them through."""
    return sa.or_(flag.is_(None), flag == sa.true())


def _true(column) -> ColumnElement[bool]:
    return column == sa.true()


# -- the candidates ---------------------------------------------------------------

def candidate_source(ctx: FunnelContext, c=CUSTOMERS, v=VEHICLES):
    """Every customer of the organization joined with each of its vehicles (one
    row with no vehicle for a customer without any), and its WHERE."""
    joined = c.outerjoin(v, v.c.customer_id == c.c.id)
    where = [c.c.organization_id == _bind("ctx_organization_id", ctx.organization_id)]
    if ctx.customer_id is not None:
        where.append(c.c.id == _bind("ctx_customer_id", ctx.customer_id))
    return joined, sa.and_(*where)


#: Customers per candidate INSERT on SQLite (see :func:`customer_batches`).
SQLITE_BATCH = 100_000


def customer_batches(conn: Connection, ctx: FunnelContext) -> list[tuple[int, int] | None]:
    """The customer id ranges a query param's candidates are inserted by.

    SQLite has one writer at a time: a single INSERT over a million customers
    holds the lock for a minute, long enough for the run's own heartbeat to miss
    and for another client to think the run dead. On SQLite the inserts go by
    ranges of customer ids, each a few seconds; PostgreSQL locks rows, not the
    database, and hashes the verdicts once for the whole set, so it takes one.
    """
    if ctx.dialect != "sqlite" or ctx.customer_id is not None:
        return [None]
    c = CUSTOMERS.c
    low, high = conn.execute(sa.select(sa.func.min(c.id), sa.func.max(c.id)).where(c.organization_id == ctx.organization_id)).one()
    if low is None:
        return [None]
    return [(start, min(start + SQLITE_BATCH - 1, high)) for start in range(low, high + 1, SQLITE_BATCH)]


def compile_param(ctx: FunnelContext, node, c=CUSTOMERS, v=VEHICLES) -> ColumnElement[bool]:
    return criteria.compile_criterion(
        node, customer=c, vehicle=v, customer_tags=TAGS, as_of=ctx.as_of_date, dialect=ctx.dialect
    )


def count_matches(conn: Connection, ctx: FunnelContext, condition: ColumnElement[bool]) -> int:
    joined, where = candidate_source(ctx)
    return conn.execute(sa.select(sa.func.count()).select_from(joined).where(where, condition)).scalar_one()


def _already_credited(ctx: FunnelContext, c, v, potentials: sa.Table = POTENTIALS) -> ColumnElement[bool]:
    p = potentials.alias("credited")
    return sa.exists().where(
        p.c.run_id == _bind("ctx_run_id", ctx.run_id),
        p.c.customer_id == c.c.id,
        vehicle_key(p.c.vehicle_id) == vehicle_key(v.c.id),
    )


#: The candidate INSERTs built, by run shape and query param (see :func:`insert_candidates`).
CANDIDATE_INSERTS = StatementCache()


def insert_candidates(
    conn: Connection,
    ctx: FunnelContext,
    *,
    query_param_id: int,
    node,
    event_key_field: str | None,
    first: bool,
    validated_at: dt.datetime,
    ids: tuple[int, int] | None = None,
    into: sa.Table = POTENTIALS,
    carry: tuple[str, ...] = (),
) -> int:
    """Insert the candidates the criterion ``node`` matches that no earlier param
    credited, with every check (only customers with ids in ``ids``, when given);
    returns how many.

    ``into`` is the potentials table or a run's snapshot table of them (which
    also receives the customers' columns named in ``carry``: ``engine.snapshot``).

    The statement is built once per run shape, criterion and the rest of its
    arguments, and kept: the run's own values (ids, times, the criterion's
    relative days) are bound by name and given at execution (:func:`run_params`).
    Building, cache-keying and compiling it took a fixed 30 to 150 ms per param
    of every run, a Customer Evaluation of one customer included."""
    days = criteria.day_params(node, ctx.as_of_date)
    key = (RunShape.of(ctx), node, frozenset(days), event_key_field, first, ids is not None, into, carry)
    params = {**run_params(ctx, query_param_id=query_param_id, validated_at=validated_at,
                           ids_low=ids[0] if ids else None, ids_high=ids[1] if ids else None), **days}

    def build():
        statement = _candidate_insert(ctx, query_param_id=query_param_id, node=node, event_key_field=event_key_field,
                                      first=first, validated_at=validated_at, ids=ids, into=into, carry=carry)
        check_params(statement, params)
        return statement
    statement = CANDIDATE_INSERTS.get(key, build)
    return conn.execute(statement, params).rowcount


def _candidate_insert(ctx: FunnelContext, *, query_param_id: int, node, event_key_field: str | None, first: bool,
                      validated_at: dt.datetime, ids: tuple[int, int] | None, into: sa.Table, carry: tuple[str, ...]):
    c, v = CUSTOMERS, VEHICLES
    joined, where = candidate_source(ctx, c, v)
    if ids is not None:
        where = sa.and_(where, c.c.id.between(_bind("ctx_ids_low", ids[0]), _bind("ctx_ids_high", ids[1])))
    event_key = criteria.event_key_sql(event_key_field, customer=c, vehicle=v, dialect=ctx.dialect)
    joined, checks = with_checks(ctx, joined, c, v, event_key)
    columns = {
        "run_id": _bind("ctx_run_id", ctx.run_id, sa.Integer()),
        "customer_id": c.c.id,
        "vehicle_id": v.c.id,
        "query_param_id": _bind("ctx_query_param_id", query_param_id, sa.Integer()),
        "event_key": event_key,
        "first_name": c.c.first_name,
        "last_name": c.c.last_name,
        "status": sa.literal(PotentialStatus.PENDING.value),
        # A check awaiting its verdict is NULL here, so is_valid is false until
        # repair_channel_checks completes the row.
        "is_valid": sa.func.coalesce(eligible(checks), sa.false()),
        **checks,
        "validated_at": _time_expr(RunTime("ctx_validated_at", validated_at)),
        # Decided by the same conditions as the CASL check (engine/consent.py);
        # what it records becomes the three columns when the candidates are published.
        **(_consent(ctx, c).recorded_columns() if ctx.casl_applies else consent.NOT_APPLICABLE),
    }
    columns.update({name: c.c[name] for name in carry})
    select = (sa.select(*[expr.label(name) for name, expr in columns.items()]).select_from(joined)
              .where(where, compile_param(ctx, node, c, v)))
    if not first:
        select = select.where(~_already_credited(ctx, c, v, into))
    return into.insert().from_select(list(columns), select).execution_options(preserve_rowcount=True)


def analyze_potentials(conn: Connection, ctx: FunnelContext, table: sa.Table = POTENTIALS) -> None:
    """Let PostgreSQL plan the statements that follow on the candidates just inserted.

    Without statistics for them (a new database, or autovacuum not caught up) it
    guesses a few hundred rows and joins them to the vehicles by a nested loop:
    a run of 20,000 candidates then took a minute per query param instead of a
    tenth of a second. ANALYZE samples a fixed number of rows, so this stays cheap
    on a large table. SQLite plans without statistics and needs nothing.
    """
    if ctx.dialect == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {table.name}")


def count_credited_matches(conn: Connection, ctx: FunnelContext, *, query_param_id: int, node,
                           potentials: sa.Table = POTENTIALS) -> int:
    """How many candidates credited to earlier params this param matches too
    (its ``total_customers`` counts every candidate it matched)."""
    p, c, v = potentials, CUSTOMERS.alias("c"), VEHICLES.alias("v")
    condition = compile_param(ctx, node, c, v)
    query = (
        sa.select(sa.func.count())
        .select_from(p.join(c, c.c.id == p.c.customer_id).outerjoin(v, v.c.id == p.c.vehicle_id))
        .where(p.c.run_id == ctx.run_id, p.c.query_param_id != query_param_id, condition)
    )
    return conn.execute(query).scalar_one()


# -- the checks -------------------------------------------------------------------
#
# The checks join what they look up (verdicts, enrollments, exclusions) to the
# candidate rows instead of asking a subquery per row: PostgreSQL then hashes each
# side once, and SQLite probes the same indexes it would have probed anyway. Every
# joined side matches at most one row per candidate (unique verdicts, the unique
# enrollment key, DISTINCT customer sets), so no candidate is ever repeated.


@dataclass(frozen=True)
class Verdict:
    """What is known of one contact value: a stored verdict exists, says valid,
    says mobile-capable (SQL booleans)."""

    found: ColumnElement[bool]
    valid: ColumnElement[bool]
    mobile: ColumnElement[bool]


def _joined_verdict(kind: str, country: str, value, name: str):
    cv = VERDICTS.alias(name)
    on = sa.and_(cv.c.kind == kind, cv.c.country == country, cv.c.value == value)
    return cv, on, Verdict(cv.c.id.is_not(None), _true(cv.c.valid), _true(cv.c.mobile))


def _looked_up_verdict(kind: str, country: str, value) -> Verdict:
    def exists(*flags: str) -> ColumnElement[bool]:
        cv = VERDICTS.alias()
        return sa.exists().where(cv.c.kind == kind, cv.c.country == country, cv.c.value == value,
                                 *(_true(cv.c[flag]) for flag in flags))
    return Verdict(exists(), exists("valid"), exists("valid", "mobile"))


def _missing(value, verdict: Verdict) -> ColumnElement[bool]:
    return sa.and_(value.is_not(None), ~verdict.found)


def channel_checks(ctx: FunnelContext, c, email: Verdict | None, phone: Verdict | None,
                   mobile: Verdict | None) -> dict[str, ColumnElement]:
    """Valid Email, Valid Phone, Valid Message (RULES §3) from the verdicts of the
    customer's values; NULL for a channel the campaign does not use.

    For a channel the campaign uses, a value without a stored verdict gives NULL
    here; :func:`repair_channel_checks` fills those in once the verdicts exist.
    """
    checks: dict[str, ColumnElement] = {"valid_email": sa.null(), "valid_phone": sa.null(), "valid_message": sa.null()}
    if ctx.uses_email:
        checks["valid_email"] = sa.case(
            (sa.or_(c.c.email.is_(None), _set(c.c.email_opt_out)), FAILED),
            (~email.found, sa.null()),
            (email.valid, PASSED),
            else_=FAILED,
        )
    if ctx.uses_phone:
        checks["valid_phone"] = sa.case(
            (sa.or_(_set(c.c.do_not_call), sa.and_(c.c.phone.is_(None), c.c.mobile.is_(None))), FAILED),
            (sa.or_(sa.and_(phone.found, phone.valid), sa.and_(mobile.found, mobile.valid)), PASSED),
            (sa.or_(_missing(c.c.phone, phone), _missing(c.c.mobile, mobile)), sa.null()),
            else_=FAILED,
        )
    if ctx.uses_sms:
        checks["valid_message"] = sa.case(
            (sa.or_(c.c.mobile.is_(None), _set(c.c.sms_opt_out)), FAILED),
            (~mobile.found, sa.null()),
            (sa.and_(mobile.valid, mobile.mobile), PASSED),
            else_=FAILED,
        )
    return checks


def with_checks(ctx: FunnelContext, joined, c, v, event_key: ColumnElement):
    """``joined`` (the candidate rows) joined with what the checks look up, and
    every check of RULES §3 as an expression over the result."""
    email = phone = mobile = None
    if ctx.uses_email:
        cv, on, email = _joined_verdict("email", "", c.c.email, "email_verdict")
        joined = joined.outerjoin(cv, on)
    if ctx.uses_phone:
        cv, on, phone = _joined_verdict("phone", _country(ctx), c.c.phone, "phone_verdict")
        joined = joined.outerjoin(cv, on)
    if ctx.uses_phone or ctx.uses_sms:
        cv, on, mobile = _joined_verdict("phone", _country(ctx), c.c.mobile, "mobile_verdict")
        joined = joined.outerjoin(cv, on)

    same_event = _enrolled_events(ctx)
    joined = joined.outerjoin(same_event, sa.and_(
        same_event.c.customer_id == c.c.id,
        same_event.c.vehicle_key == vehicle_key(v.c.id),
        same_event.c.event_key == event_key,
    ))
    already_enrolled = same_event.c.customer_id.is_not(None)
    in_queue = _customers_in_queue(ctx)
    joined = joined.outerjoin(in_queue, in_queue.c.customer_id == c.c.id)
    checks = {
        **channel_checks(ctx, c, email, phone, mobile),
        "deleted": _check(_set(c.c.deleted)),
        "unique_event": _check(already_enrolled),
        "already_in_queue": _check(in_queue.c.customer_id.is_not(None)),
        "casl": _casl(ctx, c) if ctx.casl_applies else sa.null(),
        "opt_out_all": _check(_set(c.c.opt_out_all)),
        "marketing_exclusion": sa.literal(PASSED),
    }
    excluded = _customers_excluded(ctx)
    if excluded is not None:
        joined = joined.outerjoin(excluded, excluded.c.customer_id == c.c.id)
        checks["marketing_exclusion"] = _check(excluded.c.customer_id.is_not(None))
    return joined, checks


def _check(failed_when: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.case((failed_when, FAILED), else_=PASSED)


def _enrolled_events(ctx: FunnelContext) -> sa.Subquery:
    """Every (customer, vehicle or none, event key) enrolled in this campaign, any
    status, expired or not (Unique Event), once each.

    Joined as a derived set, never through the expression index of the
    enrollment key: SQLite 3.40 (Debian 12's, and so Python's here) put a Bloom
    filter on a join through that index and missed matches, so candidates
    already enrolled passed Unique Event.
    """
    cc = ENROLLMENTS.alias("enrolled")
    key = (cc.c.customer_id, vehicle_key(cc.c.vehicle_id).label("vehicle_key"), event_key_of(cc.c.event_key).label("event_key"))
    return sa.select(*key).where(cc.c.campaign_id == _campaign(ctx)).distinct().subquery("same_event")


def _customers_in_queue(ctx: FunnelContext) -> sa.Subquery:
    """The customers with an active enrollment in this campaign (Already in Queue)."""
    cc = ENROLLMENTS.alias("queued")
    return (
        sa.select(cc.c.customer_id)
        .where(
            cc.c.campaign_id == _campaign(ctx),
            cc.c.expired_at.is_(None),
            cc.c.status.in_([s.value for s in QUEUE_STATUSES]),
        )
        .distinct()
        .subquery("in_queue")
    )


def _customers_excluded(ctx: FunnelContext) -> sa.Subquery | None:
    """The customers Marketing Exclusion holds back, or None when it holds back nobody."""
    selects = []
    if ctx.has_excluded_tags:
        t, e = TAGS.alias("tag"), EXCLUDED_TAGS.alias("excluded_tag")
        selects.append(
            sa.select(t.c.customer_id).select_from(t.join(e, e.c.tag == t.c.tag)).where(e.c.campaign_id == _campaign(ctx))
        )
    if ctx.marketing_exclusion_days is not None:
        cc, cp = ENROLLMENTS.alias("recent"), CAMPAIGNS.alias("recent_campaign")
        since = RunTime("ctx_exclusion_since", _exclusion_since(ctx))
        selects.append(
            sa.select(cc.c.customer_id)
            .select_from(cc.join(cp, cp.c.id == cc.c.campaign_id))
            .where(
                compare_moments(ctx, cc.c.enrolled_at, operator.ge, since),
                compare_moments(ctx, cc.c.enrolled_at, operator.le, _as_of(ctx)),
                sa.or_(
                    cc.c.campaign_id == _campaign(ctx),
                    sa.and_(cp.c.organization_id == _bind("ctx_organization_id", ctx.organization_id),
                            cp.c.exclusion_exempt == sa.false()),
                ),
            )
        )
    if not selects:
        return None
    union = selects[0] if len(selects) == 1 else sa.union(*selects)
    return sa.select(union.subquery().c.customer_id).distinct().subquery("excluded")


def _consent(ctx: FunnelContext, c) -> consent.Standing:
    return consent.standing(c, ctx.as_of, ctx.dialect, functools.partial(compare_moments, ctx), bind=_consent_time)


def _consent_time(name: str, value: dt.datetime) -> RunTime:
    return RunTime(f"ctx_{name}", value)


def _casl(ctx: FunnelContext, c) -> ColumnElement[int]:
    return _consent(ctx, c).check()


# -- repairs, counts, enrollment ---------------------------------------------------

def _missing_verdict(ctx: FunnelContext, p=POTENTIALS) -> ColumnElement[bool]:
    missing = []
    if ctx.uses_email:
        missing.append(p.c.valid_email.is_(None))
    if ctx.uses_phone:
        missing.append(p.c.valid_phone.is_(None))
    if ctx.uses_sms:
        missing.append(p.c.valid_message.is_(None))
    return sa.or_(*missing) if missing else sa.false()


def values_awaiting_verdicts(ctx: FunnelContext, candidates: sa.Table) -> tuple[sa.Subquery, sa.Subquery]:
    """The emails, and the phones and mobiles, carried by the ``candidates`` (a
    run's snapshot table, ``engine.snapshot``) with a channel check awaiting a verdict."""
    t, missing = candidates, _missing_verdict(ctx, candidates)
    emails = sa.select(t.c.email.label("value")).where(missing, t.c.email.is_not(None))
    phones = sa.union_all(*(sa.select(column.label("value")).where(missing, column.is_not(None))
                            for column in (t.c.phone, t.c.mobile)))
    return emails.subquery("contact_values"), phones.subquery("contact_values")


def looked_up_channel_checks(ctx: FunnelContext, c=CUSTOMERS) -> dict[str, ColumnElement]:
    """The channel checks of customer ``c`` with each verdict looked up by a subquery
    (for a few rows; the candidate INSERT joins them instead)."""
    return channel_checks(
        ctx, c,
        _looked_up_verdict("email", "", c.c.email),
        _looked_up_verdict("phone", _country(ctx), c.c.phone),
        _looked_up_verdict("phone", _country(ctx), c.c.mobile),
    )


def repair_channel_checks(conn: Connection, ctx: FunnelContext, validated_at: dt.datetime, candidates: sa.Table) -> int:
    """Recompute the channel checks that awaited a verdict, from the contact values
    the ``candidates`` carry (a run's snapshot table, ``engine.snapshot``: the
    customers' values as of the snapshot); a verdict still missing fails."""
    p = candidates
    checks = looked_up_channel_checks(ctx, p)
    values = {name: sa.func.coalesce(expr, FAILED) for name, expr in checks.items() if _uses(ctx, name)}
    if not values:
        return 0
    # SET sees the old row: is_valid is decided from the new channel checks and
    # the row's other checks.
    row = {column.name: column for column in p.c} | values
    statement = (
        sa.update(p)
        .values(**values, is_valid=sa.func.coalesce(eligible(row), sa.false()), validated_at=_time(validated_at))
        .where(_missing_verdict(ctx, p))
    )
    return conn.execute(statement).rowcount


def _uses(ctx: FunnelContext, check: str) -> bool:
    return {"valid_email": ctx.uses_email, "valid_phone": ctx.uses_phone, "valid_message": ctx.uses_sms}[check]


def eligible(checks: dict[str, ColumnElement]) -> ColumnElement[bool]:
    """``is_valid`` (RULES §3) over check expressions, by the one funnel rule of
    ``db.stages`` (which reads the checks as columns of a row)."""
    return stage_condition(Stage.ELIGIBLE, SimpleNamespace(c=SimpleNamespace(**checks)))


FUNNEL_STAGES = (Stage.QUERY_PARAM_CUSTOMERS, Stage.POTENTIAL_CUSTOMERS, Stage.POTENTIAL_EVENTS, Stage.ELIGIBLE)


def count_stages(conn: Connection, run_id: int) -> dict[str, int]:
    """The funnel's counts up to Eligible, in one pass over the run's potentials."""
    p = POTENTIALS
    columns = [
        sa.func.coalesce(sa.func.sum(sa.case((stage_condition(stage, p), 1), else_=0)), 0).label(stage.column)
        for stage in FUNNEL_STAGES
    ]
    row = conn.execute(sa.select(*columns).where(p.c.run_id == run_id)).one()
    return {stage.column: int(row._mapping[stage.column]) for stage in FUNNEL_STAGES}


def enroll(conn: Connection, ctx: FunnelContext) -> int:
    """Insert the run's eligible candidates as campaign customers; an event another
    run enrolled first is skipped by the unique index. Returns how many enrolled."""
    p = POTENTIALS
    columns = ["campaign_id", "customer_id", "vehicle_id", "event_key", "run_id", "purpose", "status", "enrolled_at"]
    select = sa.select(
        sa.literal(ctx.campaign_id),
        p.c.customer_id,
        p.c.vehicle_id,
        p.c.event_key,
        sa.literal(ctx.run_id),
        sa.literal(CampaignCustomerPurpose.DEFAULT.value),
        sa.literal(CampaignCustomerStatus.QUEUED.value),
        _time(ctx.as_of),
    ).where(p.c.run_id == ctx.run_id, p.c.is_valid == sa.true())
    insert = (postgresql.insert if ctx.dialect == "postgresql" else sqlite.insert)(ENROLLMENTS)
    statement = insert.from_select(columns, select).on_conflict_do_nothing().execution_options(preserve_rowcount=True)
    return conn.execute(statement).rowcount


def settle_potentials(conn: Connection, ctx: FunnelContext, *, enrolled: int, eligible: int) -> None:
    """Eligible potentials become ``success`` when this run enrolled them, else ``error``.

    ``enrolled`` is how many rows :func:`enroll` inserted, ``eligible`` how many
    eligible potentials the run has. Each eligible potential is a distinct
    enrollment key (one per customer and vehicle in a run), so when the two are
    equal no other run took any of them first: every eligible potential
    succeeded, and one plain UPDATE says so (a third faster on PostgreSQL at a
    million candidates than asking the enrollments). Otherwise each is looked up,
    by a semi-join in WHERE so that PostgreSQL joins the enrollments once.
    """
    p, cc = POTENTIALS, ENROLLMENTS
    is_eligible = sa.and_(p.c.run_id == ctx.run_id, p.c.is_valid == sa.true())
    if enrolled == eligible:
        conn.execute(sa.update(p).values(status=PotentialStatus.SUCCESS.value).where(is_eligible))
        return
    enrolled_here = sa.exists().where(
        cc.c.campaign_id == ctx.campaign_id,
        cc.c.customer_id == p.c.customer_id,
        vehicle_key(cc.c.vehicle_id) == vehicle_key(p.c.vehicle_id),
        event_key_of(cc.c.event_key) == p.c.event_key,
        cc.c.run_id == ctx.run_id,
    )
    conn.execute(sa.update(p).values(status=PotentialStatus.SUCCESS.value).where(is_eligible, enrolled_here))
    conn.execute(sa.update(p).values(status=PotentialStatus.ERROR.value)
                 .where(is_eligible, p.c.status == PotentialStatus.PENDING.value))


def fail_eligible(conn: Connection, run_ids: list[int]) -> int:
    """The eligible potentials of runs that ended in error while enrolling become
    ``error``: their enrollment failed (RULES §3), and ``pending`` would say they
    may yet be enrolled."""
    p = POTENTIALS
    statement = (
        sa.update(p)
        .values(status=PotentialStatus.ERROR.value)
        .where(p.c.run_id.in_(run_ids), p.c.is_valid == sa.true())
    )
    return conn.execute(statement).rowcount


def count_any_match(conn: Connection, ctx: FunnelContext, conditions: list[ColumnElement[bool]]) -> int:
    """Distinct candidates matched by any of the params (Criterion Stats)."""
    return count_matches(conn, ctx, sa.or_(*conditions))
