"""The consent forecast equals a plain Python count over the customers, for random
times of "now": around the 730th/731st and 183rd/184th days, leap days, express
consent after a withdrawal, purchases in the future, deleted customers, and
active or finished enrollments."""

from __future__ import annotations

import collections
import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enroller_desktop.db.enums import CampaignCustomerStatus
from enroller_desktop.engine import consent_outlook
from enroller_desktop.errors import UserError
from tests.builders import campaign, customer, enrollment, midnight, organization

UTC = dt.timezone.utc
MICRO = dt.timedelta(microseconds=1)

now_times = st.builds(
    lambda day, seconds: midnight(day) + dt.timedelta(seconds=seconds),
    st.sampled_from([dt.date(2024, 2, 28), dt.date(2024, 2, 29), dt.date(2024, 3, 1), dt.date(2026, 2, 28),
                     dt.date(2026, 3, 1), dt.date(2025, 12, 31)]),
    st.sampled_from([0, 43200, 86399]),
)


def moments(now: dt.datetime):
    around = st.builds(
        lambda days, seconds: midnight(now.date()) + dt.timedelta(days=days, seconds=seconds),
        st.sampled_from([-800, -731, -730, -729, -700, -650, -184, -183, -182, -150, -100, -1, 0, 1, 30]),
        st.sampled_from([0, 43200, 86399]),
    )
    return st.none() | around | st.sampled_from([now - MICRO, now, now + MICRO])


@st.composite
def worlds(draw):
    now = draw(now_times)
    moment = moments(now)
    people = draw(st.lists(st.fixed_dictionaries({
        "last_purchase_at": moment,
        "last_inquiry_at": moment,
        "casl_withdrawn_at": moment,
        "casl_express_consent_at": moment,
        "deleted": st.sampled_from([False, False, True]),
        "enrollment": st.sampled_from([None, "queued", "completed", "expired", "other_campaign"]),
    }), min_size=1, max_size=6))
    days = draw(st.sampled_from([0, 1, 30, 90, 183, 731]))
    return now, days, people


def python_count(now: dt.datetime, days: int, people: list[dict], campaign_only: bool) -> dict[dt.date, list[int]]:
    today = now.date()
    counts: dict[dt.date, list[int]] = collections.defaultdict(lambda: [0, 0])
    for person in people:
        def counts_now(name):
            return person[name] is not None and person[name] <= now

        if person["deleted"] or counts_now("casl_express_consent_at") or counts_now("casl_withdrawn_at"):
            continue
        ends = [person[name].date() + dt.timedelta(days=span)
                for name, span in (("last_purchase_at", 730), ("last_inquiry_at", 183)) if counts_now(name)]
        if not ends or not today <= max(ends) <= today + dt.timedelta(days=days):
            continue
        active = person["enrollment"] == "queued" or (person["enrollment"] == "other_campaign" and not campaign_only)
        counts[max(ends)][0] += 1
        counts[max(ends)][1] += active
    return dict(counts)


def build(db, people: list[dict]) -> tuple[int, int]:
    org = organization(db, "CA")
    this, other = campaign(db, org), campaign(db, org, name="Other")
    for person in people:
        values = {k: v for k, v in person.items() if k != "enrollment"}
        person_id = customer(db, org, **values).id
        plan = person["enrollment"]
        if plan is not None:
            enrollment(db, other if plan == "other_campaign" else this, person_id,
                       status=CampaignCustomerStatus.COMPLETED if plan == "completed" else CampaignCustomerStatus.QUEUED,
                       expired_at=midnight(dt.date(2020, 1, 1)) if plan == "expired" else None)
    return org, this


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=worlds(), campaign_only=st.booleans())
def test_the_forecast_is_a_plain_count_of_the_customers(db, world, campaign_only):
    now, days, people = world
    org, this = build(db, people)
    with db.read() as conn:
        result = consent_outlook.forecast(conn, org, campaign_id=this if campaign_only else None, days=days, now=now)
    found = {day.date: [day.customers, day.active_enrollments] for day in result.lapsing}
    assert found == python_count(now, days, people, campaign_only)
    assert result.customers == sum(c for c, _ in found.values())
    with db.read() as conn:
        listed = conn.execute(consent_outlook.lapsing_query(conn.dialect.name, org, campaign_id=this if campaign_only else None,
                                                           days=days, now=now)).all()
    assert len(listed) == result.customers


