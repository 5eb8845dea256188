"""Properties of criteria: the compiled SQL selects exactly the candidates the plain
Python reference says match, on both databases; and ``parse`` answers any JSON
with a criterion or a CriterionError, never anything else.

The crowd of customers is generated once from a fixed seed, from small pools of
awkward values (ASCII and accented case pairs, '' beside NULL, punctuation between
'Z' and 'a', dates around the as-of date), so that generated criteria hit and miss.
"""

from __future__ import annotations

import datetime as dt
import json
import random

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg

from enroller_desktop.db.models import Customer, CustomerTag, Organization, Vehicle
from enroller_desktop.engine.criteria import (
    FIELDS,
    All,
    Any,
    Condition,
    CriterionError,
    Kind,
    Not,
    Op,
    compile_criterion,
    describe,
    evaluate,
    parse,
)

BASE = dt.date(2024, 6, 15)
TEXTS = ["Smith", "SMITH", "smith", "Émile", "émile", "ÉMILE", "Zoë", "zoë", "", " ", "a", "A", "_", "z", "Z", "[",
         "`", "ß", "ǅ", "İ", "Ångström", "ångström", "MÜLLER", "müller", "O'Brien", "o'brien", "abc", "ABD", "日本"]
TAGS = ["fleet", "Fleet", "VIP", "vip", "gold", ""]
YEARS = [1999, 2005, 2019, 2020, 2021, 2024]
ODOMETERS = [0, 12, 45000, 45001, 150000]
TEXT_COLUMNS = {"customer": ["first_name", "last_name", "email"], "vehicle": ["vin", "make", "model"]}
TIMESTAMP_COLUMNS = ["created_at", "last_purchase_at", "last_inquiry_at"]
DATE_COLUMNS = ["purchase_date", "lease_end_date", "last_service_date", "warranty_end_date"]


def _or_null(rng: random.Random, value):
    return None if rng.random() < 0.25 else value


def make_crowd(seed: int = 20240615, size: int = 40):
    """Customers, vehicles and tags: ``(customers, vehicles, tags)`` keyed by id."""
    rng = random.Random(seed)
    customers, vehicles, tags = {}, {}, {}
    for cid in range(1, size + 1):
        customer = {column: _or_null(rng, rng.choice(TEXTS)) for column in TEXT_COLUMNS["customer"]}
        for column in TIMESTAMP_COLUMNS:
            moment = dt.datetime.combine(BASE, dt.time(), dt.timezone.utc) + dt.timedelta(
                days=rng.randint(-800, 200), seconds=rng.choice([0, 1, 43200, 86399]))
            customer[column] = _or_null(rng, moment)
        customers[cid] = customer
        tags[cid] = {tag for tag in TAGS if rng.random() < 0.3}
        for n in range(rng.choice([0, 1, 1, 2])):
            vehicle = {column: _or_null(rng, rng.choice(TEXTS)) for column in TEXT_COLUMNS["vehicle"]}
            vehicle |= {"customer_id": cid, "year": _or_null(rng, rng.choice(YEARS)),
                        "odometer": _or_null(rng, rng.choice(ODOMETERS))}
            for column in DATE_COLUMNS:
                vehicle[column] = _or_null(rng, BASE + dt.timedelta(days=rng.randint(-800, 800)))
            vehicles[cid * 10 + n] = vehicle
    return customers, vehicles, tags


CUSTOMERS, VEHICLES, CUSTOMER_TAGS = make_crowd()


@pytest.fixture
def crowd(db):
    with db.write() as conn:
        conn.execute(sa.insert(Organization.__table__), [dict(id=1, name="Maple Motors", country="CA")])
        conn.execute(sa.insert(Customer.__table__), [dict(row, id=cid, organization_id=1) for cid, row in CUSTOMERS.items()])
        conn.execute(sa.insert(Vehicle.__table__), [dict(row, id=vid) for vid, row in VEHICLES.items()])
        conn.execute(sa.insert(CustomerTag.__table__),
                     [dict(customer_id=cid, tag=tag) for cid, names in CUSTOMER_TAGS.items() for tag in names])
    return db


def expected_candidates(node, as_of: dt.date) -> set[tuple[int, int | None]]:
    matched = set()
    for cid, customer in CUSTOMERS.items():
        own = [(vid, vehicle) for vid, vehicle in VEHICLES.items() if vehicle["customer_id"] == cid] or [(None, None)]
        for vid, vehicle in own:
            if evaluate(node, customer, vehicle, CUSTOMER_TAGS[cid], as_of) is True:
                matched.add((cid, vid))
    return matched


def selected_candidates(db, node, as_of: dt.date) -> set[tuple[int, int | None]]:
    c = Customer.__table__.alias("c")
    v = Vehicle.__table__.alias("v")
    where = compile_criterion(node, customer=c, vehicle=v, customer_tags=CustomerTag.__table__, as_of=as_of, dialect=db.dialect)
    stmt = sa.select(c.c.id, v.c.id).select_from(c.outerjoin(v, v.c.customer_id == c.c.id)).where(c.c.organization_id == 1, where)
    with db.read() as conn:
        return set(map(tuple, conn.execute(stmt)))


# --- strategies -------------------------------------------------------------------------

