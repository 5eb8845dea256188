"""Times written by other systems, in the forms they choose, decide as times.

We write '2024-06-15 12:00:00.000000'; the dealership's other systems may write
the same moment as '2024-06-15 12:00:00', '2024-06-15T12:00:00.000', or (on
SQLite, where a time is text) with an offset. Every boundary the spec draws
(CASL's 730 and 183 days, the as-of time, the marketing buffer, expiry's age,
a criterion's dates) must read them exactly: a purchase written at midnight of
the 730th day without a fraction once failed CASL on SQLite, because as text
'… 00:00:00' sorts before '… 00:00:00.000000' (found by bench/engine.py, whose
data is written that way: 204 of 538,075 enrollments were missing on SQLite).
"""

from __future__ import annotations

import datetime as dt
import operator
from types import SimpleNamespace

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enroller_desktop.db.enums import Expiration, RunPurpose
from enroller_desktop.engine.sql_time import compare_moments
from tests.builders import (
    AS_OF,
    AS_OF_DATE,
    CUSTOMERS,
    ENROLLMENTS,
    FAILED,
    PASSED,
    campaign,
    checks_of,
    customer,
    enrollment,
    enrollment_row,
    execute,
    organization,
    potential,
)

PURCHASE_EDGE = AS_OF_DATE - dt.timedelta(days=730)
DAY_BEFORE = PURCHASE_EDGE - dt.timedelta(days=1)

#: The first moment of the 730th day before the as-of date, as others write it.
AT_THE_EDGE = [f"{PURCHASE_EDGE} 00:00:00", f"{PURCHASE_EDGE}T00:00:00", f"{PURCHASE_EDGE} 00:00:00.000",
               f"{PURCHASE_EDGE} 00:00:00.000000000", f"{PURCHASE_EDGE} 00:00"]
#: The same on SQLite only: PostgreSQL drops an offset from a zone-less timestamp.
AT_THE_EDGE_SQLITE = [f"{PURCHASE_EDGE}T00:00:00Z", f"{PURCHASE_EDGE} 00:00:00+00:00",
                           f"{DAY_BEFORE} 19:00:00-05:00", f"{DAY_BEFORE}T19:00:00.000000-05:00"]
#: A microsecond, or a second, before it.
JUST_BEFORE = [f"{DAY_BEFORE} 23:59:59", f"{DAY_BEFORE}T23:59:59.999999"]
#: The same on SQLite only: PostgreSQL drops an offset, and rounds a seventh
#: digit of fraction on writing (23:59:59.9999995 is stored as midnight there).
JUST_BEFORE_SQLITE = [f"{DAY_BEFORE} 18:59:59.999999-05:00", f"{PURCHASE_EDGE} 00:59:59.999999+01:00",
                      f"{DAY_BEFORE} 23:59:59.9999995"]


def _write_text(db, table, row_id: int, column: str, text: str) -> None:
    """Store ``text`` as the database takes it from another system (no type of ours)."""
    with db.write() as conn:
        conn.execute(sa.text(f"UPDATE {table.name} SET {column} = :t WHERE id = :id"), {"t": text, "id": row_id})


def _casl_with_purchase_written_as(db, text: str) -> int:
    org = organization(db, "CA")
    campaign_id = campaign(db, org)
    person = customer(db, org, casl_express_consent_at=None)
    _write_text(db, CUSTOMERS, person.id, "last_purchase_at", text)
    outcome = execute(db, campaign_id)
    return checks_of(potential(db, outcome.id, person.id))["casl"]


def _forms(db, common, sqlite_only):
    return common + (sqlite_only if db.is_sqlite else [])


def test_casl_counts_a_purchase_at_the_first_moment_of_the_730th_day_in_any_form(db):
    forms = _forms(db, AT_THE_EDGE, AT_THE_EDGE_SQLITE)
    assert {form: _casl_with_purchase_written_as(db, form) for form in forms} == dict.fromkeys(forms, PASSED)


def test_casl_refuses_a_purchase_just_before_the_730th_day_in_any_form(db):
    forms = _forms(db, JUST_BEFORE, JUST_BEFORE_SQLITE)
    assert {form: _casl_with_purchase_written_as(db, form) for form in forms} == dict.fromkeys(forms, FAILED)


def test_casl_refuses_an_express_consent_written_a_microsecond_after_the_as_of_time(db):
    org = organization(db, "CA")
    campaign_id = campaign(db, org)
    person = customer(db, org)
    _write_text(db, CUSTOMERS, person.id, "casl_express_consent_at", f"{AS_OF_DATE} 12:00:00.000001")
    assert checks_of(potential(db, execute(db, campaign_id).id, person.id))["casl"] == FAILED


def test_marketing_exclusion_reads_an_enrollment_written_at_the_buffer_start_without_fraction(db):
    org = organization(db, "CA")
    campaign_id = campaign(db, org, marketing_exclusion_days=30)
    other = campaign(db, org, name="Other")
    person = customer(db, org)
    enrolled = enrollment(db, other, person.id)
    start = AS_OF - dt.timedelta(days=30)
    _write_text(db, ENROLLMENTS, enrolled, "enrolled_at", start.strftime("%Y-%m-%d %H:%M:%S"))
    assert checks_of(potential(db, execute(db, campaign_id).id, person.id))["marketing_exclusion"] == FAILED


