"""The consent exports (issue 13), shared by the command line and the window; no Qt.

The audit: why each enrollment of a campaign was allowed, as a CSV a compliance
officer can hand over.

One row per campaign customer a run enrolled: the customer, the vehicle, the
event key, the run and its as-of time, when it was enrolled, each check's result
at that run, the consent basis with its evidence and lapse date, and the
channels it may be reached on (those whose check passed at that run). Written
as every export is (RULES §8: export.py's writer): times in ISO 8601 UTC, unless
the user asks for them as shown (``times``: on the clock View ▸ Time Zone
chooses, for the campaign's organization).

The forecast's list: the customers whose implied consent lapses soon.
"""

from __future__ import annotations

import datetime as dt
import os

from enroller_desktop import export
from enroller_desktop.db import consent_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import Check
from enroller_desktop.engine import consent_outlook
from enroller_desktop.errors import UserError
from enroller_desktop.run_detail import check_column
from enroller_desktop.tables import Column, Table, csv_time, format_consent, format_date, plain_count
from enroller_desktop.times import ShownTimes, TimeFormat

CHANNEL_NAMES = (("valid_email", "email"), ("valid_phone", "phone"), ("valid_message", "SMS"))


def format_channels(email: int | None, phone: int | None, message: int | None) -> str:
    """The channels whose check passed at the run, e.g. ``email; SMS``."""
    return "; ".join(name for (_, name), result in zip(CHANNEL_NAMES, (email, phone, message)) if result == 1)


AUDIT = Table(
    "consent-audit",
    "Consent Audit",
    (
        Column("customer_id", "Customer Id", ("customer_id",), plain_count, kind="number"),
        Column("first_name", "First Name", ("first_name",), free_text=True),
        Column("last_name", "Last Name", ("last_name",), free_text=True),
        Column("vehicle_id", "Vehicle Id", ("vehicle_id",), plain_count, kind="number"),
        Column("vin", "VIN", ("vin",), free_text=True),
        Column("event_key", "Event Key", ("event_key",), free_text=True),
        Column("run_id", "Run", ("run_id",), plain_count, kind="number"),
        Column("as_of", "As Of", ("as_of",), csv_time, kind="time"),
        Column("enrolled_at", "Enrolled At", ("enrolled_at",), csv_time, kind="time"),
        check_column(Check.VALID_EMAIL, "Valid Email"),
        check_column(Check.VALID_PHONE, "Valid Phone"),
        check_column(Check.VALID_MESSAGE, "Valid Message"),
        check_column(Check.DELETED, "Deleted"),
        check_column(Check.UNIQUE_EVENT, "Unique Event"),
        check_column(Check.ALREADY_IN_QUEUE, "Already in Queue"),
        check_column(Check.CASL, "CASL"),
        check_column(Check.OPT_OUT_ALL, "Opt Out All"),
        check_column(Check.MARKETING_EXCLUSION, "Marketing Exclusion"),
        Column("consent_basis", "Consent", ("consent_basis",), format_consent, kind="status", categorical=True),
        Column("consent_evidence_at", "Evidence", ("consent_evidence_at",), csv_time, kind="time"),
        Column("consent_lapses_on", "Lapses On", ("consent_lapses_on",), format_date),
        Column("channels", "Channels", ("valid_email", "valid_phone", "valid_message"), format_channels, categorical=True),
    ),
)


def export_audit(db: Database, campaign_id: int, path: str | os.PathLike, *, first_day: dt.date | None = None,
                 last_day: dt.date | None = None, progress: export.ProgressCallback | None = None, cancel=None,
                 times: TimeFormat | None = None) -> int:
    """Write the campaign's consent audit for enrollments between the two UTC dates
    (inclusive) to ``path``; returns the rows written. ``times``, when given, writes
    the times as shown for the campaign's organization. A campaign that does not
    exist, or a range that ends before it starts, is a :class:`UserError`."""
    if first_day is not None and last_day is not None and last_day < first_day:
        raise UserError(f"The range ends ({last_day}) before it starts ({first_day})")
    with db.read() as conn:
        if not consent_queries.campaign_exists(conn, campaign_id):
            raise UserError(f"There is no campaign with id {campaign_id}")
        table = AUDIT if times is None else AUDIT.for_csv(times.for_zone(consent_queries.campaign_timezone(conn, campaign_id)))
    return export.export_query(
        db, table, consent_queries.audit_query(campaign_id, first_day, last_day), path,
        count=lambda conn: consent_queries.count_audit(conn, campaign_id, first_day, last_day),
        progress=progress, cancel=cancel,
    )


def export_audit_of_run(db: Database, run_id: int, path: str | os.PathLike, *, first_day: dt.date | None = None,
                        last_day: dt.date | None = None, progress: export.ProgressCallback | None = None,
                        cancel=None, times: TimeFormat | None = None) -> int:
    """The consent audit of the campaign of run ``run_id`` (the window's runs table),
    for the enrollments between the two UTC dates (inclusive, each optional)."""
    with db.read() as conn:
        campaign_id = consent_queries.run_campaign(conn, run_id)
    if campaign_id is None:
        raise UserError(f"No enroller run with id {run_id}")
    return export_audit(db, campaign_id, path, first_day=first_day, last_day=last_day, progress=progress, cancel=cancel,
                        times=times)


def format_yes(value: bool | None) -> str:
    return "Yes" if value else "No"


#: The customers of a consent forecast (Trends ▸ Consent's list).
LAPSING = Table(
    "consent-forecast",
    "Implied Consent Lapsing",
    (
        Column("last_day", "Last Day of Consent", ("last_day",), format_date),
        Column("id", "Customer Id", ("id",), plain_count, kind="number"),
        Column("first_name", "First Name", ("first_name",), free_text=True),
        Column("last_name", "Last Name", ("last_name",), free_text=True),
        Column("email", "Email", ("email",), free_text=True),
        Column("last_purchase_at", "Last Purchase", ("last_purchase_at",), csv_time, kind="time"),
        Column("last_inquiry_at", "Last Inquiry", ("last_inquiry_at",), csv_time, kind="time"),
        Column("active", "Active Enrollment", ("active",), format_yes, kind="status", categorical=True),
    ),
)


def export_lapsing(db: Database, organization_id: int, path: str | os.PathLike, *, campaign_id: int | None = None,
                   days: int = consent_outlook.DEFAULT_DAYS, now: dt.datetime | None = None,
                   progress: export.ProgressCallback | None = None, cancel=None, times: ShownTimes | None = None) -> int:
    """Write the customers a consent forecast counts to ``path``; returns the rows
    written; ``times``, when given, writes the times as the window shows them."""
    now = now or dt.datetime.now(dt.timezone.utc)
    with db.read() as conn:
        result = consent_outlook.forecast(conn, organization_id, campaign_id=campaign_id, days=days, now=now)
        query = consent_outlook.lapsing_query(conn.dialect.name, organization_id, campaign_id=campaign_id, days=days, now=now)
    return export.export_query(db, LAPSING.for_csv(times), query, path, count=lambda _conn: result.customers,
                               progress=progress, cancel=cancel)
