"""The integration schema of RULES §6 exists, with the right kinds of types."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from enroller_desktop.db import migrations
from enroller_desktop.db.engine import open_database
from enroller_desktop.errors import DatabaseError

B, T, I, D, TS, N, S = "bool", "text", "int", "date", "timestamp", "number", "smallint"

# Every table and column of RULES §6 with the kind of type it must have.
SPEC_SCHEMA: dict[str, dict[str, str]] = {
    "organizations": {"id": I, "name": T, "country": T, "timezone": T},
    "campaigns": {"id": I, "organization_id": I, "name": T, "active": B, "uses_email": B, "uses_phone": B,
                  "uses_sms": B, "starts_on": D, "ends_on": D, "expire_after_days": I,
                  "marketing_exclusion_days": I, "exclusion_exempt": B},
    "campaign_excluded_tags": {"campaign_id": I, "tag": T},
    "query_params": {"id": I, "campaign_id": I, "process_order": I, "name": T, "criterion": T, "event_key": T, "active": B},
    "customers": {"id": I, "organization_id": I, "first_name": T, "last_name": T, "email": T, "phone": T, "mobile": T,
                  "deleted": B, "opt_out_all": B, "email_opt_out": B, "sms_opt_out": B, "do_not_call": B,
                  "casl_express_consent_at": TS, "casl_withdrawn_at": TS, "last_purchase_at": TS,
                  "last_inquiry_at": TS, "created_at": TS},
    "customer_tags": {"customer_id": I, "tag": T},
    "vehicles": {"id": I, "customer_id": I, "vin": T, "year": I, "make": T, "model": T, "odometer": I,
                 "purchase_date": D, "lease_end_date": D, "last_service_date": D, "warranty_end_date": D},
    "enroller_runs": {"id": I, "organization_id": I, "campaign_id": I, "customer_id": I, "purpose": T, "status": T,
                      "step": T, "as_of": TS, "created_at": TS, "scheduled_for": TS, "in_progress_at": TS,
                      "completed_at": TS, "heartbeat_at": TS, "query_param_customers": I, "potential_customers": I,
                      "potential_events": I, "eligible": I, "success": I, "expired": I, "error_message": T},
    "enroller_run_query_params": {"id": I, "run_id": I, "query_param_id": I, "process_order": I, "status": T,
                                  "total_customers": I, "query_attempts": I, "average_potential_duration_ms": N,
                                  "created_at": TS, "in_progress_at": TS, "completed_at": TS},
    "enroller_run_events": {"id": I, "run_id": I, "stage": T, "level": T, "message": T, "row_count": I,
                            "created_at": TS, "duration_ms": N},
    "enroller_run_customers": {"id": I, "run_id": I, "customer_id": I, "vehicle_id": I, "query_param_id": I,
                               "event_key": T, "first_name": T, "last_name": T, "status": T, "is_valid": B,
                               "valid_email": S, "valid_phone": S, "valid_message": S, "deleted": S,
                               "unique_event": S, "already_in_queue": S, "casl": S, "opt_out_all": S,
                               "marketing_exclusion": S, "validated_at": TS},
    "campaign_customers": {"id": I, "campaign_id": I, "customer_id": I, "vehicle_id": I, "event_key": T, "run_id": I,
                           "purpose": T, "status": T, "enrolled_at": TS, "expiration": T, "expired_at": TS,
                           "last_attempt_at": TS, "last_attempt_disposition": T, "appointment_at": TS},
}


def _kind(column_type: sa.types.TypeEngine) -> set[str]:
    if isinstance(column_type, sa.Boolean):
        return {B}
    if isinstance(column_type, sa.SmallInteger):
        return {S, I}
    if isinstance(column_type, sa.Integer):
        return {I}
    if isinstance(column_type, sa.DateTime):
        return {TS}
    if isinstance(column_type, sa.Date):
        return {D}
    if isinstance(column_type, (sa.Float, sa.Numeric)):
        return {N}
    if isinstance(column_type, sa.String):
        return {T}
    return {type(column_type).__name__}


def test_every_spec_table_and_column_exists_with_its_kind_of_type(db):
    inspector = sa.inspect(db.engine)
    tables = set(inspector.get_table_names())
    assert set(SPEC_SCHEMA) <= tables
    for table, columns in SPEC_SCHEMA.items():
        actual = {c["name"]: c["type"] for c in inspector.get_columns(table)}
        for name, kind in columns.items():
            assert name in actual, f"{table}.{name} is missing"
            assert kind in _kind(actual[name]), f"{table}.{name} is {actual[name]!r}, not {kind}"


def test_booleans_read_back_as_booleans_and_times_as_utc(db):
    with db.write() as conn:
        conn.execute(sa.text("INSERT INTO organizations (id, name, country) VALUES (1, 'Org', 'CA')"))
        conn.execute(sa.text("INSERT INTO customers (id, organization_id, created_at) VALUES (1, 1, '2026-01-02 03:04:05')"))
    from enroller_desktop.db.models import Customer

    with Session(db.engine, expire_on_commit=False) as session:
        customer = session.get(Customer, 1)
        assert customer.deleted is False and customer.opt_out_all is False
        assert customer.created_at.utcoffset().total_seconds() == 0
        assert (customer.created_at.hour, customer.created_at.minute) == (3, 4)


def test_the_database_refuses_a_second_enrollment_of_the_same_event(db):
    with db.write() as conn:
        conn.execute(sa.text("INSERT INTO organizations (id, name, country) VALUES (1, 'Org', 'US')"))
        conn.execute(sa.text("INSERT INTO campaigns (id, organization_id, name) VALUES (1, 1, 'C')"))
        conn.execute(sa.text("INSERT INTO customers (id, organization_id) VALUES (1, 1)"))
        insert = sa.text("INSERT INTO campaign_customers (campaign_id, customer_id, vehicle_id, event_key, purpose, status)"
                         " VALUES (1, 1, NULL, '', 'default', 'queued')")
        conn.execute(insert)
    with pytest.raises(sa.exc.IntegrityError):
        with db.write() as conn:
            conn.execute(insert)


def test_a_database_one_revision_behind_is_upgraded_on_open_and_keeps_its_rows(db):
    migrations.downgrade(db, "0001")
    with db.write() as conn:
        conn.execute(sa.text("INSERT INTO organizations (id, name, country) VALUES (7, 'Kept', 'US')"))
    assert migrations.current_revision(db) == "0001"
    reopened = open_database(db.url)
    assert migrations.current_revision(reopened) == migrations.head_revision()
    with reopened.read() as conn:
        assert conn.execute(sa.text("SELECT name FROM organizations WHERE id = 7")).scalar() == "Kept"
        assert conn.execute(sa.text("SELECT count(*) FROM contact_verdicts")).scalar() == 0
    reopened.dispose()


def test_an_empty_database_is_upgraded_from_nothing(db):
    migrations.downgrade(db, "base")
    assert "customers" not in sa.inspect(db.engine).get_table_names()
    migrations.upgrade(db)
    assert migrations.current_revision(db) == migrations.head_revision()
    assert "customers" in sa.inspect(db.engine).get_table_names()


def test_a_database_newer_than_the_program_is_refused_with_a_clear_message(db):
    with db.write() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    try:
        with pytest.raises(DatabaseError, match="newer Enroller Desktop"):
            open_database(db.url)
    finally:  # the PostgreSQL database is shared by the session's tests
        with db.write() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :head"), {"head": migrations.head_revision()})
