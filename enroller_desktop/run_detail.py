"""The tables of a run's detail window (Summary, Events, Query Params,
Potentials, Campaign Customers), each defined once as a
:class:`~enroller_desktop.tables.Table`: the window's Qt models and the CSV
export of a tab both read these definitions. No Qt here.

Readings:

- "Why Not Enrolled" names every reason a candidate did not pass the funnel, in
  funnel order. A failed channel check is a reason only when no channel passed,
  since one usable channel is enough (RULES §3, Potential Customers).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import NamedTuple

from sqlalchemy.engine import Row

from enroller_desktop.db import detail_queries
from enroller_desktop.db.enums import CHANNEL_CHECKS, Check, PotentialStatus, RunPurpose, RunStatus
from enroller_desktop.tables import (
    CHECK_TEXT,
    VALID_TEXT,
    Column,
    Table,
    TableSource,
    csv_time,
    format_between,
    format_consent,
    format_criterion,
    format_date,
    format_label,
    format_ms,
    format_text,
    format_vehicle,
    plain_count,
)
from enroller_desktop.times import ShownTimes


#: Why a failed check kept a candidate out, in funnel order (channel checks apart).
CHECK_REASONS = {
    Check.DELETED: "customer deleted",
    Check.UNIQUE_EVENT: "already enrolled for this event",
    Check.ALREADY_IN_QUEUE: "already in queue",
    Check.CASL: "no CASL consent",
    Check.OPT_OUT_ALL: "opted out of all",
    Check.MARKETING_EXCLUSION: "marketing exclusion",
}
CHANNEL_WORDS = {Check.VALID_EMAIL: "email", Check.VALID_PHONE: "phone", Check.VALID_MESSAGE: "mobile for messages"}
_FUNNEL_ORDER = (Check.DELETED, None, Check.UNIQUE_EVENT, Check.ALREADY_IN_QUEUE, Check.CASL, Check.OPT_OUT_ALL, Check.MARKETING_EXCLUSION)
_CHECK_FIELDS = tuple(check.value for check in Check)


@functools.lru_cache(maxsize=None)  # a handful of distinct combinations per run
def why_not_enrolled(status: PotentialStatus, checks: tuple, simulation: bool, run_finished: bool) -> str:
    """``checks`` holds each :class:`Check`'s result in declaration order."""
    if status is PotentialStatus.SUCCESS:
        return ""
    result = dict(zip(Check, checks))
    reasons = []
    for check in _FUNNEL_ORDER:
        if check is None:
            if not any(result[channel] == 1 for channel in CHANNEL_CHECKS):
                failed = [CHANNEL_WORDS[channel] for channel in CHANNEL_CHECKS if result[channel] == 0]
                reasons.append(f"no valid {' or '.join(failed)}" if failed else "campaign uses no channel")
        elif result[check] == 0:
            reasons.append(CHECK_REASONS[check])
    if not reasons:
        if status is PotentialStatus.ERROR:
            reasons.append("eligible, but its enrollment failed (enrolled by another run first)")
        elif simulation:
            reasons.append("eligible; a simulation enrolls nobody")
        elif run_finished:
            reasons.append("eligible; the run ended before enrolling")
        else:
            reasons.append("eligible; enrollment pending")
    text = "; ".join(reasons)
    return text[:1].upper() + text[1:]


# -- the tables -----------------------------------------------------------


def _column(key: str, title: str, fields: str | tuple[str, ...] | None = None, show: Callable[..., str] = format_text, **kw) -> Column:
    fields = (key,) if fields is None else (fields,) if isinstance(fields, str) else fields
    return Column(key, title, fields, show, **kw)



def _label(value) -> str:
    return value.label


SUMMARY = Table("summary", "Summary", (_column("field", "Field"), _column("value", "Value", free_text=True)))

EVENTS = Table(
    "events",
    "Events",
    (
        _column("stage", "Stage", show=_label),
        _column("created_at", "Time", show=csv_time, kind="time"),
        _column("level", "Level", show=_label, kind="level"),
        _column("message", "Message", free_text=True),
        _column("row_count", "Rows", show=plain_count, kind="number"),
        _column("duration_ms", "Duration", show=format_ms, kind="number"),
    ),
)

