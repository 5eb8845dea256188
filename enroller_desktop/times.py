"""How a stored time is shown to a person, and how a day is counted. No Qt.

The database holds UTC (RULES §6). A person reads a time in one of three zones,
which the View menu chooses (:class:`ZoneChoice`): the zone of the run's
organization (``organizations.timezone``, the dealership's own clock, the
default), this computer's zone, or UTC. The text is the user's locale's short
date-time form (:class:`LocaleForm`, read from QLocale by the window and handed
here as plain data, so that the worker threads, the export and a second export
process can all use it); a tooltip gives the exact UTC time in ISO 8601
(:func:`iso_utc`), which is also what a CSV holds unless the user asks for the
times as shown (RULES §8).

Readings:

- An organization whose zone is empty or unknown to the zone database is shown
  in UTC, and every tooltip of its times says so; nothing fails.
- A table whose rows may be in different zones (the runs index over
  organizations of several zones, "organization's zone" chosen) writes each
  time with its zone's abbreviation (``PST``, ``EST``); a table in one zone
  does not, and says its zone once (the run window's header).
- Days (the Created filter and its presets, Trends) are counted in the chosen
  zone. With "organization's zone" each run's day is its own organization's
  day: "Today" shows the runs created since midnight in each dealership's own
  clock, which is what a person at any of them calls today.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import re
import zoneinfo
from dataclasses import dataclass

UTC = dt.timezone.utc


class ZoneChoice(str, enum.Enum):
    """Whose clock the times are read on (the View menu's choice)."""

    ORGANIZATION = "organization"
    COMPUTER = "computer"
    UTC = "utc"

    @property
    def label(self) -> str:
        return {"organization": "Organization's Time Zone", "computer": "This Computer's Time Zone", "utc": "UTC"}[self.value]


@dataclass(frozen=True)
class Zone:
    """A zone as used: ``key`` is the zone database's name (``UTC`` after a
    fallback) and ``problem`` says what was wrong with the zone asked for
    (completing "the organization …" or "this computer …")."""

    key: str
    tz: dt.tzinfo
    problem: str | None = None


UTC_ZONE = Zone("UTC", UTC)


@functools.lru_cache(maxsize=256)
def zone(name: str | None) -> Zone:
    """The zone named ``name`` (an IANA name such as ``America/Vancouver``), or
    UTC with the reason when it is empty or unknown."""
    text = (name or "").strip()
    if not text:
        return Zone("UTC", UTC, "has no time zone set")
    if text.upper() in ("UTC", "ETC/UTC", "Z"):
        return UTC_ZONE
    try:
        return Zone(text, zoneinfo.ZoneInfo(text))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return Zone("UTC", UTC, f"names an unknown time zone, {text!r}")


def iso_utc(value: dt.datetime | None) -> str:
    """ISO 8601, UTC, to the second (``2026-11-27T09:30:00Z``): tooltips and CSV."""
    if value is None:
        return ""
    return _utc(value).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _utc(value: dt.datetime) -> dt.datetime:
    # A naive time from the database is UTC (RULES §6).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- the locale's short date-time form -----------------------------------------------

_TOKEN = re.compile(r"'(?:[^']|'')*'|d{1,4}|M{1,4}|yyyy|yy|hh?|HH?|mm?|ss?|zzz|z|AP|Ap|aP|ap|A|a|t+|.", re.DOTALL)


@dataclass(frozen=True)
class LocaleForm:
    """The user's locale's short date-time form as plain data: ``pattern`` in
    Qt's date-time format syntax (``QLocale.dateTimeFormat(ShortFormat)``), its
    AM/PM texts and its month and day names (January first, Monday first). The
    default is ISO-like, for code that runs without a window."""

    pattern: str = "yyyy-MM-dd HH:mm"
    am: str = "AM"
    pm: str = "PM"
    short_months: tuple[str, ...] = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    long_months: tuple[str, ...] = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                                    "October", "November", "December")
    short_days: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    long_days: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

    def render(self, wall: dt.datetime) -> str:
        """``wall`` (a clock reading, its zone already applied) in the pattern."""
        return "".join(part(wall) for part in _compiled(self))


