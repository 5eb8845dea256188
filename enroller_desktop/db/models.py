"""Typed models of the integration schema (RULES §6) and of our own tables.

The tables and columns of RULES §6 are a contract with the dealership's other
systems: we add tables, columns and indexes, and rename nothing.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from enroller_desktop.db.enums import (
    CampaignCustomerPurpose,
    CampaignCustomerStatus,
    EventLevel,
    Expiration,
    PotentialStatus,
    RunPurpose,
    RunStatus,
    RunStep,
)
from enroller_desktop.db.types import Id, UTCDateTime, word_enum

CheckResult = sa.SmallInteger  # 1 passed, 0 failed, NULL not applicable


class Base(DeclarativeBase):
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
        }
    )


def _fk(target: str, **kw) -> sa.ForeignKey:
    return sa.ForeignKey(target, **kw)


def _flag(default: bool = False):
    """A boolean that other systems may leave out of their INSERTs."""
    return mapped_column(sa.Boolean, default=default, server_default=sa.true() if default else sa.false())


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    country: Mapped[str] = mapped_column(sa.String(2))
    timezone: Mapped[str | None] = mapped_column(sa.Text)


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[int] = mapped_column(Id, _fk("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.Text)
    active: Mapped[bool] = _flag(True)
    uses_email: Mapped[bool] = _flag()
    uses_phone: Mapped[bool] = _flag()
    uses_sms: Mapped[bool] = _flag()
    starts_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    ends_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    expire_after_days: Mapped[int | None] = mapped_column(sa.Integer)
    marketing_exclusion_days: Mapped[int | None] = mapped_column(sa.Integer)
    exclusion_exempt: Mapped[bool] = _flag()


class CampaignExcludedTag(Base):
    __tablename__ = "campaign_excluded_tags"

    campaign_id: Mapped[int] = mapped_column(Id, _fk("campaigns.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.Text, primary_key=True)


class QueryParam(Base):
    __tablename__ = "query_params"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Id, _fk("campaigns.id"), index=True)
    process_order: Mapped[int] = mapped_column(sa.Integer, default=0)
    name: Mapped[str] = mapped_column(sa.Text)
    criterion: Mapped[str] = mapped_column(sa.Text)
    event_key: Mapped[str | None] = mapped_column(sa.Text)
    active: Mapped[bool] = _flag(True)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[int] = mapped_column(Id, _fk("organizations.id"), index=True)
    first_name: Mapped[str | None] = mapped_column(sa.Text)
    last_name: Mapped[str | None] = mapped_column(sa.Text)
    email: Mapped[str | None] = mapped_column(sa.Text)
    phone: Mapped[str | None] = mapped_column(sa.Text)
    mobile: Mapped[str | None] = mapped_column(sa.Text)
    deleted: Mapped[bool] = _flag()
    opt_out_all: Mapped[bool] = _flag()
    email_opt_out: Mapped[bool] = _flag()
    sms_opt_out: Mapped[bool] = _flag()
    do_not_call: Mapped[bool] = _flag()
    casl_express_consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    casl_withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_purchase_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_inquiry_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    # Ours (migration 0006): the consent forecast reads a date range of each.
    __table_args__ = (
        sa.Index("ix_customers_organization_id_last_purchase_at", "organization_id", "last_purchase_at"),
        sa.Index("ix_customers_organization_id_last_inquiry_at", "organization_id", "last_inquiry_at"),
    )


class CustomerTag(Base):
    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(Id, _fk("customers.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.Text, primary_key=True)


class Vehicle(Base):
    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    customer_id: Mapped[int] = mapped_column(Id, _fk("customers.id"), index=True)
    vin: Mapped[str | None] = mapped_column(sa.Text)
    year: Mapped[int | None] = mapped_column(sa.Integer)
    make: Mapped[str | None] = mapped_column(sa.Text)
    model: Mapped[str | None] = mapped_column(sa.Text)
    odometer: Mapped[int | None] = mapped_column(sa.Integer)
    purchase_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    lease_end_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    last_service_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    warranty_end_date: Mapped[dt.date | None] = mapped_column(sa.Date)


class EnrollerRun(Base):
    __tablename__ = "enroller_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[int] = mapped_column(Id, _fk("organizations.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(Id, _fk("campaigns.id"), index=True)
    # No foreign key to customers: other systems must stay free to delete a
    # customer who was once evaluated; the run keeps the id it was given.
    customer_id: Mapped[int | None] = mapped_column(Id)
    purpose: Mapped[RunPurpose] = mapped_column(word_enum(RunPurpose, "run_purpose"), index=True)
    status: Mapped[RunStatus] = mapped_column(word_enum(RunStatus, "run_status"), index=True)
    step: Mapped[RunStep] = mapped_column(word_enum(RunStep, "run_step"), default=RunStep.MAIN)
    as_of: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    scheduled_for: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    in_progress_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    query_param_customers: Mapped[int | None] = mapped_column(sa.Integer)
    potential_customers: Mapped[int | None] = mapped_column(sa.Integer)
    potential_events: Mapped[int | None] = mapped_column(sa.Integer)
    eligible: Mapped[int | None] = mapped_column(sa.Integer)
    success: Mapped[int | None] = mapped_column(sa.Integer)
    expired: Mapped[int | None] = mapped_column(sa.Integer)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    # Our own column: a cancel asked for by another process, honoured by the one
    # executing the run at its next poll.
    cancel_requested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_enroller_runs_status_scheduled_for", "status", "scheduled_for", "id"),)


class EnrollerRunQueryParam(Base):
    __tablename__ = "enroller_run_query_params"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(Id, _fk("enroller_runs.id"), index=True)
    query_param_id: Mapped[int] = mapped_column(Id)  # no foreign key: see EnrollerRunCustomer
    process_order: Mapped[int] = mapped_column(sa.Integer)
    status: Mapped[RunStatus] = mapped_column(word_enum(RunStatus, "run_status"))
    total_customers: Mapped[int | None] = mapped_column(sa.Integer)
    query_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    average_potential_duration_ms: Mapped[float | None] = mapped_column(sa.Float)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    in_progress_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class EnrollerRunEvent(Base):
    __tablename__ = "enroller_run_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(Id, _fk("enroller_runs.id"), index=True)
    stage: Mapped[RunStep] = mapped_column(word_enum(RunStep, "run_step"))
    level: Mapped[EventLevel] = mapped_column(word_enum(EventLevel, "event_level"))
    message: Mapped[str] = mapped_column(sa.Text)
    row_count: Mapped[int | None] = mapped_column(sa.Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float | None] = mapped_column(sa.Float)


class EnrollerRunCustomer(Base):
    """A potential: one candidate of a run with the result of every check.

    A record of what a run saw, so it has no foreign keys: the customers,
    vehicles and query params it names belong to other systems, which must stay
    free to delete them, and checking four keys (with a row lock each on
    PostgreSQL) for every one of a million candidates would double the funnel's
    cost. The engine alone writes this table.
    """

    __tablename__ = "enroller_run_customers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    run_id: Mapped[int] = mapped_column(Id)
    customer_id: Mapped[int] = mapped_column(Id)
    vehicle_id: Mapped[int | None] = mapped_column(Id)
    query_param_id: Mapped[int | None] = mapped_column(Id)
    event_key: Mapped[str] = mapped_column(sa.Text, default="")
    first_name: Mapped[str | None] = mapped_column(sa.Text)
    last_name: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[PotentialStatus] = mapped_column(word_enum(PotentialStatus, "potential_status"))
    is_valid: Mapped[bool] = mapped_column(sa.Boolean)
    valid_email: Mapped[int | None] = mapped_column(CheckResult)
    valid_phone: Mapped[int | None] = mapped_column(CheckResult)
    valid_message: Mapped[int | None] = mapped_column(CheckResult)
    deleted: Mapped[int | None] = mapped_column(CheckResult)
    unique_event: Mapped[int | None] = mapped_column(CheckResult)
    already_in_queue: Mapped[int | None] = mapped_column(CheckResult)
    casl: Mapped[int | None] = mapped_column(CheckResult)
    opt_out_all: Mapped[int | None] = mapped_column(CheckResult)
    marketing_exclusion: Mapped[int | None] = mapped_column(CheckResult)
    validated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Ours (not RULES §6): the CASL consent the run relied on, NULL where CASL does not apply (engine/consent.py).
    consent_basis: Mapped[str | None] = mapped_column(sa.String(20))
    consent_evidence_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    consent_lapses_on: Mapped[dt.date | None] = mapped_column(sa.Date)

    __table_args__ = (
        sa.Index("ix_enroller_run_customers_run_id_id", "run_id", "id"),
        sa.Index("ix_enroller_run_customers_run_id_customer_id", "run_id", "customer_id"),
    )


class CampaignCustomer(Base):
    """An enrollment. No two share campaign, customer, vehicle (or none) and event
    key: a unique index over expressions enforces it, because a plain unique
    constraint would let rows with no vehicle repeat (NULLs are distinct)."""

    __tablename__ = "campaign_customers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Id, _fk("campaigns.id"))
    customer_id: Mapped[int] = mapped_column(Id, _fk("customers.id"))
    vehicle_id: Mapped[int | None] = mapped_column(Id, _fk("vehicles.id"))
    event_key: Mapped[str] = mapped_column(sa.Text, default="")
    run_id: Mapped[int | None] = mapped_column(Id, _fk("enroller_runs.id"), index=True)
    purpose: Mapped[CampaignCustomerPurpose] = mapped_column(
        word_enum(CampaignCustomerPurpose, "campaign_customer_purpose"),
        default=CampaignCustomerPurpose.DEFAULT,
    )
    status: Mapped[CampaignCustomerStatus] = mapped_column(
        word_enum(CampaignCustomerStatus, "campaign_customer_status"),
        default=CampaignCustomerStatus.QUEUED,
    )
    enrolled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    expiration: Mapped[Expiration | None] = mapped_column(word_enum(Expiration, "expiration"))
    expired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_attempt_disposition: Mapped[str | None] = mapped_column(sa.Text)
    appointment_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# The uniqueness of an enrollment, over expressions so that "no vehicle" and "no
# event key" are values too (RULES §6).
ENROLLMENT_KEY = (
    CampaignCustomer.campaign_id,
    CampaignCustomer.customer_id,
    sa.func.coalesce(CampaignCustomer.vehicle_id, 0),
    sa.func.coalesce(CampaignCustomer.event_key, ""),
)
sa.Index("uq_campaign_customers_enrollment", *ENROLLMENT_KEY, unique=True)
sa.Index("ix_campaign_customers_customer_id_enrolled_at", CampaignCustomer.customer_id, CampaignCustomer.enrolled_at)


class ContactVerdict(Base):
    """Our own table: the verdict of the contact libraries on one distinct value.

    ``kind`` is ``email`` (country '') or ``phone`` (per organization country);
    for a phone, ``valid`` is validity for the region and ``mobile`` whether its
    type is MOBILE or FIXED_LINE_OR_MOBILE. A value is looked up by equality, so
    PostgreSQL gets a hash index (a B-tree refuses very long texts). Migration
    0002 also makes (kind, country, value) unique — over ``md5(value)`` on
    PostgreSQL — since the funnel joins verdicts to candidates.
    """

    __tablename__ = "contact_verdicts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    country: Mapped[str] = mapped_column(sa.String(2), default="")
    value: Mapped[str] = mapped_column(sa.Text)
    valid: Mapped[bool] = mapped_column(sa.Boolean)
    mobile: Mapped[bool] = _flag()

    __table_args__ = (
        sa.Index("ix_contact_verdicts_value", "value", postgresql_using="hash"),
    )


class Worker(Base):
    """Our own table: one ``worker`` process, registered when it starts and kept
    fresh by its heartbeat (``engine.worker_registry`` says how its state is read)."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    host: Mapped[str] = mapped_column(sa.String(255))
    pid: Mapped[int] = mapped_column(sa.Integer)
    version: Mapped[str] = mapped_column(sa.String(40))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    current_run_id: Mapped[int | None] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
    runs_done: Mapped[int] = mapped_column(sa.Integer, default=0)
    runs_today: Mapped[int] = mapped_column(sa.Integer, default=0)
    runs_today_on: Mapped[dt.date | None] = mapped_column(sa.Date)