QUERY_PARAMS = Table(
    "query-params",
    "Query Params",
    (
        _column("organization", "Organization", "organization_name", free_text=True),
        _column("campaign", "Campaign", "campaign_name", free_text=True),
        _column("process_order", "Process Order", show=plain_count, kind="number"),
        _column("name", "Query Param", free_text=True),
        _column("status", "Status", show=_label, kind="status"),
        _column("duration", "Duration", ("in_progress_at", "completed_at"), show=format_between, kind="number"),
        _column("total_customers", "Total Customers", show=plain_count, kind="number"),
        _column("average_potential_duration_ms", "Average Potential Duration", show=format_ms, kind="number"),
        _column("query_attempts", "Query Attempts", show=plain_count, kind="number"),
        _column("created_at", "Created At", show=csv_time, kind="time"),
        _column("in_progress_at", "In Progress At", show=csv_time, kind="time"),
        _column("completed_at", "Completed At", show=csv_time, kind="time"),
        _column("criterion", "Criterion", show=format_criterion, free_text=True),
        _column("event_key", "Event Key", free_text=True),
    ),
)

_VEHICLE_FIELDS = ("year", "make", "model")


def check_column(check: Check, title: str) -> Column:
    """A check's column: Passed, Failed or NA, coloured by the window."""
    return _column(check.value, title, show=CHECK_TEXT.__getitem__, kind="check", categorical=True)


#: The consent a run relied on (engine/consent.py), shown after the CASL check it explains.
CONSENT_COLUMNS = (
    _column("consent_basis", "Consent", show=format_consent, kind="status", categorical=True),
    _column("consent_evidence_at", "Evidence", show=csv_time, kind="time"),
    # A UTC date (RULES §3, Dates), not a moment: shown as it is, in every zone.
    _column("consent_lapses_on", "Lapses On", show=format_date),
)


def run_potentials_table(summary: Row) -> Table:
    """The Potentials table of the run ``summary`` describes: with the consent
    columns only for an organization in CA, the only one where CASL applies."""
    return potentials_table(summary.purpose, summary.status, consent=summary.organization_country == "CA")


@functools.lru_cache(maxsize=None)
def potentials_table(purpose: RunPurpose, run_status: RunStatus, consent: bool = False) -> Table:
    """The Potentials table of a run; its "Why Not Enrolled" depends on whether the
    run is a simulation and whether it has finished; ``consent`` adds the consent
    columns."""
    simulation = purpose is RunPurpose.CAMPAIGN_SIMULATION
    finished = run_status.finished

    def why(status, *checks) -> str:
        return why_not_enrolled(status, checks, simulation, finished)

    return Table(
        "potentials",
        "Potentials",
        (
            _column("first_name", "First Name", free_text=True),
            _column("last_name", "Last Name", free_text=True),
            _column("vehicle", "Vehicle", _VEHICLE_FIELDS, show=format_vehicle, free_text=True),
            _column("status", "Status", show=_label, kind="status", categorical=True),
            _column("is_valid", "Is Valid", show=VALID_TEXT.__getitem__, kind="status", categorical=True),
            # Not a seed column: the answer to "why not?", beside the verdict it explains.
            _column("why_not_enrolled", "Why Not Enrolled", ("status", *_CHECK_FIELDS), show=why, categorical=True),
            check_column(Check.ALREADY_IN_QUEUE, "Already in Queue"),
            check_column(Check.CASL, "CASL"),
            *(CONSENT_COLUMNS if consent else ()),
            check_column(Check.DELETED, "Deleted"),
            check_column(Check.MARKETING_EXCLUSION, "Marketing Exclusion"),
            check_column(Check.OPT_OUT_ALL, "Opt Out All"),
            check_column(Check.UNIQUE_EVENT, "Unique Event"),
            check_column(Check.VALID_EMAIL, "Valid Email"),
            check_column(Check.VALID_MESSAGE, "Valid Message"),
            check_column(Check.VALID_PHONE, "Valid Phone"),
            _column("validated_at", "Validated At", show=csv_time, kind="time"),
        ),
    )


CAMPAIGN_CUSTOMERS = Table(
    "campaign-customers",
    "Campaign Customers",
    (
        _column("first_name", "First Name", free_text=True),
        _column("last_name", "Last Name", free_text=True),
        _column("vehicle", "Vehicle", _VEHICLE_FIELDS, show=format_vehicle, free_text=True),
        _column("purpose", "Purpose", show=_label, kind="status", categorical=True),
        _column("status", "Status", show=_label, kind="status", categorical=True),
        _column("expiration", "Expiration", show=format_label, kind="status", categorical=True),
        _column("expired_at", "Expired At", show=csv_time, kind="time"),
        _column("last_attempt_at", "Last Attempt Time", show=csv_time, kind="time"),
        _column("last_attempt_disposition", "Last Attempt Disposition", free_text=True),
        _column("appointment_at", "Appointment", show=csv_time, kind="time"),
    ),
)


# -- the Summary's fields -----------------------------------------------------------


