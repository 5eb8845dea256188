"""The runs index (the main window's table), each column defined once: its title,
the old help page's definition of it, and how a run's value is shown. The window's model
and the CSV export both read these definitions, so a CSV's header is the visible
titles and its values are what the screen shows. No Qt here.

Readings:

- On screen a time is shown in the zone the View menu chooses, in the locale's
  short form (:mod:`enroller_desktop.times`); when the organizations of the
  database are in several zones and each run is read in its own organization's
  zone, each time names its zone. A CSV holds ISO 8601 UTC (RULES §8) unless the
  user asks for the times as shown.
- Counts have thousands separators on screen (``12,345``) and plain digits in a
  CSV (RULES §8: a spreadsheet in any locale reads them as numbers).
- A duration is written by the one rule of
  :func:`enroller_desktop.tables.format_seconds`, as in the run window.
- The view icon's column has no title and no value: it is a link, not data, so
  an export leaves it out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from enroller_desktop import tables
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.db.index_queries import IndexRow
from enroller_desktop.tables import format_count, plain_count
from enroller_desktop.times import TimeFormat, iso_utc


def format_duration(value: dt.timedelta | None) -> str | None:
    """A run's duration by the application's one rule (None for an empty cell)."""
    return None if value is None else tables.format_seconds(max(0.0, value.total_seconds()))


@dataclass(frozen=True)
class IndexColumn:
    """One column: ``key`` is its :data:`~enroller_desktop.db.index_queries.SORT_KEYS`
    value; ``display`` gives the shown text of what is neither a time nor a count
    (None for an empty cell) and ``raw`` the value as read. ``kind`` says how the
    value is written: "time" and "count" are written by :meth:`shown` and
    :meth:`csv` (zone and thousands separators on screen; UTC and plain digits in
    a CSV). ``free_text`` marks text from outside the product (names), the only
    cells a CSV passes through its formula guard."""

    key: str
    title: str
    definition: str  # the header's tooltip: the old help page's words
    display: Callable[[IndexRow], Any]
    raw: Callable[[IndexRow], Any]
    numeric: bool = False
    free_text: bool = False
    kind: str = "text"  # text, time, count, duration

    @property
    def exported(self) -> bool:
        return bool(self.title)

    def shown(self, times: TimeFormat) -> Callable[[IndexRow], str | None]:
        """The cell's text on screen, times as ``times`` says."""
        raw = self.raw
        if self.kind == "time":
            return lambda row: times.shown(value, row.organization_timezone) if (value := raw(row)) is not None else None
        if self.kind == "count":
            return lambda row: format_count(raw(row)) or None
        return self.display

    def tooltip(self, times: TimeFormat) -> Callable[[IndexRow], str | None] | None:
        """A time's exact UTC value (and a fallback zone's reason); None for other columns."""
        if self.kind != "time":
            return None
        raw = self.raw
        return lambda row: times.tooltip(value, row.organization_timezone) if (value := raw(row)) is not None else None

    def csv(self, times: TimeFormat | None = None) -> Callable[[IndexRow], str]:
        """The cell's text in a CSV: times in ISO 8601 UTC, or as ``times`` shows
        them when given; counts in plain digits."""
        raw = self.raw
        if self.kind == "time":
            if times is None:
                return lambda row: iso_utc(raw(row))
            return lambda row: times.shown(raw(row), row.organization_timezone)
        if self.kind == "count":
            return lambda row: plain_count(raw(row))
        display = self.display
        return lambda row: "" if (text := display(row)) is None else text


def _count_column(key: str, title: str, definition: str) -> IndexColumn:
    def raw(row: IndexRow):
        return getattr(row, key)

    return IndexColumn(key, title, definition, lambda row: format_count(raw(row)) or None, raw, numeric=True, kind="count")


def _time_column(key: str, title: str, definition: str) -> IndexColumn:
    def raw(row: IndexRow):
        return getattr(row, key)

    return IndexColumn(key, title, definition, lambda row: iso_utc(raw(row)) or None, raw, kind="time")


# The seed's columns in its order; each definition is quoted from its index page.
COLUMNS: tuple[IndexColumn, ...] = (
    IndexColumn("id", "", "Link to expand enroller run details", lambda row: None, lambda row: row.id),
    _time_column("created_at", "Created", "Created: date/time stamp of enrollment activity"),
    # The seed names these two without defining them: the definitions are the product's words (RULES §1).
    IndexColumn("organization", "Organization",
           "Organization: the dealership or dealer group that ran the campaign; it owns the customers and the campaigns",
           lambda row: row.organization, lambda row: row.organization, free_text=True),
    IndexColumn("campaign", "Campaign",
           "Campaign: the named outreach of the organization the run evaluated (service due, lease maturity, "
           "warranty expiry…), by email, phone calls and text messages as it is set up",
           lambda row: row.campaign, lambda row: row.campaign, free_text=True),
    IndexColumn(
        "purpose",
        "Purpose",
        "Purpose: campaign evaluation and expire, campaign simulation, criterion stats, customer evaluation, default",
        lambda row: row.purpose.label,
        lambda row: row.purpose,
    ),
    IndexColumn(
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
    _time_column("in_progress_at", "In Progress At", "In Progress At: date/time stamp of when enroller run began"),
    _time_column("completed_at", "Completed At", "Completed At: date/time stamp of when enroller run finished"),
    IndexColumn(
        "duration",
        "Duration",
        "Duration: time from enroller run start to enroller run finish",
        lambda row: format_duration(row.duration),
        lambda row: row.duration,
        numeric=True,
        kind="duration",
    ),
    # Beyond the old help page's columns, hidden until chosen: the id dialogs and the
    # command line name a run by, and when a scheduled run falls due.
    IndexColumn("run_id", "Run", "Run: the run's id, as dialogs and the command line name it", lambda row: str(row.id),
           lambda row: row.id, numeric=True),
    _time_column("scheduled_for", "Scheduled For",
                 "Scheduled For: when the run was to be executed; a scheduled run past it is overdue"),
)
HIDDEN_AT_FIRST = ("run_id", "scheduled_for")


def overdue_since(row: IndexRow, now: dt.datetime) -> dt.datetime | None:
    """When a run still scheduled fell due, if it has; None for any other run."""
    if row.status is RunStatus.SCHEDULED and row.scheduled_for is not None and row.scheduled_for < now:
        return row.scheduled_for
    return None

VIEW_COLUMN = 0
STATUS_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.key == "status")
COLUMN_OF_KEY = {c.key: i for i, c in enumerate(COLUMNS)}


def csv_texts(columns: tuple[IndexColumn, ...], times: TimeFormat | None = None) -> Callable[[IndexRow], list[str]]:
    """The CSV texts of a row in ``columns`` (see :meth:`IndexColumn.csv`)."""
    writers = [column.csv(times) for column in columns]
    return lambda row: [write(row) for write in writers]