def test_the_730th_day_after_a_purchase_is_its_last_and_the_731st_is_not_counted(db):
    now = dt.datetime(2026, 12, 4, 9, tzinfo=UTC)
    org = organization(db, "CA")
    customer(db, org, casl_express_consent_at=None, last_purchase_at=dt.datetime(2024, 12, 4, 23, 59, tzinfo=UTC))
    customer(db, org, casl_express_consent_at=None, last_purchase_at=dt.datetime(2024, 12, 3, 23, 59, tzinfo=UTC))
    with db.read() as conn:
        result = consent_outlook.forecast(conn, org, days=0, now=now)
    assert [(d.date, d.customers) for d in result.lapsing] == [(dt.date(2026, 12, 4), 1)]
    assert result.as_json() == {"organization_id": org, "from": "2026-12-04", "days": 0,
                                "lapsing": [{"date": "2026-12-04", "customers": 1, "active_enrollments": 0}], "customers": 1}


EDGE_NOW = dt.datetime(2026, 12, 4, 9, tzinfo=UTC)
EDGE_DAYS = 30
FIRST, LAST = EDGE_NOW.date(), EDGE_NOW.date() + dt.timedelta(days=EDGE_DAYS)


def _bought(last_day: dt.date, shift: int = 0) -> dt.date:
    return last_day - dt.timedelta(days=730 - shift)


def _asked(last_day: dt.date, shift: int = 0) -> dt.date:
    return last_day - dt.timedelta(days=183 - shift)


#: (last purchase, last inquiry, as another system writes them; the day the
#: forecast counts the customer on, None for not counted): the first and last
#: days of the window and the days just outside, one or both dates given.
EDGES = [
    (f"{_bought(FIRST)} 00:00:00", None, FIRST),
    (f"{_bought(FIRST, -1)}T23:59:59.999999", None, None),
    (f"{_bought(LAST)} 23:59:59", None, LAST),
    (f"{_bought(LAST, 1)} 00:00:00", None, None),
    (None, f"{_asked(FIRST)}T00:00:00.000", FIRST),
    (None, f"{_asked(FIRST, -1)} 23:59:59.999999", None),
    (None, f"{_asked(LAST)} 23:59", LAST),
    (None, f"{_asked(LAST, 1)} 00:00:00", None),
    # Both: the later day counts, though the other lies in the window.
    (f"{_bought(FIRST)} 12:00:00", f"{_asked(LAST)} 12:00:00", LAST),
    (f"{_bought(LAST)} 12:00:00", f"{_asked(FIRST)} 12:00:00", LAST),
    (f"{_bought(LAST)} 12:00:00", f"{_asked(LAST, 1)} 12:00:00", None),
    (f"{_bought(FIRST, -1)} 12:00:00", f"{_asked(FIRST)} 12:00:00", FIRST),
    (f"{_bought(LAST, 1)} 12:00:00", f"{_asked(FIRST)} 12:00:00", None),
]
#: The same on SQLite only (PostgreSQL drops an offset): the text's own date a
#: day from its UTC date, at each edge.
EDGES_SQLITE = [
    (f"{_bought(FIRST, -1)} 19:00:00-05:00", None, FIRST),
    (f"{_bought(FIRST)}T00:30:00+01:00", None, None),
    (f"{_bought(LAST, 1)}T00:30:00.5+01:00", None, LAST),
    (f"{_bought(LAST)} 20:00:00-05:00", None, None),
    (None, f"{_asked(FIRST, -1)}T23:00:00-12:00", FIRST),
    (None, f"{_asked(FIRST)} 09:59:59+14:00", None),
    (None, f"{_asked(LAST, 1)}T13:59:59.999999+14:00", LAST),
    (None, f"{_asked(LAST)}T12:00:00-12:00", None),
    (f"{_bought(LAST, 1)}T00:30:00+01:00", f"{_asked(LAST, -1)}T20:00:00-05:00", LAST),
    (f"{_bought(LAST, 1)}T00:30:00+01:00", f"{_asked(LAST)}T20:00:00-05:00", None),
]


