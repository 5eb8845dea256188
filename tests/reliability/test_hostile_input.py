"""Hostile input: criteria JSON of every shape, and text built to break SQL, CSV
and eyes.

NUL characters: PostgreSQL text cannot hold U+0000, and psycopg refuses such a
value before it reaches the server ("PostgreSQL text fields cannot contain NUL
(0x00) bytes", a ``DataError``). So on PostgreSQL no system can store a customer
whose name holds one: the engine never meets it. On SQLite it can be stored, and
the engine carries it through unchanged. In a criterion (our own input) NUL is
refused on both databases with a message naming where it is, so a criterion
means the same on both.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from enroller_desktop.db import models as m
from enroller_desktop.db.enums import RunStatus, RunStep
from enroller_desktop.engine import criteria
from enroller_desktop.engine.runs import COUNT_COLUMNS, create_run, execute_run
from enroller_desktop.export import FORMULA_STARTS
from tests.reliability.conftest import run_cli
from tests.builders import (
    AS_OF,
    CUSTOMER_TAGS,
    CUSTOMERS,
    POTENTIALS,
    QUERY_PARAMS,
    VEHICLES,
    insert_campaign,
    insert_customer,
    insert_organization,
    insert_query_param,
    insert_vehicle,
)


HOSTILE_TEXT = (
    "'); DROP TABLE customers;--",
    "Robert'); DELETE FROM campaign_customers; --",
    "\" OR 1=1 --",
    "O'Brien \"the\" `tick`",
    "%_\\ like wildcards",
    "\u202eevil\u202c right-to-left override",
    "\u200fمرحبا\u200f",
    "=HYPERLINK(\"http://x\",\"click\")",
    "+1-555",
    "-cmd",
    "@SUM(A1:A9)",
    "\tTabbed",
    "\rReturned",
    "line\nbreak",
    "Zoë 🚗 ＡＢＣ",
    "x" * 10_000,
)
NUL_TEXT = "nul\x00byte"

TEXT_FIELDS = [name for name, field in criteria.FIELDS.items() if field.kind is criteria.Kind.TEXT]
NUMBER_FIELDS = [name for name, field in criteria.FIELDS.items() if field.kind is criteria.Kind.NUMBER]
DATE_FIELDS = [name for name, field in criteria.FIELDS.items() if field.kind.is_date]

# -- criteria of every shape --------------------------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30) | st.sampled_from(HOSTILE_TEXT)
numbers = (st.integers(min_value=-(10**30), max_value=10**30)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.sampled_from([0, -0.0, 2**63, -(2**63) - 1, 1.7976931348623157e308, 5e-324]))
dates = st.dates().map(dt.date.isoformat)
days = st.integers(min_value=0, max_value=10**12)


def _condition(field_names, values, ops) -> st.SearchStrategy:
    return st.builds(lambda f, op, v: {"field": f, "op": op, "value": v},
                     st.sampled_from(field_names), st.sampled_from(ops), values)


def _valid_leaf() -> st.SearchStrategy:
    scalar_ops = ["eq", "ne", "lt", "le", "gt", "ge"]
    return st.one_of(
        _condition(TEXT_FIELDS, texts, scalar_ops),
        _condition(NUMBER_FIELDS, numbers, scalar_ops),
        _condition(DATE_FIELDS, dates, scalar_ops),
        _condition(TEXT_FIELDS, st.lists(texts, min_size=1, max_size=4), ["in", "not_in"]),
        _condition(NUMBER_FIELDS, st.lists(numbers, min_size=2, max_size=2), ["between"]),
        _condition(DATE_FIELDS, st.lists(dates, min_size=2, max_size=2), ["between"]),
        _condition(DATE_FIELDS, days, ["within_last_days", "older_than_days", "within_next_days"]),
        st.builds(lambda f, op: {"field": f, "op": op}, st.sampled_from(list(criteria.FIELDS.keys() - {"customer.tags"})),
                  st.sampled_from(["is_null", "not_null"])),
        st.builds(lambda tag: {"field": "customer.tags", "op": "has_tag", "value": tag}, texts),
    )


valid_criteria = st.recursive(
    _valid_leaf(),
    lambda inner: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda item: {"not": item}, inner),
    ),
    max_leaves=8,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
    | st.sampled_from(["customer.email", "vehicle.year", "eq", "has_tag", "between", "all", "any", "not"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["field", "op", "value", "all", "any", "not", "x"]) | st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)
odd_texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "   ", "NaN", "Infinity", "-Infinity", "1e999", "[" * 5000 + "]" * 5000,
                     '{"not": ' * 100 + "{}" + "}" * 100, '{"field": "vehicle.year", "op": "gt", "value": NaN}',
                     '{"field": "vehicle.year", "op": "gt", "value": 1e999}', "null", "[]", "{}",
                     '{"field": "customer.first_name", "op": "eq", "value": "a\\u0000b"}',
                     '{"field": "customer.first_name", "op": "eq", "value": "\\ud800"}',
                     '{"field": "vehicle.year", "op": "gt", "value": 1, "value": 2}']),
)


def _hostile_criterion_text(document) -> str:
    return json.dumps(document, allow_nan=True)


@pytest.fixture
def campaign_over_hostile_data(db):
    """A campaign over customers and vehicles holding hostile and extreme values;
    returns (campaign id, query param id)."""
    with db.write() as conn:
        org = insert_organization(conn, name=HOSTILE_TEXT[0])
        cid = insert_campaign(conn, org, name=HOSTILE_TEXT[5])
        param = insert_query_param(conn, cid, {"field": "vehicle.year", "op": "gt", "value": 0}, name="Hostile")
        for index, text in enumerate(HOSTILE_TEXT):
            person = insert_customer(conn, org, first_name=text, last_name=text, email=text, phone=text, mobile=text,
                              last_purchase_at=AS_OF - dt.timedelta(days=index), created_at=AS_OF)
            conn.execute(CUSTOMER_TAGS.insert().values(customer_id=person, tag=text))
            insert_vehicle(conn, person, vin=text, make=text, model=text, year=(-(2**31), 0, 2**31 - 1)[index % 3],
                    odometer=(2**31 - 1) * (-1) ** index, purchase_date=(dt.date.min, dt.date.max, AS_OF.date())[index % 3],
                    lease_end_date=dt.date.max, warranty_end_date=dt.date.min)
        insert_customer(conn, org, first_name=None, last_name=None)
    return cid, param


def _run_with_criterion(db, campaign_id: int, param_id: int, text: str):
    with db.write() as conn:
        conn.execute(sa.update(QUERY_PARAMS).where(QUERY_PARAMS.c.id == param_id).values(criterion=text))
    return execute_run(db, create_run(db, campaign_id=campaign_id, as_of=AS_OF))


HYPOTHESIS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                               HealthCheck.too_slow])


@HYPOTHESIS
@given(document=valid_criteria)
def test_a_valid_criterion_of_any_shape_runs_to_completion(db, campaign_over_hostile_data, document):
    campaign_id, param_id = campaign_over_hostile_data
    outcome = _run_with_criterion(db, campaign_id, param_id, json.dumps(document))
    assert outcome.status is RunStatus.COMPLETED, outcome.error_message


@HYPOTHESIS
@given(text=json_values.map(_hostile_criterion_text) | odd_texts)
def test_any_criterion_text_completes_or_ends_in_error_naming_the_fault(db, campaign_over_hostile_data, text):
    campaign_id, param_id = campaign_over_hostile_data
    assume(db.is_sqlite or "\x00" not in text)  # PostgreSQL text cannot hold it (see above)
    try:
        criteria.parse(text)
        fault = None
    except criteria.CriterionError as exc:
        fault = str(exc)

    outcome = _run_with_criterion(db, campaign_id, param_id, text)

    if fault is None:
        assert outcome.status is RunStatus.COMPLETED, outcome.error_message
        return
    assert (outcome.status, outcome.step) == (RunStatus.ERROR, RunStep.CRITERIONS)
    assert outcome.error_message == f"Query param 'Hostile' (id {param_id}) has an invalid criterion: {fault}"
    assert len(outcome.error_message.splitlines()) == 1
    assert all(outcome.counts[name] is None for name in COUNT_COLUMNS)


# -- text that tries to break out ----------------------------------------------------

def _table_sizes(conn) -> dict[str, int]:
    names = sa.inspect(conn).get_table_names()
    return {name: conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one() for name in names}


def _hostile_campaign(db):
    """A campaign whose query params match customers by the hostile text itself."""
    with db.write() as conn:
        org = insert_organization(conn, country="US")
        cid = insert_campaign(conn, org, name=HOSTILE_TEXT[0], channels="E")
        conn.execute(m.CampaignExcludedTag.__table__.insert().values(campaign_id=cid, tag=HOSTILE_TEXT[2]))
        people = []
        for text in HOSTILE_TEXT:
            person = insert_customer(conn, org, first_name=text, last_name=text, email=text)
            conn.execute(CUSTOMER_TAGS.insert().values(customer_id=person, tag=text))
            insert_vehicle(conn, person, make=text, vin=text)
            people.append(person)
        insert_query_param(conn, cid, {"field": "customer.first_name", "op": "in", "value": list(HOSTILE_TEXT)},
                    name=HOSTILE_TEXT[1], event_key="vehicle.vin")
        insert_query_param(conn, cid, {"any": [{"field": "customer.tags", "op": "has_tag", "value": text} for text in HOSTILE_TEXT]},
                    name=HOSTILE_TEXT[7], process_order=2, event_key="vehicle.make")
    return cid, people


def test_hostile_text_is_stored_read_back_and_run_over_unchanged(db):
    campaign_id, people = _hostile_campaign(db)
    with db.read() as conn:
        sizes = _table_sizes(conn)

    outcome = execute_run(db, create_run(db, campaign_id=campaign_id, as_of=AS_OF))

    assert outcome.status is RunStatus.COMPLETED, outcome.error_message
    assert outcome.counts["query_param_customers"] == len(HOSTILE_TEXT)
    with db.read() as conn:
        stored = conn.execute(sa.select(CUSTOMERS.c.id, CUSTOMERS.c.first_name, CUSTOMERS.c.last_name, CUSTOMERS.c.email)
                              .where(CUSTOMERS.c.id.in_(people)).order_by(CUSTOMERS.c.id)).all()
        assert [tuple(row[1:]) for row in stored] == [(text, text, text) for text in HOSTILE_TEXT]
        assert sorted(conn.execute(sa.select(CUSTOMER_TAGS.c.tag)).scalars()) == sorted(HOSTILE_TEXT)
        assert sorted(conn.execute(sa.select(VEHICLES.c.make)).scalars()) == sorted(HOSTILE_TEXT)
        names = conn.execute(sa.select(POTENTIALS.c.first_name, POTENTIALS.c.event_key)
                             .where(POTENTIALS.c.run_id == outcome.id)).all()
        assert sorted(names) == sorted((text, text) for text in HOSTILE_TEXT)
        after = _table_sizes(conn)
    grown = {name for name in after if after[name] != sizes[name]}
    assert after.keys() == sizes.keys()
    assert grown <= {"enroller_runs", "enroller_run_events", "enroller_run_query_params", "enroller_run_customers",
                     "campaign_customers", "contact_verdicts"}


def test_a_filter_holding_nul_ends_the_run_in_error_naming_where(db):
    with db.write() as conn:
        cid = insert_campaign(conn, insert_organization(conn))
        param = insert_query_param(conn, cid, {"all": [{"field": "customer.last_name", "op": "eq", "value": NUL_TEXT}]},
                            name="Nul")
    outcome = execute_run(db, create_run(db, campaign_id=cid, as_of=AS_OF))
    assert (outcome.status, outcome.step) == (RunStatus.ERROR, RunStep.CRITERIONS)
    assert f"(id {param})" in outcome.error_message and "all[0].value" in outcome.error_message
    assert "NUL" in outcome.error_message


def test_a_name_holding_nul_is_stored_and_run_over_on_sqlite(sqlite_db):
    with sqlite_db.write() as conn:
        org = insert_organization(conn)
        cid = insert_campaign(conn, org, channels="E")
        insert_query_param(conn, cid, {"field": "customer.last_name", "op": "not_null"})
        person = insert_customer(conn, org, first_name=NUL_TEXT, last_name=NUL_TEXT, email=NUL_TEXT)
    outcome = execute_run(sqlite_db, create_run(sqlite_db, campaign_id=cid, as_of=AS_OF))
    assert outcome.status is RunStatus.COMPLETED
    with sqlite_db.read() as conn:
        assert conn.execute(sa.select(POTENTIALS.c.first_name).where(POTENTIALS.c.customer_id == person)).scalar_one() == NUL_TEXT


def test_postgresql_refuses_a_name_holding_nul_before_it_is_stored(pg_db):
    with pg_db.write() as conn:
        org = insert_organization(conn)
    with pytest.raises(sa.exc.DataError, match="NUL"):
        with pg_db.write() as conn:
            insert_customer(conn, org, first_name=NUL_TEXT)
    with pg_db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(CUSTOMERS)).scalar_one() == 0


# -- CSV export of it ----------------------------------------------------------------

def _guarded(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def test_exported_potentials_keep_hostile_text_and_never_start_a_formula(db, db_url, tmp_path, cli_env):
    campaign_id, _ = _hostile_campaign(db)
    run = execute_run(db, create_run(db, campaign_id=campaign_id, as_of=AS_OF))
    out = tmp_path / "potentials.csv"

    result = run_cli(["--db", db_url, "export", str(run.id), "--tab", "potentials", "--out", str(out)], cli_env)

    assert result.returncode == 0, result.stderr
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    cells = [cell for row in rows[1:] for cell in row]
    for text in HOSTILE_TEXT:
        assert cells.count(_guarded(text)) >= 2, text[:40]  # first and last name at least
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell[:40]
        assert not cell.startswith("-") or _is_number(cell), cell[:40]


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False
