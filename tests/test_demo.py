"""Demo data (issue 2): deterministic for a seed and a day, as messy as a
dealership's, covering every status, purpose, consent kind and campaign setting
the screens must show, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
import sys
from collections import Counter
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from email_validator import EmailNotValidError, validate_email

from enroller_desktop import demo
from enroller_desktop.db import models as m
from enroller_desktop.db.engine import open_database
from enroller_desktop.db.enums import CampaignCustomerPurpose, CampaignCustomerStatus, Expiration, RunPurpose, RunStatus
from enroller_desktop.engine.criteria import parse, validate_event_key

TODAY = dt.date(2026, 3, 16)
CUSTOMERS = 3_000
DEMO_TABLES = (
    m.Organization, m.Campaign, m.CampaignExcludedTag, m.QueryParam, m.Customer, m.CustomerTag, m.Vehicle, m.CampaignCustomer,
)


def digest(db) -> str:
    """A fingerprint of every demo row, read back through the models."""
    fingerprint = hashlib.sha256()
    with db.read() as conn:
        for model in DEMO_TABLES:
            table = model.__table__
            for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns)):
                fingerprint.update(repr(tuple(row)).encode())
    return fingerprint.hexdigest()


def wipe(db) -> None:
    with db.write() as conn:
        for table in reversed(m.Base.metadata.sorted_tables):
            conn.execute(table.delete())


def rows(db, statement):
    with db.read() as conn:
        return conn.execute(statement).all()


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def demo_db(request, tmp_path_factory, sqlite_template, pg_server):
    """One demo of 3,000 customers as of TODAY, loaded once per database, for the
    tests that only read it. PostgreSQL gets a database of its own, beside the
    one the ``db`` fixture empties before each test."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
        shutil.copy(sqlite_template, path)
        url, drop = f"sqlite:///{path}", None
    else:
        base = sa.engine.make_url(pg_server.get())
        name = f"{base.database}_demo"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)

        def drop():
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()

    database = open_database(url)
    demo.load_data(database, customers=CUSTOMERS, seed=1, today=TODAY)
    yield database
    database.dispose()
    if drop:
        drop()


# --- determinism ----------------------------------------------------------------


def test_same_seed_on_the_same_day_gives_identical_rows(db):
    demo.load_data(db, customers=800, seed=7, today=TODAY)
    first = digest(db)
    wipe(db)
    demo.load_data(db, customers=800, seed=7, today=TODAY)
    assert digest(db) == first


def test_different_seeds_give_different_rows(db):
    demo.load_data(db, customers=800, seed=7, today=TODAY)
    first = digest(db)
    wipe(db)
    demo.load_data(db, customers=800, seed=8, today=TODAY)
    assert digest(db) != first


def test_sqlite_and_postgresql_hold_the_same_rows_for_a_seed(sqlite_db, pg_db):
    demo.load_data(sqlite_db, customers=800, seed=5, today=TODAY)
    demo.load_data(pg_db, customers=800, seed=5, today=TODAY)
    assert digest(sqlite_db) == digest(pg_db)


# --- organizations and campaigns ----------------------------------------------------


def test_organizations_are_in_canada_and_the_united_states_with_timezones(demo_db):
    organizations = rows(demo_db, sa.select(m.Organization.country, m.Organization.timezone))
    assert len(organizations) >= 3
    assert {country for country, _ in organizations} == {"CA", "US"}
    assert all(zone and zone.startswith("America/") for _, zone in organizations)


def test_campaigns_cover_every_channel_mix(demo_db):
    mixes = set(rows(demo_db, sa.select(m.Campaign.uses_email, m.Campaign.uses_phone, m.Campaign.uses_sms)))
    assert mixes == {(e, p, s) for e in (False, True) for p in (False, True) for s in (False, True)}


def test_campaigns_include_inactive_future_and_ended_ones(demo_db):
    campaigns = rows(demo_db, sa.select(m.Campaign.active, m.Campaign.starts_on, m.Campaign.ends_on))
    assert len(campaigns) >= 8
    assert any(not active for active, _, _ in campaigns)
    assert any(starts_on and starts_on > TODAY for _, starts_on, _ in campaigns)
    assert any(ends_on and ends_on < TODAY for _, _, ends_on in campaigns)