def test_the_first_and_last_days_of_the_window_count_in_any_form_and_the_days_outside_do_not(db):
    org = organization(db, "CA")
    expected: dict[int, dt.date] = {}
    for purchase, inquiry, day in EDGES + (EDGES_SQLITE if db.is_sqlite else []):
        person = customer(db, org, casl_express_consent_at=None).id
        with db.write() as conn:  # as text, the way another system writes it
            conn.execute(sa.text("UPDATE customers SET last_purchase_at = :p, last_inquiry_at = :i WHERE id = :id"),
                         {"p": purchase, "i": inquiry, "id": person})
        if day is not None:
            expected[person] = day
    with db.read() as conn:
        result = consent_outlook.forecast(conn, org, days=EDGE_DAYS, now=EDGE_NOW)
        listed = consent_outlook.lapsing_customers(conn, org, days=EDGE_DAYS, now=EDGE_NOW)
    assert {row.id: _as_date(row.last_day) for row in listed} == expected
    assert [(d.date, d.customers) for d in result.lapsing] == sorted(collections.Counter(expected.values()).items())


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def test_the_forecast_reads_a_date_range_of_each_index_not_every_customer(sqlite_db):
    org = organization(sqlite_db, "CA")
    query = consent_outlook.lapsing_query("sqlite", org, days=90, now=EDGE_NOW)
    sql = str(query.compile(sqlite_db.engine, compile_kwargs={"literal_binds": True}))
    with sqlite_db.read() as conn:
        plan = [row.detail for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    customers = [step for step in plan if " customers " in f"{step} "]
    assert customers == [
        "SEARCH customers USING INDEX ix_customers_organization_id_last_purchase_at"
        " (organization_id=? AND last_purchase_at>? AND last_purchase_at<?)",
        "SEARCH customers USING INDEX ix_customers_organization_id_last_inquiry_at"
        " (organization_id=? AND last_inquiry_at>? AND last_inquiry_at<?)",
    ], plan


def test_weeks_sum_the_days_from_monday(db):
    days = (consent_outlook.LapsingDay(dt.date(2026, 12, 6), 2, 1), consent_outlook.LapsingDay(dt.date(2026, 12, 7), 3, 0),
            consent_outlook.LapsingDay(dt.date(2026, 12, 13), 1, 1))
    weeks = consent_outlook.Forecast(1, None, dt.date(2026, 12, 4), 90, days).by_week()
    assert [(w.date, w.customers, w.active_enrollments) for w in weeks] == [(dt.date(2026, 11, 30), 2, 1), (dt.date(2026, 12, 7), 4, 1)]


def test_an_organization_outside_canada_has_no_forecast(db):
    org = organization(db, "US")
    with db.read() as conn, pytest.raises(UserError, match="CASL applies only to organizations in CA"):
        consent_outlook.forecast(conn, org)


def test_a_customers_standing_today_is_what_a_run_now_would_decide(db):
    org = organization(db, "CA")
    now = dt.datetime(2026, 12, 4, 9, tzinfo=UTC)
    inquiry = dt.datetime(2026, 10, 1, 8, tzinfo=UTC)
    person = customer(db, org, casl_express_consent_at=None, last_inquiry_at=inquiry)
    with db.read() as conn:
        standing = consent_outlook.customer_consent(conn, person.id, now)
        assert consent_outlook.customer_consent(conn, person.id + 1000, now) is None
    assert (standing.basis.value, standing.evidence_at, standing.lapses_on, standing.consents) == (
        "implied_inquiry", inquiry, dt.date(2027, 4, 3), True)




def test_the_command_line_prints_the_forecast_as_json(db, db_url, capsys):
    import json

    from enroller_desktop import cli

    org = organization(db, "CA")
    soon = dt.datetime.now(UTC) - dt.timedelta(days=725)
    customer(db, org, casl_express_consent_at=None, last_purchase_at=soon)
    assert cli.main(["--db", db_url, "consent-forecast", "--organization", str(org), "--days", "10", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["customers"] == 1
    assert printed["lapsing"] == [{"date": (soon.date() + dt.timedelta(days=730)).isoformat(), "customers": 1, "active_enrollments": 0}]


def test_a_later_default_run_counts_todays_eligible_customers_whose_implied_consent_will_have_lapsed(db):
    now = dt.datetime.now(UTC)
    org = organization(db, "CA")
    campaign_id = campaign(db, org)

    def bought(days_left: int, **columns):
        return customer(db, org, casl_express_consent_at=None, last_purchase_at=now - dt.timedelta(days=730 - days_left), **columns)

    bought(10, vehicles=2)  # two candidates, one customer
    bought(100)
    customer(db, org)  # express consent never lapses
    bought(10, opt_out_all=True)  # not eligible today
    queued = bought(10)
    enrollment(db, campaign_id, queued.id)  # already in queue: not eligible today
    assert consent_outlook.lapsing_before_run(db, campaign_id, now + dt.timedelta(days=30), now) == 1
    assert consent_outlook.lapsing_before_run(db, campaign_id, now + dt.timedelta(days=200), now) == 2
    assert consent_outlook.lapsing_before_run(db, campaign_id, now + dt.timedelta(hours=1), now) == 0


def test_a_later_run_outside_canada_warns_of_nothing(db):
    org = organization(db, "US")
    campaign_id = campaign(db, org)
    now = dt.datetime.now(UTC)
    customer(db, org, casl_express_consent_at=None, last_purchase_at=now - dt.timedelta(days=725))
    assert consent_outlook.lapsing_before_run(db, campaign_id, now + dt.timedelta(days=30), now) == 0
