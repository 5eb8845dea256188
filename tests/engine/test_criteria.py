"""Criteria (RULES §4): every op on every kind of field, in SQL on both databases and
in the plain Python reference; every invalidity; event keys; words.

One small population serves every case. As of 2024-06-15 it has five candidates:

- ``civic``  — John SMITH's Honda Civic; tags fleet, VIP
- ``corolla``, ``camry`` — the two cars of Émile Zola (email ''); tag vip
- ``lower``  — émile smith, no vehicle, no tags
- ``nobody`` — a customer with every field empty, no vehicle
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from enroller_desktop.db.models import Customer, CustomerTag, Organization, Vehicle
from enroller_desktop.engine.criteria import (
    CriterionError,
    compile_criterion,
    describe,
    evaluate,
    event_key_sql,
    parse,
    validate_event_key,
)

AS_OF = dt.date(2024, 6, 15)
UTC = dt.timezone.utc


def _at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


_EMPTY_CUSTOMER = dict(first_name=None, last_name=None, email=None, created_at=None, last_purchase_at=None, last_inquiry_at=None)
_EMPTY_VEHICLE = dict(vin=None, year=None, make=None, model=None, odometer=None, purchase_date=None,
                      lease_end_date=None, last_service_date=None, warranty_end_date=None)

CUSTOMERS = {
    1: _EMPTY_CUSTOMER | dict(first_name="John", last_name="SMITH", email="john@example.com",
                              created_at=_at(2024, 6, 15, 23, 30), last_purchase_at=_at(2024, 3, 17, 8, 0),
                              last_inquiry_at=_at(2023, 1, 1)),
    2: _EMPTY_CUSTOMER | dict(first_name="Émile", last_name="Zola", email="", created_at=_at(2019, 1, 1),
                              last_inquiry_at=_at(2024, 6, 14, 23, 59, 59)),
    3: _EMPTY_CUSTOMER | dict(first_name="émile", last_name="smith", last_purchase_at=_at(2022, 1, 1, 12, 0)),
    4: dict(_EMPTY_CUSTOMER),
}
VEHICLES = {
    11: _EMPTY_VEHICLE | dict(customer_id=1, vin="1HGCM82633A004352", year=2020, make="Honda", model="Civic",
                              odometer=45000, purchase_date=dt.date(2020, 3, 1), lease_end_date=dt.date(2024, 9, 13),
                              last_service_date=dt.date(2024, 6, 15), warranty_end_date=dt.date(2024, 6, 14)),
    21: _EMPTY_VEHICLE | dict(customer_id=2, vin="JT2BF22K1W0123456", year=1999, make="toyota", model="Corolla",
                              purchase_date=dt.date(1999, 5, 5), last_service_date=dt.date(2024, 3, 16)),
    22: _EMPTY_VEHICLE | dict(customer_id=2, vin="4T1BF1FK5CU123456", year=2024, make="TOYOTA", model="Camry",
                              odometer=12, purchase_date=dt.date(2024, 6, 16), lease_end_date=dt.date(2024, 6, 15),
                              warranty_end_date=dt.date(2027, 6, 15)),
}
TAGS = {1: {"fleet", "VIP"}, 2: {"vip"}, 3: set(), 4: set()}
CANDIDATES = {(1, 11): "civic", (2, 21): "corolla", (2, 22): "camry", (3, None): "lower", (4, None): "nobody"}
EVERYONE = set(CANDIDATES.values())
CARS = {"civic", "corolla", "camry"}


def insert_population(conn: sa.Connection, customers=CUSTOMERS, vehicles=VEHICLES, tags=TAGS) -> None:
    conn.execute(sa.insert(Organization.__table__), [dict(id=1, name="Maple Motors", country="CA")])
    conn.execute(sa.insert(Customer.__table__), [dict(row, id=cid, organization_id=1) for cid, row in customers.items()])
    if vehicles:
        conn.execute(sa.insert(Vehicle.__table__), [dict(row, id=vid) for vid, row in vehicles.items()])
    tag_rows = [dict(customer_id=cid, tag=tag) for cid, names in tags.items() for tag in sorted(names)]
    if tag_rows:
        conn.execute(sa.insert(CustomerTag.__table__), tag_rows)


def candidates_query(criterion_text: str, dialect: str, as_of: dt.date) -> sa.Select:
    """The funnel's candidate query, as RULES §3 step 1 and the lead's funnel write it."""
    c = Customer.__table__.alias("c")
    v = Vehicle.__table__.alias("v")
    where = compile_criterion(parse(criterion_text), customer=c, vehicle=v, customer_tags=CustomerTag.__table__,
                              as_of=as_of, dialect=dialect)
    return (
        sa.select(c.c.id, v.c.id)
        .select_from(c.outerjoin(v, v.c.customer_id == c.c.id))
        .where(c.c.organization_id == 1, where)
    )


@pytest.fixture
def population(db):
    with db.write() as conn:
        insert_population(conn)
    return db


def sql_matches(db, criterion: dict, as_of: dt.date = AS_OF) -> set[str]:
    with db.read() as conn:
        rows = conn.execute(candidates_query(json.dumps(criterion), db.dialect, as_of)).all()
    return {CANDIDATES[(cid, vid)] for cid, vid in rows}


def python_matches(criterion: dict, as_of: dt.date = AS_OF) -> set[str]:
    node = parse(json.dumps(criterion))
    return {
        label
        for (cid, vid), label in CANDIDATES.items()
        if evaluate(node, CUSTOMERS[cid], VEHICLES.get(vid), TAGS[cid], as_of) is True
    }


def c(field: str, op: str, *value) -> dict:
    """A condition; ``value`` left out for is_null/not_null."""
    return {"field": field, "op": op, **({"value": value[0]} if value else {})}


# (criterion, the candidates it selects)
CASES = [
    # text: SMITH / Zola / Zola / smith / NULL
    pytest.param(c("customer.last_name", "eq", "smith"), {"civic", "lower"}, id="text-eq-ignores-ascii-case"),
    pytest.param(c("customer.last_name", "ne", "smith"), {"corolla", "camry"}, id="text-ne-null-is-unknown"),
    pytest.param(c("customer.last_name", "lt", "t"), {"civic", "lower"}, id="text-lt"),
    pytest.param(c("customer.last_name", "le", "SMITH"), {"civic", "lower"}, id="text-le"),
    pytest.param(c("customer.last_name", "gt", "smith"), {"corolla", "camry"}, id="text-gt"),
    pytest.param(c("customer.last_name", "ge", "zola"), {"corolla", "camry"}, id="text-ge"),
    pytest.param(c("customer.last_name", "between", ["S", "t"]), {"civic", "lower"}, id="text-between"),
    pytest.param(c("customer.last_name", "in", ["ZOLA", "doe"]), {"corolla", "camry"}, id="text-in"),
    pytest.param(c("customer.last_name", "not_in", ["Smith"]), {"corolla", "camry"}, id="text-not-in"),
    pytest.param(c("customer.last_name", "is_null"), {"nobody"}, id="text-is-null"),
    pytest.param(c("customer.last_name", "not_null"), {"civic", "corolla", "camry", "lower"}, id="text-not-null"),
    # accents: John / Émile / Émile / émile / NULL
    pytest.param(c("customer.first_name", "eq", "ÉMILE"), {"corolla", "camry"}, id="accented-capital-not-folded"),
    pytest.param(c("customer.first_name", "eq", "émile"), {"lower"}, id="accented-small-not-folded"),
    pytest.param(c("customer.first_name", "in", ["émile", "JOHN"]), {"civic", "lower"}, id="text-in-accented"),
    pytest.param(c("customer.first_name", "gt", "z"), {"corolla", "camry", "lower"}, id="accents-order-after-z-by-code-point"),
    pytest.param(c("customer.first_name", "lt", "émile"), {"civic", "corolla", "camry"}, id="capital-accent-before-small-accent"),
    pytest.param(c("customer.first_name", "lt", "_"), set(), id="folded-letters-order-after-underscore"),
    # '' is a value: john@example.com / '' / '' / NULL / NULL
    pytest.param(c("customer.email", "eq", ""), {"corolla", "camry"}, id="empty-text-equals-empty"),
    pytest.param(c("customer.email", "lt", "a"), {"corolla", "camry"}, id="empty-text-orders-first"),
    pytest.param(c("customer.email", "is_null"), {"lower", "nobody"}, id="empty-text-is-not-null"),
    pytest.param(c("vehicle.make", "eq", "Toyota"), {"corolla", "camry"}, id="vehicle-text-eq"),
    pytest.param(c("vehicle.vin", "eq", "1hgcm82633a004352"), {"civic"}, id="vin-eq"),
    pytest.param(c("vehicle.model", "in", ["civic", "CAMRY"]), {"civic", "camry"}, id="model-in"),
    # numbers: year 2020 / 1999 / 2024 / no vehicle
    pytest.param(c("vehicle.year", "eq", 2020), {"civic"}, id="number-eq"),
    pytest.param(c("vehicle.year", "eq", 2020.0), {"civic"}, id="number-eq-decimal-spelling"),
    pytest.param(c("vehicle.year", "eq", 2020.5), set(), id="number-eq-fraction"),
    pytest.param(c("vehicle.year", "ne", 2020), {"corolla", "camry"}, id="number-ne"),
    pytest.param(c("vehicle.year", "lt", 2020), {"corolla"}, id="number-lt"),
    pytest.param(c("vehicle.year", "le", 2020), {"civic", "corolla"}, id="number-le"),
    pytest.param(c("vehicle.year", "gt", 2020), {"camry"}, id="number-gt"),
    pytest.param(c("vehicle.year", "ge", 2020.5), {"camry"}, id="number-ge-fraction"),
    pytest.param(c("vehicle.year", "lt", 2019.5), {"corolla"}, id="number-lt-fraction"),
    pytest.param(c("vehicle.year", "between", [1999, 2020]), {"civic", "corolla"}, id="number-between"),
    pytest.param(c("vehicle.year", "in", [1999, 2024.0, 2020.5]), {"corolla", "camry"}, id="number-in"),
    pytest.param(c("vehicle.year", "not_in", [1999]), {"civic", "camry"}, id="number-not-in"),
    pytest.param(c("vehicle.year", "is_null"), {"lower", "nobody"}, id="number-is-null-without-vehicle"),
    pytest.param(c("vehicle.year", "not_null"), CARS, id="number-not-null"),
    pytest.param(c("vehicle.odometer", "is_null"), {"corolla", "lower", "nobody"}, id="odometer-is-null"),
    pytest.param(c("vehicle.odometer", "lt", 100), {"camry"}, id="odometer-lt"),
    pytest.param(c("vehicle.year", "lt", 10**30), CARS, id="number-beyond-int64"),
    pytest.param(c("vehicle.year", "gt", -(10**30)), CARS, id="number-below-int64"),
    pytest.param(c("vehicle.year", "eq", 10**30), set(), id="number-eq-beyond-int64"),
    # dates: lease end 2024-09-13 / NULL / 2024-06-15
    pytest.param(c("vehicle.lease_end_date", "eq", "2024-06-15"), {"camry"}, id="date-eq"),
    pytest.param(c("vehicle.lease_end_date", "ne", "2024-06-15"), {"civic"}, id="date-ne"),
    pytest.param(c("vehicle.lease_end_date", "lt", "2024-09-13"), {"camry"}, id="date-lt"),
    pytest.param(c("vehicle.lease_end_date", "le", "2024-09-13"), {"civic", "camry"}, id="date-le"),
    pytest.param(c("vehicle.lease_end_date", "gt", "2024-06-15"), {"civic"}, id="date-gt"),
    pytest.param(c("vehicle.lease_end_date", "ge", "2024-06-15"), {"civic", "camry"}, id="date-ge"),
    pytest.param(c("vehicle.lease_end_date", "between", ["2024-06-15", "2024-06-15"]), {"camry"}, id="date-between"),
    pytest.param(c("vehicle.lease_end_date", "in", ["2024-09-13", "2000-01-01"]), {"civic"}, id="date-in"),
    pytest.param(c("vehicle.lease_end_date", "not_in", ["2024-09-13"]), {"camry"}, id="date-not-in"),
    pytest.param(c("vehicle.lease_end_date", "is_null"), {"corolla", "lower", "nobody"}, id="date-is-null"),
    pytest.param(c("vehicle.lease_end_date", "not_null"), {"civic", "camry"}, id="date-not-null"),
    pytest.param(c("vehicle.lease_end_date", "within_next_days", 90), {"civic", "camry"}, id="within-next-includes-both-ends"),
    pytest.param(c("vehicle.lease_end_date", "within_next_days", 89), {"camry"}, id="within-next-excludes-beyond"),
    pytest.param(c("vehicle.lease_end_date", "within_next_days", 0), {"camry"}, id="within-next-zero-is-as-of"),
    pytest.param(c("vehicle.lease_end_date", "within_last_days", 0), {"camry"}, id="within-last-zero-is-as-of"),
    pytest.param(c("vehicle.lease_end_date", "older_than_days", 0), set(), id="older-than-zero-excludes-as-of"),
    # last service 2024-06-15 / 2024-03-16 (as-of - 91) / NULL
    pytest.param(c("vehicle.last_service_date", "within_last_days", 91), {"civic", "corolla"}, id="within-last-includes-start"),
    pytest.param(c("vehicle.last_service_date", "within_last_days", 90), {"civic"}, id="within-last-excludes-before"),
    pytest.param(c("vehicle.last_service_date", "older_than_days", 90), {"corolla"}, id="older-than"),
    pytest.param(c("vehicle.last_service_date", "older_than_days", 91), set(), id="older-than-is-strict"),
    # purchase 2020-03-01 / 1999-05-05 / 2024-06-16 (as-of + 1)
    pytest.param(c("vehicle.purchase_date", "within_last_days", 36500), {"civic", "corolla"}, id="within-last-excludes-future"),
    pytest.param(c("vehicle.purchase_date", "within_next_days", 1), {"camry"}, id="within-next-excludes-past"),
    pytest.param(c("vehicle.purchase_date", "within_last_days", 10**12), {"civic", "corolla"}, id="within-last-beyond-calendar"),
    pytest.param(c("vehicle.purchase_date", "within_next_days", 10**12), {"camry"}, id="within-next-beyond-calendar"),
    pytest.param(c("vehicle.purchase_date", "older_than_days", 10**12), set(), id="older-than-beyond-calendar"),
    pytest.param({"not": c("vehicle.purchase_date", "older_than_days", 10**12)}, CARS, id="older-than-beyond-calendar-unknown-when-empty"),
    pytest.param(c("vehicle.warranty_end_date", "within_next_days", 1095), {"camry"}, id="warranty-within-next"),
    pytest.param(c("vehicle.warranty_end_date", "lt", "2024-06-15"), {"civic"}, id="warranty-lt"),
    # timestamps by date: created 2024-06-15 23:30 / 2019-01-01 00:00 / NULL / NULL
    pytest.param(c("customer.created_at", "eq", "2024-06-15"), {"civic"}, id="timestamp-eq-ignores-time"),
    pytest.param(c("customer.created_at", "ne", "2024-06-15"), {"corolla", "camry"}, id="timestamp-ne"),
    pytest.param(c("customer.created_at", "lt", "2024-06-15"), {"corolla", "camry"}, id="timestamp-lt"),
    pytest.param(c("customer.created_at", "le", "2024-06-15"), CARS, id="timestamp-le-includes-late-same-day"),
    pytest.param(c("customer.created_at", "gt", "2019-01-01"), {"civic"}, id="timestamp-gt"),
    pytest.param(c("customer.created_at", "ge", "2019-01-01"), CARS, id="timestamp-ge"),
    pytest.param(c("customer.created_at", "between", ["2019-01-01", "2019-01-01"]), {"corolla", "camry"}, id="timestamp-between"),
    pytest.param(c("customer.created_at", "in", ["2019-01-01"]), {"corolla", "camry"}, id="timestamp-in"),
    pytest.param(c("customer.created_at", "not_in", ["2019-01-01"]), {"civic"}, id="timestamp-not-in"),
    pytest.param(c("customer.created_at", "is_null"), {"lower", "nobody"}, id="timestamp-is-null"),
    pytest.param(c("customer.created_at", "not_null"), CARS, id="timestamp-not-null"),
    pytest.param(c("customer.created_at", "within_last_days", 0), {"civic"}, id="timestamp-within-last-as-of-day"),
    pytest.param(c("customer.created_at", "within_next_days", 0), {"civic"}, id="timestamp-within-next-as-of-day"),
    pytest.param(c("customer.created_at", "older_than_days", 0), {"corolla", "camry"}, id="timestamp-older-than"),
    # last purchase 2024-03-17 08:00 (as-of - 90) / NULL / 2022-01-01 / NULL
    pytest.param(c("customer.last_purchase_at", "within_last_days", 90), {"civic"}, id="timestamp-within-last-start-day"),
    pytest.param(c("customer.last_purchase_at", "older_than_days", 89), {"civic", "lower"}, id="timestamp-older-than-day-before"),
    pytest.param(c("customer.last_purchase_at", "older_than_days", 90), {"lower"}, id="timestamp-older-than-strict"),
    # last inquiry 2023-01-01 / 2024-06-14 23:59:59
    pytest.param(c("customer.last_inquiry_at", "within_last_days", 1), {"corolla", "camry"}, id="timestamp-within-last-one-day"),
    # tags: {fleet, VIP} / {vip} / {} / {}
    pytest.param(c("customer.tags", "has_tag", "VIP"), {"civic"}, id="has-tag-exact-case"),
    pytest.param(c("customer.tags", "has_tag", "vip"), {"corolla", "camry"}, id="has-tag-other-case"),
    pytest.param(c("customer.tags", "has_tag", "gold"), set(), id="has-tag-none"),
    pytest.param({"not": c("customer.tags", "has_tag", "fleet")}, {"corolla", "camry", "lower", "nobody"}, id="not-has-tag-is-never-unknown"),
    # three-valued logic
    pytest.param({"not": c("customer.last_name", "eq", "smith")}, {"corolla", "camry"}, id="not-of-unknown-stays-unknown"),
    pytest.param({"not": {"not": c("vehicle.year", "eq", 2020)}}, {"civic"}, id="double-not"),
    pytest.param({"any": [c("vehicle.year", "eq", 2020), c("customer.last_name", "eq", "smith")]}, {"civic", "lower"}, id="any"),
    pytest.param({"any": [c("vehicle.year", "gt", 3000), c("vehicle.year", "is_null")]}, {"lower", "nobody"}, id="any-unknown-or-true"),
    pytest.param({"all": [c("vehicle.year", "gt", 2000), {"not": c("customer.tags", "has_tag", "fleet")}]}, {"camry"}, id="all"),
    pytest.param({"all": [c("vehicle.year", "is_null"), c("customer.last_name", "ne", "x")]}, {"lower"}, id="all-true-and-unknown-is-no-match"),
    pytest.param({"not": {"any": [c("vehicle.year", "eq", 2020), c("customer.email", "eq", "x")]}}, {"corolla", "camry"}, id="not-any-unknown"),
    pytest.param({"not": {"all": [c("vehicle.year", "is_null"), c("customer.last_name", "eq", "smith")]}},
                 CARS, id="not-all-false-or-unknown"),
    pytest.param({"any": [c("vehicle.year", "eq", 2020), {"not": c("vehicle.year", "eq", 2020)}]}, CARS, id="excluded-middle-fails-on-null"),
]


@pytest.mark.parametrize(("criterion", "expected"), CASES)
def test_compiled_sql_selects_the_matching_candidates(population, criterion, expected):
    assert sql_matches(population, criterion) == expected


@pytest.mark.parametrize(("criterion", "expected"), CASES)
def test_python_reference_selects_the_matching_candidates(criterion, expected):
    assert python_matches(criterion) == expected


def test_number_beyond_double_range_compares_as_infinity(population):
    criterion = '{"field": "vehicle.year", "op": "lt", "value": 1e400}'
    with population.read() as conn:
        rows = conn.execute(candidates_query(criterion, population.dialect, AS_OF)).all()
    assert {CANDIDATES[row] for row in rows} == CARS


def test_timestamp_compares_by_its_utc_date(db):
    evening_in_toronto = dt.datetime(2024, 6, 15, 21, 30, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    customers = {1: _EMPTY_CUSTOMER | dict(created_at=evening_in_toronto)}
    with db.write() as conn:
        insert_population(conn, customers, {}, {})
    criterion = json.dumps(c("customer.created_at", "eq", "2024-06-16"))
    with db.read() as conn:
        assert conn.execute(candidates_query(criterion, db.dialect, AS_OF)).all() == [(1, None)]


def test_text_orders_by_code_point_under_a_locale_collation(pg_db):
    """A column declared with a language's collation still compares by code point
    (a locale would put Émile before zola); the change to the column is rolled back."""
    with pg_db.engine.connect() as conn, conn.begin() as transaction:
        conn.exec_driver_sql('ALTER TABLE customers ALTER COLUMN first_name TYPE text COLLATE "und-x-icu"')
        insert_population(conn)
        criterion = json.dumps(c("customer.first_name", "gt", "z"))
        rows = conn.execute(candidates_query(criterion, "postgresql", AS_OF)).all()
        transaction.rollback()
    assert {CANDIDATES[row] for row in rows} == {"corolla", "camry", "lower"}


# --- invalid criteria ----------------------------------------------------------------


def _text(document) -> str:
    return document if isinstance(document, str) else json.dumps(document)


INVALID = [
    pytest.param("", "criterion: empty", id="empty-text"),
    pytest.param("{'field': 1}", "criterion: not valid JSON", id="not-json"),
    pytest.param('{"field": "vehicle.year", "op": "eq", "value": NaN}', "NaN is not a JSON number", id="nan"),
    pytest.param('{"field": "vehicle.year", "op": "eq", "value": Infinity}', "Infinity is not a JSON number", id="infinity"),
    pytest.param([c("vehicle.year", "eq", 1)], "criterion: expected a JSON object", id="top-level-list"),
    pytest.param("5", "criterion: expected a JSON object", id="top-level-number"),
    pytest.param({}, "criterion: empty object", id="empty-object"),
    pytest.param({"every": []}, "every: unknown key", id="unknown-combinator"),
    pytest.param({"all": []}, "all: 'all' needs a non-empty list", id="all-empty"),
    pytest.param({"any": []}, "any: 'any' needs a non-empty list", id="any-empty"),
    pytest.param({"all": c("vehicle.year", "eq", 1)}, "all: 'all' needs a non-empty list", id="all-not-a-list"),
    pytest.param({"any": "x"}, "any: 'any' needs a non-empty list", id="any-not-a-list"),
    pytest.param({"all": [c("vehicle.year", "eq", 1)], "any": [c("vehicle.year", "eq", 1)]}, "any: unexpected key beside 'all'", id="all-and-any"),
    pytest.param({"all": [c("vehicle.year", "eq", 1)], "op": "eq"}, "op: unexpected key beside 'all'", id="all-with-op"),
    pytest.param({"all": [5]}, "all[0]: expected a JSON object", id="all-item-not-object"),
    pytest.param({"not": [c("vehicle.year", "eq", 1)]}, "not: expected a JSON object", id="not-of-list"),
    pytest.param({"not": c("vehicle.year", "eq", 1), "field": "vehicle.year"}, "field: unexpected key beside 'not'", id="not-with-field"),
    pytest.param('{"field": "vehicle.year", "field": "vehicle.make", "op": "is_null"}', "field: key given twice", id="duplicate-key"),
    pytest.param({"field": "customer.age", "op": "eq", "value": 5}, 'field: unknown field "customer.age"', id="unknown-field"),
    pytest.param({"field": "Customer.First_Name", "op": "is_null"}, 'field: unknown field "Customer.First_Name"', id="field-case"),
    pytest.param({"field": 5, "op": "is_null"}, "field: unknown field 5", id="field-not-text"),
    pytest.param({"op": "is_null"}, "field: missing", id="field-missing"),
    pytest.param({"field": "vehicle.year", "op": "like", "value": 1}, 'op: unknown op "like"', id="unknown-op"),
    pytest.param({"field": "vehicle.year", "op": "EQ", "value": 1}, 'op: unknown op "EQ"', id="op-case"),
    pytest.param({"field": "vehicle.year", "op": None}, "op: unknown op null", id="op-null"),
    pytest.param({"field": "vehicle.year", "value": 1}, "op: missing", id="op-missing"),
    pytest.param({"field": "vehicle.year", "op": "eq"}, "value: missing; 'eq' needs a value", id="value-missing"),
    pytest.param({"field": "vehicle.year", "op": "eq", "value": 1, "values": 2}, "values: unexpected key in a condition", id="extra-key"),
    pytest.param({"field": "vehicle.year", "op": "is_null", "value": None}, "value: 'is_null' takes no value", id="is-null-value-null"),
    pytest.param({"field": "vehicle.year", "op": "not_null", "value": 1}, "value: 'not_null' takes no value", id="not-null-value"),
    pytest.param(c("customer.first_name", "eq", 5), "value: customer.first_name compares with text, got 5", id="text-field-number"),
    pytest.param(c("customer.first_name", "eq", None), "value: customer.first_name compares with text, got null", id="text-field-null"),
    pytest.param(c("customer.first_name", "eq", ["a"]), "value: customer.first_name compares with text", id="text-field-list"),
    pytest.param(c("customer.first_name", "eq", "a\x00b"), "value: text cannot hold the NUL character", id="text-nul"),
    pytest.param('{"field": "customer.first_name", "op": "eq", "value": "\\ud800"}', "value: text holds an unpaired surrogate", id="text-surrogate"),
    pytest.param(c("vehicle.year", "eq", "2020"), 'value: vehicle.year compares with a number, got "2020"', id="number-field-text"),
    pytest.param(c("vehicle.year", "eq", True), "value: vehicle.year compares with a number, got true", id="number-field-boolean"),
    pytest.param(c("vehicle.odometer", "gt", None), "value: vehicle.odometer compares with a number, got null", id="number-field-null"),
    pytest.param(c("vehicle.lease_end_date", "eq", "2024-6-1"), "value: vehicle.lease_end_date compares with a date 'YYYY-MM-DD'", id="date-short"),
    pytest.param(c("vehicle.lease_end_date", "eq", "2024-06-01T00:00"), "compares with a date 'YYYY-MM-DD'", id="date-with-time"),
    pytest.param(c("vehicle.lease_end_date", "eq", "20240601"), "compares with a date 'YYYY-MM-DD'", id="date-compact"),
    pytest.param(c("vehicle.lease_end_date", "eq", 20240601), "compares with a date 'YYYY-MM-DD', got 20240601", id="date-number"),
    pytest.param(c("vehicle.lease_end_date", "eq", "２０２４-06-01"), "compares with a date 'YYYY-MM-DD'", id="date-non-ascii-digits"),
    pytest.param(c("customer.created_at", "eq", "2024-02-30"), 'value: "2024-02-30" is not a real date', id="date-not-real"),
    pytest.param(c("customer.created_at", "eq", "0000-01-01"), 'value: "0000-01-01" is not a real date', id="date-year-zero"),
    pytest.param(c("vehicle.year", "between", [1]), "value: 'between' needs a two-item list [low, high], got [1]", id="between-one"),
    pytest.param(c("vehicle.year", "between", [1, 2, 3]), "value: 'between' needs a two-item list", id="between-three"),
    pytest.param(c("vehicle.year", "between", 1), "value: 'between' needs a two-item list", id="between-scalar"),
    pytest.param(c("vehicle.year", "between", {"low": 1, "high": 2}), "value: 'between' needs a two-item list", id="between-object"),
    pytest.param(c("vehicle.year", "between", [1, "2"]), "value[1]: vehicle.year compares with a number", id="between-item-type"),
    pytest.param(c("vehicle.purchase_date", "between", ["2024-01-01", None]), "value[1]: vehicle.purchase_date compares with a date", id="between-null"),
    pytest.param(c("vehicle.make", "in", []), "value: 'in' needs a non-empty list", id="in-empty"),
    pytest.param(c("vehicle.make", "not_in", []), "value: 'not_in' needs a non-empty list", id="not-in-empty"),
    pytest.param(c("vehicle.make", "in", "Honda"), "value: 'in' needs a non-empty list, got \"Honda\"", id="in-scalar"),
    pytest.param(c("vehicle.make", "in", ["Honda", 5]), "value[1]: vehicle.make compares with text, got 5", id="in-item-type"),
    pytest.param(c("vehicle.year", "not_in", [2020, None]), "value[1]: vehicle.year compares with a number, got null", id="not-in-null-item"),
    pytest.param(c("customer.first_name", "within_last_days", 5), "op: 'within_last_days' needs a date field; customer.first_name is text", id="day-op-text"),
    pytest.param(c("vehicle.odometer", "older_than_days", 5), "op: 'older_than_days' needs a date field; vehicle.odometer is number", id="day-op-number"),
    pytest.param(c("vehicle.lease_end_date", "within_next_days", 5.0), "value: 'within_next_days' needs a whole number of days >= 0 (a JSON integer), got 5.0", id="days-decimal"),
    pytest.param(c("vehicle.lease_end_date", "within_next_days", True), "needs a whole number of days >= 0 (a JSON integer), got true", id="days-boolean"),
    pytest.param(c("vehicle.lease_end_date", "within_last_days", -1), "needs a whole number of days >= 0 (a JSON integer), got -1", id="days-negative"),
    pytest.param(c("vehicle.lease_end_date", "older_than_days", "5"), 'needs a whole number of days >= 0 (a JSON integer), got "5"', id="days-text"),
    pytest.param(c("vehicle.lease_end_date", "older_than_days", [5]), "needs a whole number of days >= 0", id="days-list"),
    pytest.param(c("customer.first_name", "has_tag", "fleet"), "op: 'has_tag' applies only to customer.tags, not customer.first_name", id="has-tag-other-field"),
    pytest.param(c("customer.tags", "eq", "fleet"), "op: customer.tags takes only 'has_tag', not 'eq'", id="tags-eq"),
    pytest.param(c("customer.tags", "in", ["fleet"]), "op: customer.tags takes only 'has_tag', not 'in'", id="tags-in"),
    pytest.param(c("customer.tags", "is_null"), "op: customer.tags takes only 'has_tag', not 'is_null'", id="tags-is-null"),
    pytest.param(c("customer.tags", "has_tag", 5), "value: 'has_tag' needs a tag as text, got 5", id="has-tag-number"),
    pytest.param(c("customer.tags", "has_tag", ["fleet"]), "value: 'has_tag' needs a tag as text", id="has-tag-list"),
    pytest.param({"all": [c("vehicle.year", "eq", 1), c("vehicle.year", "between", [1])]}, "all[1].value: 'between' needs a two-item list", id="path-in-all"),
    pytest.param({"any": [{"not": {"all": [c("vehicle.year", "eq", 1), {"field": "vehicle.yr", "op": "is_null"}]}}]},
                 'any[0].not.all[1].field: unknown field "vehicle.yr"', id="path-deep"),
    pytest.param({"all": [c("vehicle.year", "eq", 1), c("vehicle.make", "in", ["a", 1])]}, "all[1].value[1]: vehicle.make compares with text", id="path-list-item"),
    pytest.param('{"not": ' * 60 + '{"field": "vehicle.year", "op": "is_null"}' + "}" * 60, "nested deeper than 50 levels", id="too-deep"),
    pytest.param("[" * 100_000 + "]" * 100_000, "criterion: nested deeper than 50 levels", id="deeper-than-python"),
]


@pytest.mark.parametrize(("document", "fault"), INVALID)
def test_invalid_criterion_is_refused_naming_the_fault_and_where(document, fault):
    with pytest.raises(CriterionError) as raised:
        parse(_text(document))
    assert fault in str(raised.value)
    assert "\n" not in str(raised.value)


def test_criterion_that_is_not_text_is_refused():
    with pytest.raises(CriterionError, match="criterion: empty"):
        parse(None)


def test_criterion_error_is_a_value_error():
    assert issubclass(CriterionError, ValueError)


def test_day_count_zero_is_valid():
    assert parse(_text(c("vehicle.lease_end_date", "within_next_days", 0)))


def test_empty_text_and_empty_tag_are_valid_values():
    assert parse(_text({"all": [c("customer.email", "eq", ""), c("customer.tags", "has_tag", "")]}))


def test_parsed_criterion_is_immutable_and_equal_to_itself_parsed_again():
    text = _text({"all": [c("vehicle.year", "in", [2020, 2021]), {"not": c("customer.tags", "has_tag", "fleet")}]})
    node = parse(text)
    assert node == parse(text)
    assert hash(node) == hash(parse(text))


# --- event keys ----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["", None, "customer.first_name", "vehicle.year", "vehicle.lease_end_date", "customer.created_at"])
def test_event_key_of_a_field_or_none_is_accepted(field):
    assert validate_event_key(field) == (field or None)


@pytest.mark.parametrize(
    ("field", "fault"),
    [
        ("customer.tags", "event_key: customer.tags cannot key an event"),
        ("customer.phone", 'event_key: unknown field "customer.phone"'),
        ("lease_end_date", 'event_key: unknown field "lease_end_date"'),
        (" ", 'event_key: unknown field " "'),
    ],
)
def test_event_key_of_no_such_field_is_refused(field, fault):
    with pytest.raises(CriterionError) as raised:
        validate_event_key(field)
    assert str(raised.value) == fault


EVENT_KEYS = [
    pytest.param(None, {"civic": "", "corolla": "", "camry": "", "lower": "", "nobody": ""}, id="none"),
    pytest.param("", {"civic": "", "corolla": "", "camry": "", "lower": "", "nobody": ""}, id="empty"),
    pytest.param("customer.last_name", {"civic": "SMITH", "corolla": "Zola", "camry": "Zola", "lower": "smith", "nobody": ""}, id="text-as-stored"),
    pytest.param("customer.email", {"civic": "john@example.com", "corolla": "", "camry": "", "lower": "", "nobody": ""}, id="text-empty-and-null"),
    pytest.param("vehicle.vin", {"civic": "1HGCM82633A004352", "corolla": "JT2BF22K1W0123456", "camry": "4T1BF1FK5CU123456", "lower": "", "nobody": ""}, id="vin"),
    pytest.param("vehicle.odometer", {"civic": "45000", "corolla": "", "camry": "12", "lower": "", "nobody": ""}, id="number-digits"),
    pytest.param("vehicle.year", {"civic": "2020", "corolla": "1999", "camry": "2024", "lower": "", "nobody": ""}, id="year-digits"),
    pytest.param("vehicle.lease_end_date", {"civic": "2024-09-13", "corolla": "", "camry": "2024-06-15", "lower": "", "nobody": ""}, id="date-iso"),
    pytest.param("customer.created_at", {"civic": "2024-06-15", "corolla": "2019-01-01", "camry": "2019-01-01", "lower": "", "nobody": ""}, id="timestamp-date"),
    pytest.param("customer.last_purchase_at", {"civic": "2024-03-17", "corolla": "", "camry": "", "lower": "2022-01-01", "nobody": ""}, id="timestamp-date-no-time"),
]


def _event_keys(db, field) -> dict[str, str]:
    c = Customer.__table__.alias("c")
    v = Vehicle.__table__.alias("v")
    stmt = sa.select(c.c.id, v.c.id, event_key_sql(field, customer=c, vehicle=v, dialect=db.dialect)).select_from(
        c.outerjoin(v, v.c.customer_id == c.c.id)
    )
    with db.read() as conn:
        return {CANDIDATES[(cid, vid)]: key for cid, vid, key in conn.execute(stmt)}


@pytest.mark.parametrize(("field", "expected"), EVENT_KEYS)
def test_event_key_text_of_each_kind_of_field(population, field, expected):
    assert _event_keys(population, field) == expected


def test_event_key_of_a_timestamp_is_its_utc_date(db):
    evening_in_toronto = dt.datetime(2024, 6, 15, 21, 30, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    with db.write() as conn:
        insert_population(conn, {1: _EMPTY_CUSTOMER | dict(last_inquiry_at=evening_in_toronto)}, {}, {})
    c = Customer.__table__
    with db.read() as conn:
        key = conn.scalar(sa.select(event_key_sql("customer.last_inquiry_at", customer=c, vehicle=Vehicle.__table__, dialect=db.dialect)))
    assert key == "2024-06-16"


def test_event_key_sql_refuses_an_invalid_field():
    with pytest.raises(CriterionError, match="customer.tags cannot key an event"):
        event_key_sql("customer.tags", customer=Customer.__table__, vehicle=Vehicle.__table__, dialect="sqlite")


# --- words ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "words"),
    [
        ({"all": [c("vehicle.lease_end_date", "within_next_days", 90), {"not": c("customer.tags", "has_tag", "fleet")}]},
         'Vehicle lease end date within the next 90 days and not (customer has tag "fleet")'),
        (c("customer.last_purchase_at", "older_than_days", 1), "Customer last purchase date more than 1 day ago"),
        (c("vehicle.last_service_date", "within_last_days", 365), "Vehicle last service date within the last 365 days"),
        ({"any": [c("vehicle.year", "between", [2015, 2020]), {"all": [c("vehicle.make", "in", ["Honda", "Acura"]), c("vehicle.odometer", "ge", 50000)]}]},
         'Vehicle year is between 2015 and 2020 or (vehicle make is one of "Honda", "Acura" and vehicle odometer is at least 50000)'),
        (c("customer.email", "is_null"), "Customer email is empty"),
        (c("customer.created_at", "lt", "2024-01-01"), "Customer creation date is before 2024-01-01"),
        (c("customer.last_name", "ne", "Émile \"E\""), 'Customer last name is not "Émile \\"E\\""'),
        (c("vehicle.model", "not_in", ["Civic"]), 'Vehicle model is none of "Civic"'),
        (c("customer.first_name", "gt", "m"), 'Customer first name comes after "m"'),
    ],
)
def test_describe_says_the_criterion_in_words(criterion, words):
    assert describe(parse(json.dumps(criterion))) == words
