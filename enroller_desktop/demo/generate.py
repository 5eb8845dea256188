"""The demo's rows, drawn from one ``random.Random(seed)`` in chunks of customers.

Rows are tuples in the column order of ``*_COLUMNS``, with dates and times
already written as the text both databases accept ("YYYY-MM-DD" and
"YYYY-MM-DD HH:MM:SS.ffffff", SQLAlchemy's own SQLite format), so that a million
customers need no per-value conversion on the way in. Every day is counted from
``today``: the same seed on the same day gives the same rows.

The hot loops read pools through ``pool[int(r() * len)]`` rather than
``random.choice``: it is several times cheaper and just as deterministic.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from random import Random

from enroller_desktop.db.enums import CampaignCustomerPurpose, CampaignCustomerStatus, Expiration
from enroller_desktop.demo import catalog
from enroller_desktop.demo.catalog import CampaignSpec

ORGANIZATION_COLUMNS = ("id", "name", "country", "timezone")
CAMPAIGN_COLUMNS = (
    "id", "organization_id", "name", "active", "uses_email", "uses_phone", "uses_sms", "starts_on", "ends_on",
    "expire_after_days", "marketing_exclusion_days", "exclusion_exempt",
)
EXCLUDED_TAG_COLUMNS = ("campaign_id", "tag")
QUERY_PARAM_COLUMNS = ("id", "campaign_id", "process_order", "name", "criterion", "event_key", "active")
CUSTOMER_COLUMNS = (
    "id", "organization_id", "first_name", "last_name", "email", "phone", "mobile", "deleted", "opt_out_all",
    "email_opt_out", "sms_opt_out", "do_not_call", "casl_express_consent_at", "casl_withdrawn_at",
    "last_purchase_at", "last_inquiry_at", "created_at",
)
CUSTOMER_TAG_COLUMNS = ("customer_id", "tag")
VEHICLE_COLUMNS = (
    "id", "customer_id", "vin", "year", "make", "model", "odometer", "purchase_date", "lease_end_date",
    "last_service_date", "warranty_end_date",
)
CAMPAIGN_CUSTOMER_COLUMNS = (
    "id", "campaign_id", "customer_id", "vehicle_id", "event_key", "run_id", "purpose", "status", "enrolled_at",
    "expiration", "expired_at", "last_attempt_at", "last_attempt_disposition", "appointment_at",
)

#: The furthest a demo date reaches into the past and the future, in days.
PAST_DAYS = 7_400
FUTURE_DAYS = 2_200
#: Times of day for events: every 20 seconds from 13:00 to 23:59 UTC, a North
#: American business day.
TIMES_OF_DAY = tuple(f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000000" for s in range(13 * 3600, 24 * 3600, 20))
#: Appointments fall on the hour or the half hour.
APPOINTMENT_TIMES = tuple(f" {h:02d}:{m:02d}:00.000000" for h in range(13, 23) for m in (0, 30))

LEASE_TERMS = (730, 1095, 1095, 1095, 1460)
VEHICLE_COUNTS = (0,) * 14 + (1,) * 52 + (2,) * 24 + (3,) * 7 + (4,) * 2 + (5,)  # about 1.34 per customer
VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_VALUES = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))),
              "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
VIN_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 1980, 1981, ... and again from 2010

#: Addresses as customers give them: {0} first name, {1} last name, {2} domain,
#: {3} a number, {4} the first initial, all without accents.
VALID_EMAILS = ("{0}.{1}@{2}", "{0}{1}{3}@{2}", "{4}{1}@{2}", "{0}_{1}{3}@{2}", "{1}.{0}@{2}", "{0}.{1}@{2}", "{1}{4}{3}@{2}")
#: Addresses typed in a hurry; the validator refuses each of them.
INVALID_EMAILS = ("{0}.{1}@example", "{0}.{1}@@{2}", "{0} {1}@{2}", "{0}.{1}@{2},", " {0}.{1}@{2}", "{0}.{1}.{2}", "{0}..{1}@{2}")

Q = CampaignCustomerStatus
PURPOSES = (CampaignCustomerPurpose.DEFAULT.value,) * 86 + (CampaignCustomerPurpose.RETURN_CALL.value,) * 7 + (
    CampaignCustomerPurpose.RETURN_EMAIL.value,) * 4 + (CampaignCustomerPurpose.RETURN_MESSAGE.value,) * 3


def _slots(*weighted: tuple[CampaignCustomerStatus, int]) -> tuple[str, ...]:
    return tuple(status.value for status, weight in weighted for _ in range(weight))


#: An enrollment's status follows its age: the downstream systems move it along.
STATUS_BY_AGE = (
    (3, _slots((Q.QUEUED, 50), (Q.PENDING_DEPLOYMENT, 30), (Q.ASSIGNED, 20))),
    (14, _slots((Q.QUEUED, 10), (Q.PENDING_DEPLOYMENT, 8), (Q.ASSIGNED, 30), (Q.IN_PROGRESS, 35), (Q.COMPLETED, 12), (Q.ERROR, 5))),
    (PAST_DAYS, _slots((Q.ASSIGNED, 8), (Q.IN_PROGRESS, 25), (Q.COMPLETED, 55), (Q.ERROR, 10), (Q.QUEUED, 2))),
)
ATTEMPTED = frozenset({Q.IN_PROGRESS.value, Q.COMPLETED.value, Q.ERROR.value})


class Calendar:
    """Dates as stored text, their years and months, in lists indexed by the day
    offset from today itself: ``dates[-3]`` is three days ago, ``dates[0]`` today.
    The future is stored first and the past after it, so that Python's negative
    indices, which count back from the end, land on the past days."""

    def __init__(self, today: dt.date) -> None:
        offsets = [*range(0, FUTURE_DAYS + 1), *range(-PAST_DAYS, 0)]
        days = [today + dt.timedelta(days=offset) for offset in offsets]
        self.today = today
        self.dates = [d.isoformat() for d in days]
        self.years = [d.year for d in days]
        self.months = [d.month for d in days]

    def offset_of(self, day: dt.date) -> int:
        return (day - self.today).days


def ascii_name(name: str) -> str:
    """How a name ends up in an email address: no accents, spaces or apostrophes."""
    decomposed = unicodedata.normalize("NFKD", name.replace("ß", "ss").replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


@dataclass(frozen=True)
class FirstIds:
    """The id before the first row of each table: the demo adds to what is there."""

    organization: int = 0
    campaign: int = 0
    query_param: int = 0
    customer: int = 0
    vehicle: int = 0
    campaign_customer: int = 0


@dataclass
class Chunk:
    customers: list[tuple] = field(default_factory=list)
    customer_tags: list[tuple] = field(default_factory=list)
    vehicles: list[tuple] = field(default_factory=list)
    campaign_customers: list[tuple] = field(default_factory=list)


# A vehicle as the enrollment rules see it: day offsets, not text.
_VID, _YEAR, _MAKE, _PURCHASE, _LEASE, _SERVICE, _WARRANTY, _ODOMETER, _VIN = range(9)


def _rules(cal: Calendar) -> dict[str, Callable]:
    """Enrollment rules: given a vehicle (or None) and the customer's last purchase
    offset and tags, the event key an earlier run would have enrolled, or None.
    Each mirrors its campaign's criteria closely enough to look right."""
    this_year = cal.today.year
    dates = cal.dates

    def service_due(v, last_purchase, tags):
        if v is None:
            return None
        if v[_SERVICE] is not None:
            return dates[v[_SERVICE]] if v[_SERVICE] < -180 and v[_MAKE] != "Tesla" else None
        return dates[v[_PURCHASE]] if v[_PURCHASE] < -180 else None

    def lease(v, last_purchase, tags):
        return dates[v[_LEASE]] if v is not None and v[_LEASE] is not None and -30 <= v[_LEASE] <= 90 else None

    def win_back(v, last_purchase, tags):
        return "" if last_purchase is not None and last_purchase < -1095 and "Deceased" not in tags else None

    def warranty(v, last_purchase, tags):
        return dates[v[_WARRANTY]] if v is not None and v[_WARRANTY] is not None and -20 <= v[_WARRANTY] <= 120 else None

    def recall(v, last_purchase, tags):
        if v is None:
            return None
        make, year = v[_MAKE], v[_YEAR]
        if (make in ("Honda", "Acura") and this_year - 12 <= year <= this_year - 7) or (
            make in ("Toyota", "Lexus") and this_year - 8 <= year <= this_year - 6
        ):
            return v[_VIN] or ""
        return None

    def winter_tires(v, last_purchase, tags):
        return "" if v is not None and this_year - 11 <= v[_YEAR] <= this_year - 3 else None

    def first_service(v, last_purchase, tags):
        return dates[v[_PURCHASE]] if v is not None and v[_SERVICE] is None and -150 <= v[_PURCHASE] else None

    def vip(v, last_purchase, tags):
        return "" if "Birthday This Month" in tags or "VIP" in tags or "Loyalty Club" in tags else None

    def trade_up(v, last_purchase, tags):
        return "" if v is not None and v[_YEAR] <= this_year - 5 else None

    def high_mileage(v, last_purchase, tags):
        if v is None or v[_ODOMETER] is None or v[_SERVICE] is None:
            return None
        return dates[v[_SERVICE]] if v[_ODOMETER] >= 120_000 and v[_SERVICE] < -90 else None

    return {rule.__name__: rule for rule in (
        service_due, lease, win_back, warranty, recall, winter_tires, first_service, vip, trade_up, high_mileage
    )}