def run_duration(summary: Row, now: dt.datetime | None = None) -> str:
    """From start to finish; while the run is in progress, the time so far."""
    if summary.in_progress_at is None:
        return ""
    if summary.completed_at is not None:
        return format_between(summary.in_progress_at, summary.completed_at)
    if summary.status is RunStatus.IN_PROGRESS:
        now = now or dt.datetime.now(dt.timezone.utc)
        return format_between(summary.in_progress_at, now) + " so far"
    return ""


class SummaryField(NamedTuple):
    field: str
    value: str


def not_applicable_reason(events: Sequence[Row]) -> str | None:
    """Why a run ended Not Applicable, from its events (the engine records it there)."""
    from enroller_desktop.engine.runs import NOT_APPLICABLE_BECAUSE

    return next((e.message.removeprefix(NOT_APPLICABLE_BECAUSE) for e in events
                 if e.message.startswith(NOT_APPLICABLE_BECAUSE)), None)


def summary_fields(summary: Row, now: dt.datetime | None = None, *, events: Sequence[Row] = (),
                   times: ShownTimes | None = None, count: Callable[[int | None], str] = plain_count) -> list[SummaryField]:
    """The Summary tab: the old help page's fields in its order (a Not Applicable run's
    reason after its Status, taken from ``events``: an Events row cuts it off),
    then Expired and Error Message where they apply, then the as-of time every
    relative date counts from and, for a Customer Evaluation, the customer. Times
    and counts as a CSV holds them, unless ``times`` and ``count`` say how the
    window shows them."""
    show_time = times or csv_time
    fields = [
        ("Created At", show_time(summary.created_at)),
        ("Organization", summary.organization_name),
        ("Campaign", summary.campaign_name),
        ("Purpose", summary.purpose.label),
        ("Status", summary.status.label),
    ]
    if summary.status is RunStatus.NOT_APPLICABLE:
        fields.append(("Not Applicable Because", format_text(not_applicable_reason(events))))
    fields += [
        ("Step", format_label(summary.step)),
        ("Duration", run_duration(summary, now)),
        ("In Progress At", show_time(summary.in_progress_at)),
        ("Completed At", show_time(summary.completed_at)),
        ("Query Param Customers", count(summary.query_param_customers)),
        ("Potential Customers", count(summary.potential_customers)),
        ("Potential Events", count(summary.potential_events)),
        ("Eligible", count(summary.eligible)),
        ("Success", count(summary.success)),
    ]
    if summary.purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE or summary.expired is not None:
        fields.append(("Expired", count(summary.expired)))
    if summary.error_message or summary.status is RunStatus.ERROR:
        fields.append(("Error Message", format_text(summary.error_message)))
    fields.append(("As Of", show_time(summary.as_of)))
    if summary.scheduled_for is not None:
        fields.append(("Scheduled For", show_time(summary.scheduled_for)))
    if summary.customer_id is not None:
        name = " ".join(part for part in (summary.customer_first_name, summary.customer_last_name) if part)
        fields.append(("Customer", f"{name} (id {summary.customer_id})" if name else f"id {summary.customer_id}"))
    return [SummaryField(*pair) for pair in fields]


def run_title(summary: Row, times: ShownTimes | None = None) -> str:
    """The window's title: the campaign and the run's time."""
    return f"{summary.campaign_name} — {summary.purpose.label} run {summary.id} of {(times or csv_time)(summary.created_at)}"



TAB_NAMES = ("summary", "events", "query-params", "potentials", "campaign-customers")


def run_tab_source(summary: Row, tab: str, *, times: ShownTimes | None = None, **listing_kw) -> TableSource:
    """The whole of one tab of the run ``summary`` describes; ``listing_kw`` (filter,
    sort) narrows the large tables as the window does; ``times`` writes the times
    as shown instead of in ISO 8601 UTC."""
    run_id = summary.id
    if tab == "summary":
        return TableSource(SUMMARY, read_all=lambda conn: summary_fields(
            detail_queries.run_summary(conn, run_id), events=detail_queries.run_events(conn, run_id), times=times), times=times)
    if tab == "events":
        return TableSource(EVENTS.for_csv(times), read_all=lambda conn: detail_queries.run_events(conn, run_id), times=times)
    if tab == "query-params":
        return TableSource(QUERY_PARAMS.for_csv(times), read_all=lambda conn: detail_queries.run_query_param_rows(conn, run_id), times=times)
    if tab == "potentials":
        return TableSource(run_potentials_table(summary).for_csv(times),
                           listing=detail_queries.potential_listing(summary, **listing_kw), tab=tab, times=times)
    if tab == "campaign-customers":
        return TableSource(CAMPAIGN_CUSTOMERS.for_csv(times), listing=detail_queries.campaign_customer_listing(summary, **listing_kw),
                           tab=tab, times=times)
    raise ValueError(f"unknown tab {tab!r}: one of {', '.join(TAB_NAMES)}")