def test_expiry_keeps_an_enrollment_written_at_the_first_moment_of_the_last_day_it_may_live(db):
    org = organization(db, "CA")
    campaign_id = campaign(db, org, expire_after_days=10)
    person = customer(db, org)
    kept, aged = enrollment(db, campaign_id, person.id, event_key="kept"), enrollment(db, campaign_id, person.id, event_key="aged")
    edge = AS_OF_DATE - dt.timedelta(days=10)
    _write_text(db, ENROLLMENTS, kept, "enrolled_at", f"{edge} 00:00:00")
    _write_text(db, ENROLLMENTS, aged, "enrolled_at", f"{edge - dt.timedelta(days=1)} 23:59:59.9999")
    execute(db, campaign_id, purpose=RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE)
    assert enrollment_row(db, aged)["expiration"] is Expiration.AGED_OUT
    assert enrollment_row(db, kept)["expired_at"] is None  # the customer still qualifies


def test_a_criterion_takes_the_date_of_a_time_a_fraction_before_midnight_exactly(db):
    """SQLite's date() alone rounds 23:59:59.9997 up to the next day."""
    org = organization(db, "CA")
    day = AS_OF_DATE - dt.timedelta(days=40)
    campaign_id = campaign(db, org, criterion={"field": "customer.last_purchase_at", "op": "eq", "value": day.isoformat()})
    person = customer(db, org)
    _write_text(db, CUSTOMERS, person.id, "last_purchase_at", f"{day} 23:59:59.9997")
    outcome = execute(db, campaign_id)
    assert potential(db, outcome.id, person.id) is not None



def test_the_event_key_of_a_timestamp_is_its_utc_date_to_the_microsecond(db):
    """The event key is the timestamp's UTC date (RULES §4): date() alone rounds
    23:59:59.9997 up to the next day (found by bench/engine.py --shapes)."""
    org = organization(db, "CA")
    day = AS_OF_DATE - dt.timedelta(days=40)
    campaign_id = campaign(db, org, criterion={"field": "customer.last_purchase_at", "op": "not_null"},
                           event_key="customer.last_purchase_at")
    forms = [f"{day} 23:59:59.9997", f"{day}T23:59:59.999999", f"{day} 23:59"]
    if db.is_sqlite:
        forms += [f"{day + dt.timedelta(days=1)} 04:59:59.999700+05:00", f"{day} 18:59:59.9999-05:00"]
    people = [customer(db, org) for _ in forms]
    for person, form in zip(people, forms):
        _write_text(db, CUSTOMERS, person.id, "last_purchase_at", form)
    outcome = execute(db, campaign_id)
    keys = {form: potential(db, outcome.id, person.id)["event_key"] for person, form in zip(people, forms)}
    assert keys == dict.fromkeys(forms, day.isoformat())

# -- the comparison itself, as a property --------------------------------------------

BASE = dt.datetime(2024, 11, 27)
NEAR = st.sampled_from([0, 1, 499, 500, 501, 999, 1000, 499_999, 500_000, 999_000, 999_499, 999_500, 999_999])


@st.composite
def written(draw, offsets: bool):
    """A time near BASE (sub-millisecond and second boundaries) and a text of it."""
    moment = BASE + dt.timedelta(seconds=draw(st.integers(-1, 1)), microseconds=draw(NEAR) + 1000 * draw(st.integers(-2, 2)))
    offset = draw(st.sampled_from([None, 0, 5, -4])) if offsets else None
    shown = moment + dt.timedelta(hours=offset or 0)
    suffix = "" if offset is None else "Z" if offset == 0 else f"{'+' if offset > 0 else '-'}{abs(offset):02d}:00"
    micro = shown.microsecond
    fraction = draw(st.sampled_from(
        [f".{micro:06d}", f".{micro:06d}000"]
        + ([""] if micro == 0 else []) + ([f".{micro // 1000:03d}"] if micro % 1000 == 0 else [])))
    sep = draw(st.sampled_from([" ", "T"]))
    return moment, shown.strftime(f"%Y-%m-%d{sep}%H:%M:%S") + fraction + suffix


OPS = [operator.lt, operator.le, operator.gt, operator.ge]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_compare_moments_orders_texts_of_any_form_as_the_times_they_name(db, data):
    a_moment, a_text = data.draw(written(db.is_sqlite))
    b_moment, b_text = data.draw(written(db.is_sqlite))
    ctx = SimpleNamespace(dialect=db.dialect)
    a, b = sa.bindparam("a", type_=sa.Text), sa.bindparam("b", type_=sa.Text)
    if not db.is_sqlite:
        a, b = sa.cast(a, sa.DateTime), sa.cast(b, sa.DateTime)
    query = sa.select(*[sa.case((compare_moments(ctx, a, op, b), 1), else_=0) for op in OPS])
    with db.read() as conn:
        got = tuple(conn.execute(query, {"a": a_text, "b": b_text}).one())
    assert got == tuple(int(op(a_moment, b_moment)) for op in OPS), (a_text, b_text)