texts = st.sampled_from(TEXTS) | st.text(alphabet="aAzZ_[`éÉß ", max_size=3)
numbers = (
    st.sampled_from([*YEARS, *ODOMETERS, 2020.0, 2020.5, -1, 10**20, -(10**20), 1e300])
    | st.integers(-10, 200_000)
    | st.floats(allow_nan=False, allow_infinity=False)
)
dates = st.dates(BASE - dt.timedelta(days=820), BASE + dt.timedelta(days=820)).map(dt.date.isoformat)
day_counts = st.integers(0, 900) | st.just(10**12)
SCALARS = {Kind.TEXT: texts, Kind.NUMBER: numbers, Kind.DATE: dates, Kind.TIMESTAMP: dates}
SCALAR_OPS = ["eq", "ne", "lt", "le", "gt", "ge", "between", "in", "not_in", "is_null", "not_null"]
DAY_OPS = ["within_last_days", "older_than_days", "within_next_days"]


@st.composite
def conditions(draw):
    name = draw(st.sampled_from(sorted(FIELDS)))
    kind = FIELDS[name].kind
    if kind is Kind.TAGS:
        return {"field": name, "op": "has_tag", "value": draw(st.sampled_from([*TAGS, "FLEET", "x"]))}
    op = draw(st.sampled_from(SCALAR_OPS + (DAY_OPS if kind.is_date else [])))
    if op in ("is_null", "not_null"):
        return {"field": name, "op": op}
    if op in DAY_OPS:
        value = draw(day_counts)
    elif op == "between":
        value = draw(st.lists(SCALARS[kind], min_size=2, max_size=2))
    elif op in ("in", "not_in"):
        value = draw(st.lists(SCALARS[kind], min_size=1, max_size=4))
    else:
        value = draw(SCALARS[kind])
    return {"field": name, "op": op, "value": value}


criteria = st.recursive(
    conditions(),
    lambda children: st.one_of(
        st.lists(children, min_size=1, max_size=3).map(lambda items: {"all": items}),
        st.lists(children, min_size=1, max_size=3).map(lambda items: {"any": items}),
        children.map(lambda child: {"not": child}),
    ),
    max_leaves=6,
)
as_of_dates = st.sampled_from([BASE, BASE + dt.timedelta(days=1)]) | st.dates(dt.date(2023, 1, 1), dt.date(2026, 1, 1))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(criterion=criteria, as_of=as_of_dates)
def test_compiled_sql_selects_exactly_the_candidates_the_reference_matches(crowd, criterion, as_of):
    node = parse(json.dumps(criterion))
    assert selected_candidates(crowd, node, as_of) == expected_candidates(node, as_of)


# --- parse never fails otherwise ----------------------------------------------------------

KEYS = ["all", "any", "not", "field", "op", "value"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5)
    | st.sampled_from([*FIELDS, *(op.value for op in Op), "2024-02-29", "2023-02-29", "2024-13-01"]),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=3), children, max_size=4),
    max_leaves=12,
)
near_conditions = st.fixed_dictionaries(
    {"field": st.sampled_from(sorted(FIELDS)), "op": st.sampled_from([op.value for op in Op])},
    optional={"value": json_values},
)
documents = st.one_of(
    json_values.map(json.dumps),
    near_conditions.map(json.dumps),
    st.lists(near_conditions, min_size=1, max_size=3).map(lambda items: json.dumps({"all": items})),
    criteria.map(json.dumps),
    st.text(max_size=20),
    st.sampled_from(['{"field": "customer.first_name", "op": "eq", "value": "\\udc00"}', '{"a\\nb": 1}',
                     '{"all": [{"field": "vehicle.vin", "op": "is_null", "\\u2028": 1}]}', "NaN", "-Infinity", "{", "[]]"]),
)


@settings(max_examples=200, deadline=None)
@given(text=documents)
def test_parse_returns_a_criterion_or_raises_criterion_error_in_one_line(text):
    try:
        node = parse(text)
    except CriterionError as error:
        assert len(str(error).splitlines()) == 1
        return
    assert isinstance(node, (All, Any, Not, Condition))


@settings(max_examples=200, deadline=None)
@given(text=documents)
def test_every_parsed_criterion_compiles_evaluates_and_describes(text):
    try:
        node = parse(text)
    except CriterionError:
        return
    tables = dict(customer=Customer.__table__, vehicle=Vehicle.__table__, customer_tags=CustomerTag.__table__, as_of=BASE)
    for dialect in (sqlite.dialect(), psycopg.dialect()):
        assert str(compile_criterion(node, dialect=dialect.name, **tables).compile(dialect=dialect))
    assert evaluate(node, CUSTOMERS[1], None, set(), BASE) in (True, False, None)
    assert describe(node)


# --- several tags in one any (compiled to one probe of the customer's tags) ------------

has_tags = st.sampled_from([*TAGS, "FLEET", "x"]).map(lambda tag: {"field": "customer.tags", "op": "has_tag", "value": tag})
tag_anys = st.lists(has_tags | conditions(), min_size=2, max_size=5).filter(
    lambda items: sum(item["field"] == "customer.tags" for item in items) >= 2).map(lambda items: {"any": items})
tag_criteria = tag_anys | tag_anys.map(lambda node: {"not": node}) | st.tuples(tag_anys, conditions()).map(
    lambda pair: {"all": [pair[0], {"not": pair[1]}]})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(criterion=tag_criteria, as_of=as_of_dates)
def test_an_any_of_several_tags_selects_exactly_the_candidates_the_reference_matches(crowd, criterion, as_of):
    node = parse(json.dumps(criterion))
    assert selected_candidates(crowd, node, as_of) == expected_candidates(node, as_of)
