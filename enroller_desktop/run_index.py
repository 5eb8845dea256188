"""The runs index (the main window's table), each column defined once: its title,
the seed's definition of it, and how a run's value is shown. The window's model
and the CSV export both read these definitions, so a CSV's header is the visible
titles and its values are what the screen shows. No Qt here.

Readings:

- Times are shown as the run window shows them, in ISO 8601, in UTC, to the
  second (``2026-11-27T09:30:00Z``): one form for every time of the application,
  on screen and in a CSV alike (SPEC 8: times in ISO 8601).
- Counts keep their thousands separators in a CSV too (``12,345``): SPEC 8 asks
  for the values as shown, and a spreadsheet reads them back as numbers.
- The view icon's column has no title and no value: it is a link, not data, so
  an export leaves it out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from enroller_desktop import run_tables
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.db.run_queries import RunRow


def format_time(value: dt.datetime | None) -> str | None:
    """A stored time as shown everywhere in the application: ISO 8601, UTC, to the second."""
    return run_tables.format_time(value) if value else None


def format_count(value: int | None) -> str | None:
    return f"{value:,}" if value is not None else None


def format_duration(value: dt.timedelta | None) -> str | None:
    """h:mm:ss (hours keep counting past 24, as a stopwatch does)."""
    if value is None:
        return None
    seconds = max(0, int(value.total_seconds()))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


@dataclass(frozen=True)
class Column:
    """One column: ``key`` is its :data:`~enroller_desktop.db.run_queries.SORT_KEYS`
    value; ``display`` gives the shown text (None for an empty cell) and ``raw``
    the value as read. ``free_text`` marks text from outside the product (names),
    the only cells a CSV passes through its formula guard."""

    key: str
    title: str
    definition: str  # the header's tooltip: the seed's words
    display: Callable[[RunRow], Any]
    raw: Callable[[RunRow], Any]
    numeric: bool = False
    free_text: bool = False

    @property
    def exported(self) -> bool:
        return bool(self.title)


def _count_column(key: str, title: str, definition: str) -> Column:
    def raw(row: RunRow):
        return getattr(row, key)

    return Column(key, title, definition, lambda row: format_count(raw(row)), raw, numeric=True)


# The seed's columns in its order; each definition is quoted from its index page.
COLUMNS: tuple[Column, ...] = (
    Column("id", "", "Link to expand enroller run details", lambda row: None, lambda row: row.id),
    Column(
        "created_at",
        "Created",
        "Created: date/time stamp of enrollment activity (UTC)",
        lambda row: format_time(row.created_at),
        lambda row: row.created_at,
    ),
    Column("organization", "Organization", "Organization", lambda row: row.organization, lambda row: row.organization, free_text=True),
    Column("campaign", "Campaign", "Campaign", lambda row: row.campaign, lambda row: row.campaign, free_text=True),
    Column(
        "purpose",
        "Purpose",
        "Purpose: campaign evaluation and expire, campaign simulation, criterion stats, customer evaluation, default",
        lambda row: row.purpose.label,
        lambda row: row.purpose,
    ),
    Column(
        "status",
        "Status",
        "Status: canceled, completed, error, in progress, not applicable, scheduled",
        lambda row: row.status.label,
        lambda row: row.status,
    ),
    _count_column(
        "query_param_customers",
        "Query Param Customers",
        "Query Param Customers: count of customers who qualified for the campaign based on the query parameters",
    ),
    _count_column(
        "potential_customers",
        "Potential Customers",
        "Potential Customers: of those who met the query parameter criteria, count of customers who qualified "
        "for the campaign based on sufficient contact information",
    ),
    _count_column(
        "potential_events",
        "Potential Events",
        "Potential Events: of those who met the query parameter and potential customer criteria, count of "
        "customers who qualified for the campaign based on the unique event check",
    ),
    _count_column(
        "eligible",
        "Eligible",
        "Eligible: of those who met the query parameter, potential customer, and potential event criteria, count "
        "of customers who qualified for the campaign based on marketing exclusion and communication preferences",
    ),
    _count_column("success", "Success", "Success: count of customers who were enrolled successfully into the campaign"),
    Column(
        "in_progress_at",
        "In Progress At",
        "In Progress At: date/time stamp of when enroller run began (UTC)",
        lambda row: format_time(row.in_progress_at),
        lambda row: row.in_progress_at,
    ),
    Column(
        "completed_at",
        "Completed At",
        "Completed At: date/time stamp of when enroller run finished (UTC)",
        lambda row: format_time(row.completed_at),
        lambda row: row.completed_at,
    ),
    Column(
        "duration",
        "Duration",
        "Duration: time from enroller run start to enroller run finish",
        lambda row: format_duration(row.duration),
        lambda row: row.duration,
        numeric=True,
    ),
    # Beyond the seed's columns, hidden until chosen: the id dialogs and the
    # command line name a run by, and when a scheduled run falls due.
    Column("run_id", "Run", "Run: the run's id, as dialogs and the command line name it", lambda row: str(row.id),
           lambda row: row.id, numeric=True),
    Column(
        "scheduled_for",
        "Scheduled For",
        "Scheduled For: when the run was to be executed (UTC); a scheduled run past it is overdue",
        lambda row: format_time(row.scheduled_for),
        lambda row: row.scheduled_for,
    ),
)
HIDDEN_AT_FIRST = ("run_id", "scheduled_for")


def overdue_since(row: RunRow, now: dt.datetime) -> dt.datetime | None:
    """When a run still scheduled fell due, if it has; None for any other run."""
    if row.status is RunStatus.SCHEDULED and row.scheduled_for is not None and row.scheduled_for < now:
        return row.scheduled_for
    return None

VIEW_COLUMN = 0
STATUS_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.key == "status")
COLUMN_OF_KEY = {c.key: i for i, c in enumerate(COLUMNS)}


def shown_texts(row: RunRow, columns: tuple[Column, ...]) -> list[str]:
    """The texts of ``row`` in ``columns``, an empty cell as ''."""
    return [text if (text := column.display(row)) is not None else "" for column in columns]