@functools.lru_cache(maxsize=16)
def _compiled(form: LocaleForm):
    twelve = any(token.lower() in ("ap", "a") for token in _TOKEN.findall(form.pattern))

    def ampm(upper: bool | None):
        def text(t: dt.datetime) -> str:
            word = form.am if t.hour < 12 else form.pm
            return word if upper is None else word.upper() if upper else word.lower()
        return text

    def hour12(t: dt.datetime) -> int:
        return t.hour % 12 or 12

    fields = {
        "d": lambda t: str(t.day), "dd": lambda t: f"{t.day:02d}",
        "ddd": lambda t: form.short_days[t.weekday()], "dddd": lambda t: form.long_days[t.weekday()],
        "M": lambda t: str(t.month), "MM": lambda t: f"{t.month:02d}",
        "MMM": lambda t: form.short_months[t.month - 1], "MMMM": lambda t: form.long_months[t.month - 1],
        "yy": lambda t: f"{t.year % 100:02d}", "yyyy": lambda t: f"{t.year:04d}",
        "h": (lambda t: str(hour12(t))) if twelve else (lambda t: str(t.hour)),
        "hh": (lambda t: f"{hour12(t):02d}") if twelve else (lambda t: f"{t.hour:02d}"),
        "H": lambda t: str(t.hour), "HH": lambda t: f"{t.hour:02d}",
        "m": lambda t: str(t.minute), "mm": lambda t: f"{t.minute:02d}",
        "s": lambda t: str(t.second), "ss": lambda t: f"{t.second:02d}",
        "z": lambda t: str(t.microsecond // 1000), "zzz": lambda t: f"{t.microsecond // 1000:03d}",
        "AP": ampm(True), "A": ampm(True), "ap": ampm(False), "a": ampm(False), "Ap": ampm(None), "aP": ampm(None),
    }
    parts = []
    for token in _TOKEN.findall(form.pattern):
        if token in fields:
            parts.append(fields[token])
        elif token.startswith("t"):
            parts.append(lambda t: t.tzname() or "")
        elif token.startswith("'") and len(token) > 1:
            literal = token[1:-1].replace("''", "'") if token != "''" else "'"
            parts.append(lambda t, text=literal: text)
        else:
            parts.append(lambda t, text=token: text)
    return tuple(parts)


# -- the chosen way -------------------------------------------------------------------


@dataclass(frozen=True)
class TimeFormat:
    """How times are shown: whose zone (``choice``), in which form, and whether
    each time names its zone (``abbreviate``, for tables mixing zones).
    ``computer_zone`` is this computer's zone's name, read by the window."""

    choice: ZoneChoice = ZoneChoice.ORGANIZATION
    form: LocaleForm = LocaleForm()
    computer_zone: str = "UTC"
    abbreviate: bool = False

    def zone_for(self, organization_zone: str | None) -> Zone:
        """The zone a time of an organization of ``organization_zone`` is shown in."""
        if self.choice is ZoneChoice.UTC:
            return UTC_ZONE
        if self.choice is ZoneChoice.COMPUTER:
            return zone(self.computer_zone)
        return zone(organization_zone)

    def shown(self, value: dt.datetime | None, organization_zone: str | None = None) -> str:
        return "" if value is None else _shown(self, organization_zone, value)

    def tooltip(self, value: dt.datetime | None, organization_zone: str | None = None) -> str:
        """The exact time in UTC, the zone it is shown in, and why that zone when
        it is a fallback."""
        if value is None:
            return ""
        used = self.zone_for(organization_zone)
        text = f"{iso_utc(value)} (UTC)"
        if used.key != "UTC":
            text += f"; shown in {used.key}"
        if used.problem:
            owner = "this computer" if self.choice is ZoneChoice.COMPUTER else "the organization"
            text += f"; {owner} {used.problem}, so it is shown in UTC"
        return text

    def for_zone(self, organization_zone: str | None) -> ShownTimes:
        """The times of one organization, as a function of the stored time."""
        return ShownTimes(self, organization_zone)

    def day_zone(self) -> str | None:
        """The zone days are counted in (see the module's readings): a zone's
        name, or None for each organization's own zone."""
        if self.choice is ZoneChoice.ORGANIZATION:
            return None
        return self.zone_for(None).key

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """Today's date for the date presets: in the chosen zone; with each
        organization's own zone, this computer's date (each organization's runs
        are then counted on that date of its own clock)."""
        now = now or dt.datetime.now(UTC)
        name = self.computer_zone if self.choice is ZoneChoice.ORGANIZATION else self.zone_for(None).key
        return now.astimezone(zone(name).tz).date()


@functools.lru_cache(maxsize=65_536)
def _shown(fmt: TimeFormat, organization_zone: str | None, value: dt.datetime) -> str:
    used = fmt.zone_for(organization_zone)
    wall = _utc(value).astimezone(used.tz)
    text = fmt.form.render(wall)
    if fmt.abbreviate:
        text += " " + (wall.tzname() or used.key)
    return text


@dataclass(frozen=True)
class ShownTimes:
    """A stored time as shown for one organization: hashable, picklable (a column
    of a table, or an export's second process, can hold it)."""

    fmt: TimeFormat
    organization_zone: str | None = None

    def __call__(self, value: dt.datetime | None) -> str:
        return self.fmt.shown(value, self.organization_zone)

    def tooltip(self, value: dt.datetime | None) -> str:
        return self.fmt.tooltip(value, self.organization_zone)

    @property
    def zone(self) -> Zone:
        return self.fmt.zone_for(self.organization_zone)


def day_bounds(first: dt.date | None, last: dt.date | None, zone_name: str | None) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The UTC instants from the start of ``first`` to the start of the day after
    ``last`` in the zone ``zone_name`` (an unknown one counts in UTC): the half-open
    range of the times created on those days, both ends included."""
    tz = zone(zone_name).tz if zone_name else UTC
    start = dt.datetime.combine(first, dt.time(), tzinfo=tz).astimezone(UTC) if first is not None else None
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(UTC) if last is not None else None
    return start, end