class _Model:
    """A vehicle model with what its vehicles need worked out once."""

    __slots__ = ("make", "name", "vin_prefix", "plants", "first_year", "warranty_days", "first_purchase", "vin_sum")

    def __init__(self, spec: catalog.ModelSpec, cal: Calendar) -> None:
        self.make, self.name, self.plants, self.first_year = spec.make, spec.model, spec.plants, spec.first_year
        self.vin_prefix = spec.wmi + spec.vds
        self.warranty_days = 365 * spec.warranty_years
        # The earliest it can have been bought: the fall before its first model year.
        self.first_purchase = max(-PAST_DAYS, cal.offset_of(dt.date(spec.first_year - 1, 9, 1)))
        # The VIN check digit's weighted sum over the first eight characters.
        self.vin_sum = sum(VIN_VALUES[ch] * w for ch, w in zip(self.vin_prefix, VIN_WEIGHTS))


@dataclass
class _Campaign:
    id: int
    spec: CampaignSpec
    rule: Callable | None
    channels: str  # the channels attempts are made on, weighted toward the phone


class DemoGenerator:
    """Draws the demo's rows. Create one per load; call the methods in order."""

    def __init__(self, *, seed: int, today: dt.date, first_ids: FirstIds = FirstIds()) -> None:
        self.random = Random(seed)
        self.cal = Calendar(today)
        self.ids = first_ids
        self.campaign_specs = catalog.campaigns(today.year)
        self._next_customer = first_ids.customer
        self._next_vehicle = first_ids.vehicle
        self._next_campaign_customer = first_ids.campaign_customer
        self._build_pools()

    # --- organizations and campaigns ------------------------------------------

    def organizations(self) -> list[tuple]:
        return [(self.ids.organization + i + 1, o.name, o.country, o.timezone) for i, o in enumerate(catalog.ORGANIZATIONS)]

    def campaigns(self) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """Rows of campaigns, their excluded tags, and their query params."""
        dates = self.cal.dates
        campaigns, excluded, params = [], [], []
        param_id = self.ids.query_param
        for c in self._campaigns:
            s = c.spec
            campaigns.append((
                c.id, self.ids.organization + s.organization + 1, s.name, s.active,
                "E" in s.channels, "P" in s.channels, "S" in s.channels,
                None if s.starts_in is None else dates[s.starts_in], None if s.ends_in is None else dates[s.ends_in],
                s.expire_after_days, s.marketing_exclusion_days, s.exclusion_exempt,
            ))
            excluded.extend((c.id, tag) for tag in s.excluded_tags)
            for order, p in enumerate(s.params, start=1):
                param_id += 1
                params.append((param_id, c.id, order, p.name, json.dumps(p.criterion, ensure_ascii=False), p.event_key, p.active))
        return campaigns, excluded, params

    # --- customers -------------------------------------------------------------

    def customers(self, count: int, chunk_size: int = 5_000) -> Iterator[Chunk]:
        """``count`` customers with their tags, vehicles and enrollments, a chunk at a time."""
        done = 0
        while done < count:
            chunk = Chunk()
            for _ in range(min(chunk_size, count - done)):
                self._customer(chunk)
            done += min(chunk_size, count - done)
            yield chunk

    def _build_pools(self) -> None:
        cal = self.cal
        self._names = {culture: (tuple((n, ascii_name(n)) for n in firsts), tuple((n, ascii_name(n)) for n in lasts))
                       for culture, (firsts, lasts) in catalog.NAMES.items()}
        self._org_slots = tuple(i for i, o in enumerate(catalog.ORGANIZATIONS) for _ in range(o.share))
        self._org_cultures = [tuple(self._names[c] for c, weight in o.cultures for _ in range(weight)) for o in catalog.ORGANIZATIONS]
        self._org_ids = [self.ids.organization + i + 1 for i in range(len(catalog.ORGANIZATIONS))]
        self._org_canadian = [o.country == "CA" for o in catalog.ORGANIZATIONS]
        self._org_areas = [o.area_codes for o in catalog.ORGANIZATIONS]
        # A Canadian dealer's customer with an American number, and the reverse: snowbirds.
        by_country = {country: tuple(a for o in catalog.ORGANIZATIONS if o.country == country for a in o.area_codes) for country in ("CA", "US")}
        self._org_foreign_areas = [by_country["US" if o.country == "CA" else "CA"] for o in catalog.ORGANIZATIONS]
        self._lines = tuple(f"01{n:02d}" for n in range(100))
        self._tags = tuple(tag for tag, weight in catalog.TAGS for _ in range(weight))
        models = {spec: _Model(spec, cal) for spec in catalog.MODELS}
        self._models = tuple(models[spec] for spec in catalog.MODELS for _ in range(spec.weight))
        self._vin_high = [sum(int(ch) * w for ch, w in zip(f"{n:03d}", (7, 6, 5))) for n in range(1000)]
        self._vin_low = [sum(int(ch) * w for ch, w in zip(f"{n:03d}", (4, 3, 2))) for n in range(1000)]
        rules = _rules(cal)
        self._campaigns = [
            _Campaign(self.ids.campaign + i + 1, spec, rules[spec.enroll] if spec.enroll else None,
                      "".join(ch * (3 if ch == "P" else 1) for ch in spec.channels))
            for i, spec in enumerate(self.campaign_specs)
        ]
        self._org_campaigns = [[c for c in self._campaigns if c.spec.organization == i and c.rule] for i in range(len(catalog.ORGANIZATIONS))]

    def _timestamp(self, offset: int) -> str:
        return self.cal.dates[offset] + TIMES_OF_DAY[int(self.random.random() * len(TIMES_OF_DAY))]

    def _day_between(self, low: int, high: int) -> int:
        """A day offset from ``low`` to ``high`` inclusive."""
        return low + int(self.random.random() * (high - low + 1))

    def _customer(self, chunk: Chunk) -> None:
        r = self.random.random
        self._next_customer += 1
        cid = self._next_customer
        org = self._org_slots[int(r() * len(self._org_slots))]
        age = 2 + int(r() * 5400)  # days since the dealership first recorded the customer

        first, last, email = self._name_and_email(org)
        areas, foreign = self._org_areas[org], self._org_foreign_areas[org]
        k = r()
        phone = None if k < 0.40 else "" if k < 0.44 else self._phone(areas, foreign)
        k = r()
        mobile = None if k < 0.28 else "" if k < 0.31 else self._phone(areas, foreign)

        tags = ()
        if r() < 0.3:
            tags = (self._tags[int(r() * len(self._tags))],)
            if r() < 0.3:
                second = self._tags[int(r() * len(self._tags))]
                if second != tags[0]:
                    tags += (second,)
        chunk.customer_tags.extend((cid, tag) for tag in tags)

        vehicles = [self._vehicle(cid, age, chunk) for _ in range(VEHICLE_COUNTS[int(r() * len(VEHICLE_COUNTS))])]
        if vehicles:
            last_purchase = max(v[_PURCHASE] for v in vehicles) if r() < 0.92 else None
            inquiry = self._day_between(max(-age, -1100), -1) if r() < 0.25 else None
        else:  # a prospect, or a customer whose vehicles were sold on
            last_purchase = self._day_between(-age, -1) if r() < 0.2 else None
            inquiry = self._day_between(max(-age, -1100), -1) if r() < 0.75 else None

        express = withdrawn = None
        if self._org_canadian[org]:
            express, withdrawn = self._consent(age)

        ts = self._timestamp
        chunk.customers.append((
            cid, self._org_ids[org], first, last, email, phone, mobile,
            r() < 0.02, r() < 0.025, r() < 0.07, r() < 0.05, r() < 0.04,
            express, withdrawn,
            None if last_purchase is None else ts(last_purchase),
            None if inquiry is None else ts(inquiry),
            ts(-age),
        ))
        self._enrollments(org, cid, age, vehicles, last_purchase, tags, chunk)

    def _name_and_email(self, org: int) -> tuple[str | None, str | None, str | None]:
        r = self.random.random
        firsts, lasts = self._org_cultures[org][int(r() * len(self._org_cultures[org]))]
        first, first_ascii = firsts[int(r() * len(firsts))]
        last, last_ascii = lasts[int(r() * len(lasts))]
        k = r()
        if k < 0.012:
            first, last = None, catalog.COMPANIES[int(r() * len(catalog.COMPANIES))]
            first_ascii, last_ascii = "office", ascii_name(last)[:12]
        elif k < 0.016:
            first = ""
        elif k < 0.035:  # imported from an old system that shouted
            first, last = first.upper(), last.upper()
        elif k < 0.042:
            first, last = first.lower(), last.lower()
        elif k < 0.05:
            last += " "

        k = r()
        if k < 0.07:
            return first, last, None
        if k < 0.10:
            return first, last, ""
        if k < 0.14:
            return first, last, catalog.JUNK_EMAILS[int(r() * len(catalog.JUNK_EMAILS))]
        if k < 0.15:
            return first, last, catalog.PLACEHOLDER_EMAIL
        domain = catalog.EMAIL_DOMAINS[int(r() * len(catalog.EMAIL_DOMAINS))]
        if k < 0.19:  # typed in a hurry
            template = INVALID_EMAILS[int(r() * len(INVALID_EMAILS))]
        elif k < 0.21 and first:  # an internationalized address, valid as written
            first_ascii, last_ascii = first.lower().replace(" ", ""), last.strip().lower().replace(" ", "").replace("'", "")
            template = VALID_EMAILS[0]
        else:
            template = VALID_EMAILS[int(r() * len(VALID_EMAILS))]
        email = template.format(first_ascii, last_ascii, domain, int(r() * 100), first_ascii[:1])
        # A customer known by last name only has no first part.
        return first, last, email.lstrip("._")

    def _phone(self, areas: tuple[str, ...], foreign_areas: tuple[str, ...]) -> str:
        r = self.random.random
        line = self._lines[int(r() * 100)]
        k = r()
        if k < 0.03:
            return catalog.JUNK_PHONES[int(r() * len(catalog.JUNK_PHONES))]
        if k < 0.05:
            area = foreign_areas[int(r() * len(foreign_areas))]
        elif k < 0.055:
            return catalog.FOREIGN_PHONES[int(r() * len(catalog.FOREIGN_PHONES))] % line[1:]
        else:
            area = areas[int(r() * len(areas))]
        if k > 0.99:  # a digit short
            return f"({area}) 555-{line[:3]}"
        return catalog.PHONE_FORMATS[int(r() * len(catalog.PHONE_FORMATS))] % (area, line)

    def _consent(self, age: int) -> tuple[str | None, str | None]:
        """CASL consent of a Canadian customer: express, withdrawn, withdrawn then
        given again, or nothing (consent then rests on a purchase or an inquiry)."""
        r = self.random.random
        ts = self._timestamp
        k = r()
        if k < 0.30:
            return ts(self._day_between(-age, -1)), None
        if k < 0.35:
            return None, ts(self._day_between(-age, -1))
        first = self._day_between(-age, -2)
        then = self._day_between(first + 1, -1)
        if k < 0.39:  # consented, then withdrew
            return ts(first), ts(then)
        if k < 0.43:  # withdrew, then consented again
            return ts(then), ts(first)
        return None, None

    def _vehicle(self, cid: int, age: int, chunk: Chunk) -> tuple:
        r = self.random.random
        cal = self.cal
        self._next_vehicle += 1
        vid = self._next_vehicle
        model = self._models[int(r() * len(self._models))]
        # Recent purchases outnumber old ones: customers drift away over the years.
        purchase = max(-1 - int(r() ** 1.5 * min(age, 5000)), model.first_purchase)
        bought_in = cal.years[purchase]
        new = r() < 0.62
        if new:  # next year's models arrive in the fall
            year = bought_in + 1 if cal.months[purchase] >= 9 else bought_in
            lease = purchase + LEASE_TERMS[int(r() * len(LEASE_TERMS))] if r() < 0.3 else None
            warranty = purchase + model.warranty_days
            odometer = int(-purchase * (25 + r() * 45))
        else:
            year = max(model.first_year, bought_in - 1 - int(r() * r() * 12))
            lease = None
            warranty = purchase + 365 if r() < 0.3 else None  # certified pre-owned gets a year
            odometer = int(-purchase * (25 + r() * 45)) + (bought_in - year) * (12_000 + int(r() * 8_000))
        if r() < 0.03:
            odometer = None
        if purchase > -45 or r() < 0.12:
            service = None
        elif r() < 0.55:  # a regular: serviced in the last half year or so
            service = max(purchase + 1, -1 - int(r() * 200))
        else:
            service = purchase + 1 + int(r() * -(purchase + 1))

        k = r()
        if k < 0.005:
            vin = None
        elif k < 0.008:
            vin = ""
        else:
            serial = (vid * 48_271) % 1_000_000
            year_code = VIN_YEAR_CODES[(year - 1980) % 30]
            plant = model.plants[int(r() * len(model.plants))]
            check = (model.vin_sum + VIN_VALUES[year_code] * 9 + VIN_VALUES[plant] * 8
                     + self._vin_high[serial // 1000] + self._vin_low[serial % 1000]) % 11
            vin = f"{model.vin_prefix}{'X' if check == 10 else check}{year_code}{plant}{serial:06d}"
            if k > 0.997:  # a character lost when it was typed in
                vin = vin[:16]

        dates = cal.dates
        chunk.vehicles.append((
            vid, cid, vin, year, model.make, model.name, odometer, dates[purchase],
            None if lease is None else dates[lease], None if service is None else dates[service],
            None if warranty is None else dates[warranty],
        ))
        return (vid, year, model.make, purchase, lease, service, warranty, odometer, vin)

    # --- enrollments -----------------------------------------------------------

    def _enrollments(self, org: int, cid: int, age: int, vehicles: list[tuple], last_purchase: int | None,
                     tags: tuple[str, ...], chunk: Chunk) -> None:
        r = self.random.random
        for campaign in self._org_campaigns[org]:
            spec = campaign.spec
            for v in vehicles or (None,):
                if r() >= spec.enroll_rate:
                    continue
                key = campaign.rule(v, last_purchase, tags)
                if key is None:
                    continue
                earliest = -age if v is None else max(-age, v[_PURCHASE])
                low, high = spec.enroll_window
                enrolled = max(-self._day_between(low, high), earliest)
                if spec.ends_in is not None:
                    enrolled = min(enrolled, spec.ends_in)
                vehicle_id = None if v is None else v[_VID]
                if spec.repeat_rate and r() < spec.repeat_rate:
                    self._earlier_event(campaign, cid, vehicle_id, key, earliest, enrolled, chunk)
                self._enroll(campaign, cid, vehicle_id, key, enrolled, chunk)

    def _earlier_event(self, campaign: _Campaign, cid: int, vehicle_id: int | None, key: str, earliest: int,
                       enrolled: int, chunk: Chunk) -> None:
        """The same campaign's enrollment for this vehicle's previous event, long done."""
        before = self._day_between(200, 420)
        if enrolled - before < earliest or not key:
            return
        past_key = self.cal.dates[self.cal.offset_of(dt.date.fromisoformat(key)) - before]
        self._enroll(campaign, cid, vehicle_id, past_key, enrolled - before, chunk, status=Q.COMPLETED.value)

    def _enroll(self, campaign: _Campaign, cid: int, vehicle_id: int | None, key: str, enrolled: int, chunk: Chunk,
                status: str | None = None) -> None:
        r = self.random.random
        dates = self.cal.dates
        spec = campaign.spec
        days = -enrolled
        time_index = int(r() * len(TIMES_OF_DAY))
        if status is None:
            statuses = next(slots for limit, slots in STATUS_BY_AGE if days <= limit)
            status = statuses[int(r() * len(statuses))]

        # Expired by the first reason that held when a daily expiry run came by;
        # some enrollments past their age are still waiting for that run.
        expiration = expired_on = None
        if status != Q.COMPLETED.value:
            ended = spec.ends_in is not None and spec.ends_in < 0
            aged_out_on = None
            if spec.expire_after_days is not None and days > spec.expire_after_days + 1:
                aged_out_on = enrolled + spec.expire_after_days + 1
            if ended and (aged_out_on is None or aged_out_on > spec.ends_in):
                expiration, expired_on = Expiration.CAMPAIGN_ENDED.value, spec.ends_in + 1
            elif aged_out_on is not None and (ended or r() < 0.85):
                expiration, expired_on = Expiration.AGED_OUT.value, aged_out_on
            elif days >= 3 and r() < 0.06:
                expiration, expired_on = Expiration.NO_LONGER_QUALIFIES.value, self._day_between(enrolled + 1, -1)

        attempt_at = disposition = appointment_at = None
        if status in ATTEMPTED or (status == Q.ASSIGNED.value and r() < 0.4):
            attempted = self._day_between(enrolled, min(-1, enrolled + 30))
            if expired_on is not None:
                attempted = min(attempted, expired_on)
            attempt_time = time_index + int(r() * (len(TIMES_OF_DAY) - time_index)) if attempted == enrolled else int(r() * len(TIMES_OF_DAY))
            attempt_at = dates[attempted] + TIMES_OF_DAY[attempt_time]
            channel = campaign.channels[int(r() * len(campaign.channels))]
            dispositions = catalog.DISPOSITIONS[channel][status if status in ATTEMPTED else Q.ASSIGNED.value]
            disposition = dispositions[int(r() * len(dispositions))]
            if disposition in catalog.APPOINTMENT_DISPOSITIONS:
                appointment_at = dates[attempted + 1 + int(r() * 21)] + APPOINTMENT_TIMES[int(r() * len(APPOINTMENT_TIMES))]

        self._next_campaign_customer += 1
        chunk.campaign_customers.append((
            self._next_campaign_customer, campaign.id, cid, vehicle_id, key, None,
            PURPOSES[int(r() * len(PURPOSES))], status,
            dates[enrolled] + TIMES_OF_DAY[time_index],
            expiration, None if expired_on is None else dates[expired_on] + TIMES_OF_DAY[-1],
            attempt_at, disposition, appointment_at,
        ))