def test_campaigns_use_expiry_exclusion_buffers_exemption_and_excluded_tags(demo_db):
    campaigns = rows(demo_db, sa.select(m.Campaign.expire_after_days, m.Campaign.marketing_exclusion_days, m.Campaign.exclusion_exempt))
    assert any(expire for expire, _, _ in campaigns)
    assert any(buffer for _, buffer, _ in campaigns)
    assert any(exempt for _, _, exempt in campaigns)
    assert rows(demo_db, sa.select(sa.func.count()).select_from(m.CampaignExcludedTag))[0][0] > 0


def test_some_campaigns_have_several_query_params_and_one_param_is_inactive(demo_db):
    params = rows(demo_db, sa.select(m.QueryParam.campaign_id, m.QueryParam.process_order, m.QueryParam.active))
    per_campaign = Counter(campaign for campaign, _, _ in params)
    assert sum(1 for n in per_campaign.values() if n >= 2) >= 3
    assert max(per_campaign.values()) >= 3
    assert [active for _, _, active in params].count(False) == 1
    orders = {}
    for campaign, order, _ in params:
        orders.setdefault(campaign, []).append(order)
    assert all(sorted(o) == list(range(1, len(o) + 1)) for o in orders.values())


def test_every_query_param_criterion_and_event_key_is_valid(demo_db):
    for criterion, event_key in rows(demo_db, sa.select(m.QueryParam.criterion, m.QueryParam.event_key)):
        parse(criterion)
        validate_event_key(event_key)


def test_criteria_name_service_lease_warranty_win_back_recall_and_tags(demo_db):
    criteria = " ".join(c for (c,) in rows(demo_db, sa.select(m.QueryParam.criterion)))
    for fragment in (
        '"field": "vehicle.last_service_date", "op": "older_than_days", "value": 180',
        '"field": "vehicle.lease_end_date", "op": "within_next_days", "value": 90',
        '"field": "vehicle.warranty_end_date", "op": "within_next_days"',
        '"field": "customer.last_purchase_at", "op": "older_than_days", "value": 1095',
        '"field": "vehicle.make", "op": "in"',
        '"field": "vehicle.year", "op": "between"',
        '"field": "customer.tags", "op": "has_tag"',
    ):
        assert fragment in criteria


# --- customers ------------------------------------------------------------------------


def test_names_carry_accents_and_apostrophes(demo_db):
    names = [n for pair in rows(demo_db, sa.select(m.Customer.first_name, m.Customer.last_name)) for n in pair if n]
    assert any("'" in n for n in names)
    assert any(not n.isascii() for n in names)
    assert any(n.isupper() for n in names)
    assert rows(demo_db, sa.select(sa.func.count()).where(m.Customer.first_name.is_(None)))[0][0] > 0


