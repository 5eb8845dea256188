"""The candidate INSERT is built once per run shape and query param, and kept.

A kept statement is executed for later runs with their own values bound by name
(``funnel.run_params``, ``criteria.day_params``): it must then be, to the last
parameter, the statement that would have been built for that run. A value of a
run left in a kept statement as a constant would silently decide the next run
on the first run's day, campaign or customer.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from enroller_desktop.engine import criteria, funnel, snapshot
from tests.engine.test_foreign_times import OPS, written

DIALECTS = {"sqlite": sqlite.dialect(), "postgresql": postgresql.psycopg.dialect()}
CRITERION = criteria.parse(
    '{"all": [{"field": "vehicle.lease_end_date", "op": "within_next_days", "value": 90},'
    ' {"field": "customer.last_purchase_at", "op": "older_than_days", "value": 30},'
    ' {"field": "vehicle.last_service_date", "op": "within_last_days", "value": 0},'
    ' {"not": {"field": "customer.tags", "op": "has_tag", "value": "fleet"}}]}')


class _Capture:
    """Takes the statement the funnel executes, and its parameters."""

    def execute(self, statement, params=None):
        self.statement, self.params = statement, params
        return type("Result", (), {"rowcount": 0})()


def _context(dialect: str, k: int, *, country: str, customer: bool, channels: tuple[bool, bool, bool],
             exclusion: bool) -> funnel.FunnelContext:
    """Run ``k``: every value differs from run ``k - 1``'s, the shape does not."""
    return funnel.FunnelContext(
        run_id=5 + k, campaign_id=3 + k, organization_id=2 + k, country=country,
        as_of=dt.datetime(2026, 11, 3, 13, 0, 5, 120 + k, tzinfo=dt.timezone.utc) + dt.timedelta(days=40 * k, hours=k),
        customer_id=40 + k if customer else None, uses_email=channels[0], uses_phone=channels[1], uses_sms=channels[2],
        marketing_exclusion_days=30 + k if exclusion else None, has_excluded_tags=exclusion, dialect=dialect)


def _insert(ctx: funnel.FunnelContext, k: int, *, first: bool, ids: bool) -> _Capture:
    conn = _Capture()
    table, _ = snapshot.candidate_tables()
    funnel.insert_candidates(conn, ctx, query_param_id=7 + k, node=CRITERION, event_key_field="vehicle.lease_end_date",
                             first=first, validated_at=ctx.as_of + dt.timedelta(seconds=3 + k),
                             ids=(1 + k, 100 + k) if ids else None, into=table, carry=snapshot.CARRIED)
    return conn


SHAPES = [
    dict(country=country, customer=customer, channels=channels, exclusion=exclusion, first=first, ids=ids)
    for country, customer, channels, exclusion, first, ids in itertools.product(
        ("CA", "US"), (False, True), ((True, True, True), (False, False, False), (False, True, False)),
        (False, True), (True, False), (False, True))
    if not (customer and ids)
]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(str(v) for v in s.values()))
def test_a_kept_candidate_insert_executes_for_another_run_as_the_one_built_for_it(dialect, shape):
    where = {name: shape[name] for name in ("first", "ids")}
    context = {name: shape[name] for name in ("country", "customer", "channels", "exclusion")}
    funnel.CANDIDATE_INSERTS.clear()
    built = _insert(_context(dialect, 0, **context), 0, **where)
    later = _insert(_context(dialect, 1, **context), 1, **where)
    assert later.statement is built.statement  # kept
    funnel.CANDIDATE_INSERTS.clear()
    fresh = _insert(_context(dialect, 1, **context), 1, **where)
    assert fresh.statement is not built.statement

    kept, own = later.statement.compile(dialect=DIALECTS[dialect]), fresh.statement.compile(dialect=DIALECTS[dialect])
    assert str(kept) == str(own)
    kept_values, own_values = kept.construct_params(later.params), own.construct_params(fresh.params)
    assert kept_values == own_values, {n: (kept_values[n], own_values[n]) for n in kept_values if kept_values[n] != own_values[n]}