def _email_valid(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def test_emails_are_valid_missing_empty_or_junk(demo_db):
    emails = [e for (e,) in rows(demo_db, sa.select(m.Customer.email))]
    assert None in emails and "" in emails
    verdicts = Counter(_email_valid(e) for e in emails if e)
    assert verdicts[True] > verdicts[False] > 0


def test_phones_are_written_every_way_and_some_are_invalid(demo_db):
    found = rows(demo_db, sa.select(m.Organization.country, m.Customer.phone, m.Customer.mobile).join(m.Organization))
    values = [(country, number) for country, phone, mobile in found for number in (phone, mobile)]
    assert any(number is None for _, number in values) and any(number == "" for _, number in values)

    def valid(country, number):
        try:
            return phonenumbers.is_valid_number_for_region(phonenumbers.parse(number, country), country)
        except phonenumbers.NumberParseException:
            return False

    verdicts = Counter(valid(country, number) for country, number in values if number)
    assert verdicts[True] > verdicts[False] > 0
    assert len({number for _, number in values if number and number.startswith("(")}) > 1
    assert any(number and number.startswith("+1") for _, number in values)


def test_some_customers_are_deleted_opted_out_or_not_to_be_called(demo_db):
    totals = rows(demo_db, sa.select(*(sa.func.sum(sa.cast(c, sa.Integer)) for c in (
        m.Customer.deleted, m.Customer.opt_out_all, m.Customer.email_opt_out, m.Customer.sms_opt_out, m.Customer.do_not_call,
    ))))[0]
    assert all(0 < total < CUSTOMERS / 5 for total in totals)


def _consent_kind(express, withdrawn, purchase, inquiry) -> str:
    def day(at):
        return at.date() if at else None

    if withdrawn and express and express > withdrawn:
        return "withdrawn then consented again"
    if withdrawn:
        return "withdrawn"
    if express:
        return "express"
    if purchase and day(purchase) >= TODAY - dt.timedelta(days=730):
        return "implied by purchase"
    if inquiry and day(inquiry) >= TODAY - dt.timedelta(days=183):
        return "implied by inquiry"
    return "none"


def test_canadian_customers_show_every_kind_of_casl_consent(demo_db):
    canadians = rows(demo_db, sa.select(
        m.Customer.casl_express_consent_at, m.Customer.casl_withdrawn_at, m.Customer.last_purchase_at, m.Customer.last_inquiry_at,
    ).join(m.Organization).where(m.Organization.country == "CA"))
    kinds = Counter(_consent_kind(*row) for row in canadians)
    assert set(kinds) == {"express", "implied by purchase", "implied by inquiry", "withdrawn", "withdrawn then consented again", "none"}


def test_customers_carry_tags(demo_db):
    tags = {tag for (tag,) in rows(demo_db, sa.select(m.CustomerTag.tag))}
    assert {"VIP", "vip", "Birthday This Month", "Do Not Market", "Fleet"} <= tags


# --- vehicles -----------------------------------------------------------------------


def test_customers_have_about_1_3_vehicles_some_none_some_three_or_more(demo_db):
    per_customer = Counter(c for (c,) in rows(demo_db, sa.select(m.Vehicle.customer_id)))
    assert 1.2 <= sum(per_customer.values()) / CUSTOMERS <= 1.45
    assert len(per_customer) < CUSTOMERS
    assert any(n >= 3 for n in per_customer.values())


def test_vehicles_have_real_makes_plausible_years_and_vins(demo_db):
    vehicles = rows(demo_db, sa.select(m.Vehicle.make, m.Vehicle.year, m.Vehicle.vin))
    assert {"Toyota", "Honda", "Ford", "Chevrolet"} <= {make for make, _, _ in vehicles}
    assert all(1999 <= year <= TODAY.year + 1 for _, year, _ in vehicles)
    vins = [vin for _, _, vin in vehicles]
    assert sum(1 for vin in vins if vin and len(vin) == 17) > 0.98 * len(vins)
    assert None in vins


def test_dates_lie_around_today(demo_db):
    leases = [d for (d,) in rows(demo_db, sa.select(m.Vehicle.lease_end_date).where(m.Vehicle.lease_end_date.is_not(None)))]
    assert any(TODAY <= d <= TODAY + dt.timedelta(days=90) for d in leases)
    assert any(d < TODAY for d in leases)
    latest = rows(demo_db, sa.select(
        sa.func.max(m.Customer.created_at), sa.func.max(m.Customer.last_purchase_at), sa.func.max(m.Vehicle.purchase_date),
    ).select_from(m.Customer).join(m.Vehicle))[0]
    assert latest[0].date() < TODAY and latest[1].date() < TODAY and latest[2] < TODAY


# --- campaign customers ----------------------------------------------------------------


def test_campaign_customers_appear_in_every_status_and_purpose(demo_db):
    found = rows(demo_db, sa.select(m.CampaignCustomer.status, m.CampaignCustomer.purpose))
    assert {status for status, _ in found} == set(CampaignCustomerStatus)
    assert {purpose for _, purpose in found} == set(CampaignCustomerPurpose)


def test_some_campaign_customers_expired_for_each_reason_and_none_completed_did(demo_db):
    found = rows(demo_db, sa.select(m.CampaignCustomer.status, m.CampaignCustomer.expiration, m.CampaignCustomer.expired_at))
    assert {expiration for _, expiration, _ in found} == set(Expiration) | {None}
    assert all((expiration is None) == (expired_at is None) for _, expiration, expired_at in found)
    assert not any(status == CampaignCustomerStatus.COMPLETED and expiration for status, expiration, _ in found)


def test_attempts_have_dispositions_and_some_set_appointments(demo_db):
    found = rows(demo_db, sa.select(
        m.CampaignCustomer.enrolled_at, m.CampaignCustomer.last_attempt_at, m.CampaignCustomer.last_attempt_disposition,
        m.CampaignCustomer.appointment_at,
    ))
    attempted = [row for row in found if row[1]]
    assert attempted and all(disposition for _, _, disposition, _ in attempted)
    assert all(enrolled <= attempt for enrolled, attempt, _, _ in attempted)
    dispositions = {disposition for _, _, disposition, _ in attempted}
    assert {"Left voicemail", "No answer", "Appointment set", "Wrong number", "Do not call requested"} <= dispositions
    assert any(appointment and appointment.date() > TODAY for *_, appointment in found)


def test_no_enroller_runs_are_created(demo_db):
    assert rows(demo_db, sa.select(sa.func.count()).select_from(m.EnrollerRun))[0][0] == 0
    assert rows(demo_db, sa.select(sa.func.count()).where(m.CampaignCustomer.run_id.is_not(None)))[0][0] == 0


# --- loading ---------------------------------------------------------------------------


def test_a_fresh_database_is_empty_and_a_loaded_one_is_not(db):
    assert demo.is_empty(db)
    demo.load_data(db, customers=10, today=TODAY)
    assert not demo.is_empty(db)


def test_rows_added_after_the_demo_get_new_ids(db):
    demo.load_data(db, customers=50, today=TODAY)
    with Session(db.engine, expire_on_commit=False) as session:
        organization = m.Organization(name="Northside Kia", country="US", timezone="America/Denver")
        session.add(organization)
        session.commit()
        assert organization.id == 6


def test_loading_into_a_database_with_data_adds_a_second_set_beside_it(db):
    demo.load_data(db, customers=200, today=TODAY)
    demo.load_data(db, customers=200, today=TODAY)
    counts = rows(db, sa.select(
        sa.select(sa.func.count()).select_from(m.Organization).scalar_subquery(),
        sa.select(sa.func.count()).select_from(m.Customer).scalar_subquery(),
    ))[0]
    assert tuple(counts) == (10, 400)


def foreign_keys(db) -> dict:
    with db.read() as conn:
        inspector = sa.inspect(conn)
        return {table: inspector.get_foreign_keys(table) for table in inspector.get_table_names()}


def test_foreign_keys_are_as_they_were_after_a_load(db):
    before = foreign_keys(db)
    demo.load_data(db, customers=300, today=TODAY)
    assert foreign_keys(db) == before


def test_a_failed_load_leaves_the_database_as_it_was(db):
    before = foreign_keys(db)

    def fail_midway(fraction, message):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        demo.load_data(db, customers=300, today=TODAY, progress=fail_midway)
    assert demo.is_empty(db)
    assert foreign_keys(db) == before


def test_summary_names_what_was_loaded(db):
    summary = demo.load_demo(db, customers=1_000, seed=4, today=TODAY, runs=False)
    vehicles = rows(db, sa.select(sa.func.count()).select_from(m.Vehicle))[0][0]
    assert summary.startswith(f"Loaded 1,000 customers, {vehicles:,} vehicles, 14 campaigns")
    assert summary.endswith("(seed 4)")


def test_the_run_history_is_made_by_the_engine_with_every_purpose_and_finished_status(db):
    summary = demo.load_demo(db, customers=300, seed=2, today=TODAY)
    runs = rows(db, sa.select(m.EnrollerRun.purpose, m.EnrollerRun.status, m.EnrollerRun.created_at, m.EnrollerRun.error_message))
    assert summary.endswith(f"; {len(runs):,} runs executed by the engine")
    assert len(runs) >= 60
    assert {purpose for purpose, *_ in runs} == set(RunPurpose)
    assert {status for _, status, *_ in runs} == set(RunStatus) - {RunStatus.IN_PROGRESS}
    today = dt.datetime.combine(TODAY, dt.time(), tzinfo=dt.timezone.utc)
    past = [created for _, status, created, _ in runs if status is not RunStatus.SCHEDULED]
    assert min(past) >= today - dt.timedelta(days=61) and max(past) < today + dt.timedelta(days=1)
    assert all(created.date() == TODAY for _, status, created, _ in runs if status is RunStatus.SCHEDULED)
    errors = [message for _, status, _, message in runs if status is RunStatus.ERROR]
    assert 1 <= len(errors) <= 3 and all("vehicle.colour" in message for message in errors)


def test_the_history_is_a_schedulers_working_week_in_each_organizations_time(db):
    """Default runs on working mornings at each campaign's own local hour, every
    active campaign's on the last working morning, weekly evaluations on Sunday,
    simulations and criterion stats as of a campaign's first morning before it
    starts, and the next working morning's runs scheduled."""
    demo.load_demo(db, customers=300, seed=2, today=TODAY)
    r, c, o = m.EnrollerRun, m.Campaign, m.Organization
    history = rows(db, sa.select(r.purpose, r.status, r.in_progress_at, r.scheduled_for, r.as_of, r.campaign_id,
                                 c.starts_on, c.active, c.ends_on, o.timezone)
                   .join(c, c.id == r.campaign_id).join(o, o.id == c.organization_id))
    mornings = {}
    for purpose, status, started, scheduled, as_of, campaign, starts_on, active, ends_on, zone in history:
        if purpose is RunPurpose.DEFAULT and status is RunStatus.COMPLETED:
            local = started.astimezone(ZoneInfo(zone))
            assert local.weekday() < 5 and 5 <= local.hour < 9, (campaign, local)
            mornings.setdefault(campaign, set()).add(local.time().replace(second=0, microsecond=0))
        if purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE and status is RunStatus.COMPLETED:
            assert started.astimezone(ZoneInfo(zone)).weekday() == 6
        if purpose in (RunPurpose.CAMPAIGN_SIMULATION, RunPurpose.CRITERION_STATS):
            assert started.date() < starts_on <= as_of.date()
    assert all(len(times) == 1 for times in mornings.values())  # each campaign at its own hour
    last_morning = max(started for purpose, status, started, *_ in history
                       if purpose is RunPurpose.DEFAULT and status is RunStatus.COMPLETED).date()
    live = {campaign for *_, campaign, starts_on, active, ends_on, _zone in history
            if active and (starts_on is None or starts_on <= last_morning) and (ends_on is None or ends_on >= TODAY)}
    live -= {row[0] for row in rows(db, sa.select(c.id).where(c.name == "Holiday Event (draft)"))}
    ran_last_morning = {campaign for purpose, status, started, _s, _a, campaign, *_ in history
                        if purpose is RunPurpose.DEFAULT and status is RunStatus.COMPLETED and started.date() == last_morning}
    assert live and ran_last_morning == live
    scheduled = [(campaign, scheduled) for purpose, status, _, scheduled, _, campaign, *_ in history
                 if status is RunStatus.SCHEDULED and purpose is RunPurpose.DEFAULT]
    assert {campaign for campaign, _ in scheduled} == live
    assert all(at.date() > TODAY for _, at in scheduled)


def test_progress_is_reported_up_to_the_whole(db):
    reports = []
    demo.load_data(db, customers=12_000, today=TODAY, progress=lambda fraction, message: reports.append(fraction))
    assert len(reports) >= 3
    assert reports == sorted(reports) and reports[-1] == 1.0


# --- command line ------------------------------------------------------------------------


def run_cli(db_url, *args):
    return subprocess.run(
        [sys.executable, "-m", "enroller_desktop", "--db", db_url, "demo", *args], capture_output=True, text=True, timeout=120
    )


def test_demo_command_loads_and_prints_its_summary(db_url):
    done = run_cli(db_url, "--customers", "500", "--seed", "3", "--no-runs")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Loaded 500 customers")


def test_demo_command_with_if_empty_loads_nothing_into_a_loaded_database(db_url):
    assert run_cli(db_url, "--customers", "100", "--if-empty", "--no-runs").returncode == 0
    database = open_database(db_url)
    before = digest(database)
    done = run_cli(db_url, "--customers", "100", "--if-empty")
    assert done.returncode == 0
    assert "already has data" in done.stdout
    assert digest(database) == before
    database.dispose()