def test_a_run_whose_relative_day_leaves_the_calendar_gets_its_own_statement():
    """'within the next N days' past 9999-12-31 has no upper bound: other SQL."""
    node = criteria.parse('{"field": "vehicle.lease_end_date", "op": "within_next_days", "value": 2000000}')
    assert set(criteria.day_params(node, dt.date(2026, 1, 1))) == {"criterion_as_of", "criterion_as_of_plus_2000000"}
    assert set(criteria.day_params(node, dt.date(9000, 1, 1))) == {"criterion_as_of"}
    funnel.CANDIDATE_INSERTS.clear()
    table, _ = snapshot.candidate_tables()
    statements = []
    for year in (2026, 9000):
        ctx = funnel.FunnelContext(run_id=1, campaign_id=1, organization_id=1, country="US",
                                   as_of=dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc), customer_id=None,
                                   uses_email=False, uses_phone=False, uses_sms=False, marketing_exclusion_days=None,
                                   has_excluded_tags=False, dialect="sqlite")
        conn = _Capture()
        funnel.insert_candidates(conn, ctx, query_param_id=1, node=node, event_key_field=None, first=True,
                                 validated_at=ctx.as_of, into=table)
        statements.append(conn.statement)
    assert statements[0] is not statements[1]
    assert "criterion_as_of_plus_2000000" not in str(statements[1].compile(dialect=sqlite.dialect()))


def test_a_statement_with_a_value_not_derived_from_the_run_is_refused():
    statement = sa.select(funnel.CUSTOMERS.c.id).where(funnel.CUSTOMERS.c.id == sa.bindparam("ctx_customer_id", 3))
    funnel.check_params(statement, {"ctx_customer_id": 3})
    with pytest.raises(RuntimeError, match="ctx_customer_id"):
        funnel.check_params(statement, {"ctx_customer_id": 4})
    with pytest.raises(RuntimeError, match="ctx_customer_id"):
        funnel.check_params(statement, {})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_stored_time_compares_with_a_python_time_or_a_run_time_as_the_times_do(db, data):
    """On SQLite the exact parts of a Python or bound time are computed in Python
    (``sqlite_time.exact_parts_of``); they must order as the stored text's do."""
    stored_moment, stored_text = data.draw(written(db.is_sqlite))
    moment, _ = data.draw(written(False))
    moment = moment.replace(tzinfo=dt.timezone.utc)
    ctx = funnel.FunnelContext(run_id=1, campaign_id=1, organization_id=1, country="US", as_of=moment,
                               customer_id=None, uses_email=False, uses_phone=False, uses_sms=False,
                               marketing_exclusion_days=None, has_excluded_tags=False, dialect=db.dialect)
    column = sa.bindparam("stored", type_=sa.Text)
    if not db.is_sqlite:
        column = sa.cast(column, sa.DateTime)
    at = funnel.RunTime("ctx_as_of", moment)
    query = sa.select(*[sa.case((funnel.compare_moments(ctx, column, op, right), 1), else_=0)
                        for right in (moment, at) for op in OPS])
    other = moment + dt.timedelta(days=3, microseconds=7)  # the kept statement's time, replaced at execution
    kept = sa.select(*[sa.case((funnel.compare_moments(ctx, column, op, funnel.RunTime("ctx_as_of", other)), 1), else_=0)
                       for op in OPS])
    with db.read() as conn:
        got = tuple(conn.execute(query, {"stored": stored_text}).one())
        got_kept = tuple(conn.execute(kept, {"stored": stored_text, **funnel.run_params(ctx)}).one())
    expected = tuple(int(op(stored_moment, moment.replace(tzinfo=None))) for op in OPS)
    assert got == expected * 2, (stored_text, moment)
    assert got_kept == expected, (stored_text, moment)


def test_exact_parts_of_a_time_are_those_sqlite_reads_from_its_bound_text(db):
    if not db.is_sqlite:
        pytest.skip("the parts are SQLite's")
    from enroller_desktop.engine.sqlite_time import exact_parts, exact_parts_of
    from enroller_desktop.db.types import UTCDateTime
    for moment in (dt.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=dt.timezone.utc),
                   dt.datetime(5, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
                   dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-7)))):
        whole, micro = exact_parts(sa.literal(moment, UTCDateTime()))
        with db.read() as conn:
            sql_whole, sql_micro = conn.execute(sa.select(whole, micro)).one()
            py_whole = conn.execute(sa.select(sa.func.julianday(sa.literal(exact_parts_of(moment)[0], sa.Text)))).scalar_one()
        assert (sql_whole, sql_micro) == (py_whole, exact_parts_of(moment)[1]), moment
    assert operator.eq(exact_parts_of(dt.datetime(2024, 6, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-7)))),
                       ("2024-06-01 19:00:00", "000000"))
