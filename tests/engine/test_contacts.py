"""Contact verdicts and the Valid Email, Valid Phone and Valid Message checks (RULES §3).

Numbers used (what phonenumbers says of them):

- ``+1 416 555 0123`` Toronto: valid in CA only, FIXED_LINE_OR_MOBILE (every ordinary
  North American number is; NANP has no MOBILE-only or FIXED_LINE-only numbers).
- ``+1 212 736 5000`` New York: valid in US only, FIXED_LINE_OR_MOBILE.
- ``+1 800 555 0199`` toll free: valid in CA and US, TOLL_FREE (a phone, not a mobile).
- ``+44 7400 123456`` UK MOBILE, ``+44 20 7946 0018`` UK FIXED_LINE: valid in GB only.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt

import pytest
import sqlalchemy as sa

from enroller_desktop.db.engine import open_database
from enroller_desktop.db.models import ContactVerdict, Customer, Organization
from enroller_desktop.engine import contacts
from enroller_desktop.engine.contacts import email_is_valid, ensure_verdicts, phone_verdict
from enroller_desktop.engine.funnel import FunnelContext, looked_up_channel_checks
from enroller_desktop.engine.runs import CancelToken

TORONTO = "+1 416 555 0123"
NEW_YORK = "+1 212 736 5000"
TOLL_FREE = "+1 800 555 0199"
UK_MOBILE = "+44 7400 123456"
UK_FIXED_LINE = "+44 20 7946 0018"

HOSTILE = [
    "x" * 10_000 + "@dealer.ca",
    "9" * 10_000,
    "\u202ejane@dealer.ca",
    "jane@dealer.ca\u200f",
    "   ",
    "🚗@🚗.ca",
    "'; DROP TABLE customers; --",
]

verdicts = ContactVerdict.__table__
customers = Customer.__table__
ALL_CUSTOMERS = sa.select(customers.c.id)


def add_customers(db, country: str, *rows: dict) -> list[int]:
    """An organization in ``country`` with one customer per row; their ids."""
    with db.write() as conn:
        organization_id = conn.execute(
            sa.insert(Organization.__table__).values(name=f"Dealer {country}", country=country).returning(Organization.id)
        ).scalar_one()
        return [
            conn.execute(sa.insert(customers).values(organization_id=organization_id, **row).returning(customers.c.id)).scalar_one()
            for row in rows
        ]


def checks(db, country: str, customer_id: int, *, uses_email=True, uses_phone=True, uses_sms=True) -> dict[str, int | None]:
    """The three channel checks of one customer, after ensuring its verdicts."""
    ensure_verdicts(db, country=country, customer_ids=sa.select(customers.c.id).where(customers.c.id == customer_id))
    c = customers.alias("c")
    expressions = looked_up_channel_checks(campaign(db, country, uses_email, uses_phone, uses_sms), c)
    with db.read() as conn:
        row = conn.execute(
            sa.select(*(expression.label(name) for name, expression in expressions.items())).where(c.c.id == customer_id)
        ).one()
    return dict(row._mapping)


def campaign(db, country: str, uses_email=True, uses_phone=True, uses_sms=True) -> FunnelContext:
    """What the funnel knows of a campaign, as far as the channel checks care."""
    return FunnelContext(
        run_id=0, campaign_id=0, organization_id=0, country=country, as_of=dt.datetime.now(dt.timezone.utc),
        customer_id=None, uses_email=uses_email, uses_phone=uses_phone, uses_sms=uses_sms,
        marketing_exclusion_days=None, has_excluded_tags=False, dialect=db.dialect,
    )


def verdict_rows(db) -> list[tuple]:
    v = verdicts.c
    with db.read() as conn:
        return sorted(conn.execute(sa.select(v.kind, v.country, v.value, v.valid, v.mobile)).all())


@pytest.mark.parametrize(
    "value",
    ["jane.doe@example.com", "JANE@DEALER.CA", "jose.pérez@concesionario.mx", "用户@例子.广告"],
)
def test_email_is_valid_accepts_addresses_the_library_accepts(value):
    assert email_is_valid(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "jane",
        " jane@dealer.ca",
        "jane@dealer.ca ",
        "jane@localhost",
        "jane@example.invalid",
        "a\x00b@dealer.ca",
        "jane@dealer\x00.ca",
        *HOSTILE,
    ],
    ids=repr,
)
def test_email_is_valid_fails_bad_and_hostile_values_without_raising(value):
    assert email_is_valid(value) is False


@pytest.mark.parametrize(
    ("value", "country", "expected"),
    [
        (TORONTO, "CA", (True, True)),
        ("(416) 555-0123", "CA", (True, True)),
        (TORONTO, "US", (False, False)),
        (NEW_YORK, "US", (True, True)),
        (NEW_YORK, "CA", (False, False)),
        (TOLL_FREE, "CA", (True, False)),
        (TOLL_FREE, "US", (True, False)),
        (UK_MOBILE, "CA", (False, False)),
        (UK_MOBILE, "GB", (True, True)),
        (UK_FIXED_LINE, "GB", (True, False)),
        ("+1 416 555 01234", "CA", (False, False)),
        ("abc", "CA", (False, False)),
        ("", "CA", (False, False)),
        ("\x00", "US", (False, False)),
        # The library skips the marks around the digits: the number is what it reads.
        ("\u202e416 555 0123\u202c", "CA", (True, True)),
        *((value, "CA", (False, False)) for value in HOSTILE),
    ],
    ids=repr,
)
def test_phone_verdict_is_validity_for_the_country_and_mobile_type(value, country, expected):
    assert phone_verdict(value, country) == expected


# One row per line of the check table: (customer columns, organization country,
# expected Valid Email, Valid Phone, Valid Message) for a campaign using all channels.
CHECK_TABLE = {
    "valid email passes": ({"email": "jane@dealer.ca"}, "CA", (1, 0, 0)),
    "invalid email fails": ({"email": "jane@dealer"}, "CA", (0, 0, 0)),
    "NULL email fails": ({"email": None}, "CA", (0, 0, 0)),
    "empty email fails": ({"email": ""}, "CA", (0, 0, 0)),
    "email opt-out fails a valid email": ({"email": "jane@dealer.ca", "email_opt_out": True}, "CA", (0, 0, 0)),
    "valid phone passes phone only": ({"phone": TORONTO}, "CA", (0, 1, 0)),
    "valid mobile passes phone and message": ({"mobile": TORONTO}, "CA", (0, 1, 1)),
    "invalid phone and mobile fail": ({"phone": "555-0123", "mobile": "abc"}, "CA", (0, 0, 0)),
    "NULL phone and mobile fail": ({"phone": None, "mobile": None}, "CA", (0, 0, 0)),
    "empty phone and mobile fail": ({"phone": "", "mobile": ""}, "CA", (0, 0, 0)),
    "valid mobile rescues an invalid phone": ({"phone": "abc", "mobile": TORONTO}, "CA", (0, 1, 1)),
    "valid phone with invalid mobile passes phone only": ({"phone": TORONTO, "mobile": "abc"}, "CA", (0, 1, 0)),
    "do not call fails phone, not message": ({"mobile": TORONTO, "do_not_call": True}, "CA", (0, 0, 1)),
    "sms opt-out fails message, not phone": ({"mobile": TORONTO, "sms_opt_out": True}, "CA", (0, 1, 0)),
    "toll-free mobile is a phone but not a message": ({"mobile": TOLL_FREE}, "US", (0, 1, 0)),
    "US number in a CA organization fails": ({"phone": NEW_YORK, "mobile": NEW_YORK}, "CA", (0, 0, 0)),
    "US number in a US organization passes": ({"phone": NEW_YORK, "mobile": NEW_YORK}, "US", (0, 1, 1)),
    "CA number in a US organization fails": ({"phone": TORONTO, "mobile": TORONTO}, "US", (0, 0, 0)),
    "UK mobile fails in CA": ({"phone": UK_MOBILE, "mobile": UK_MOBILE}, "CA", (0, 0, 0)),
    "UK mobile fails in US": ({"phone": UK_MOBILE, "mobile": UK_MOBILE}, "US", (0, 0, 0)),
    "opt out of all channels fails all": (
        {"email": "jane@dealer.ca", "mobile": TORONTO, "email_opt_out": True, "do_not_call": True, "sms_opt_out": True},
        "CA",
        (0, 0, 0),
    ),
}


@pytest.mark.parametrize(("customer", "country", "expected"), CHECK_TABLE.values(), ids=CHECK_TABLE.keys())
def test_channel_checks_follow_the_check_table(db, customer, country, expected):
    [customer_id] = add_customers(db, country, customer)

    result = checks(db, country, customer_id)

    assert (result["valid_email"], result["valid_phone"], result["valid_message"]) == expected


@pytest.mark.parametrize(
    ("uses", "not_applicable"),
    [
        ({"uses_email": False}, "valid_email"),
        ({"uses_phone": False}, "valid_phone"),
        ({"uses_sms": False}, "valid_message"),
    ],
)
def test_a_channel_the_campaign_does_not_use_is_not_applicable(db, uses, not_applicable):
    [customer_id] = add_customers(db, "CA", {"email": "jane@dealer.ca", "mobile": TORONTO})

    result = checks(db, "CA", customer_id, **uses)

    assert result == {name: None if name == not_applicable else 1 for name in result}


def test_verdicts_are_computed_once(db):
    add_customers(db, "CA", {"email": "jane@dealer.ca", "phone": TORONTO, "mobile": "abc"}, {"email": "jane@dealer.ca"})

    first = ensure_verdicts(db, country="CA", customer_ids=ALL_CUSTOMERS)
    second = ensure_verdicts(db, country="CA", customer_ids=ALL_CUSTOMERS)

    assert (first, second) == (3, 0)
    assert verdict_rows(db) == [
        ("email", "", "jane@dealer.ca", True, False),
        ("phone", "CA", TORONTO, True, True),
        ("phone", "CA", "abc", False, False),
    ]


def test_a_value_seen_as_phone_and_as_mobile_is_judged_once(db):
    add_customers(db, "CA", {"phone": TORONTO}, {"mobile": TORONTO})

    assert ensure_verdicts(db, country="CA", customer_ids=ALL_CUSTOMERS) == 1


def test_phones_are_judged_again_for_another_country(db):
    add_customers(db, "CA", {"phone": NEW_YORK, "email": "jane@dealer.ca"})
    ensure_verdicts(db, country="CA", customer_ids=ALL_CUSTOMERS)

    assert ensure_verdicts(db, country="US", customer_ids=ALL_CUSTOMERS) == 1
    assert [row for row in verdict_rows(db) if row[0] == "phone"] == [
        ("phone", "CA", NEW_YORK, False, False),
        ("phone", "US", NEW_YORK, True, True),
    ]


def test_only_the_given_customers_are_judged(db):
    wanted, _other = add_customers(db, "CA", {"email": "jane@dealer.ca"}, {"email": "john@dealer.ca"})

    ensure_verdicts(db, country="CA", customer_ids=sa.select(customers.c.id).where(customers.c.id == wanted))

    assert [row[2] for row in verdict_rows(db)] == ["jane@dealer.ca"]


def test_a_changed_value_gets_a_new_verdict(db):
    [customer_id] = add_customers(db, "CA", {"email": "jane@dealer"})
    assert checks(db, "CA", customer_id)["valid_email"] == 0
    with db.write() as conn:
        conn.execute(sa.update(customers).where(customers.c.id == customer_id).values(email="jane@dealer.ca"))

    assert checks(db, "CA", customer_id)["valid_email"] == 1
    assert [row[2:4] for row in verdict_rows(db)] == [("jane@dealer", False), ("jane@dealer.ca", True)]


def test_values_another_process_stored_meanwhile_are_not_stored_twice(db, db_url):
    add_customers(db, "CA", *({"email": f"customer{i}@dealer.ca"} for i in range(contacts.CHUNK_SIZE + 10)))
    other_process = open_database(db_url)
    added_by_other = []

    def other_process_ensures_between_our_chunks(fraction, _message):
        if 0 < fraction < 1:
            added_by_other.append(ensure_verdicts(other_process, country="CA", customer_ids=ALL_CUSTOMERS))

    added = ensure_verdicts(db, country="CA", customer_ids=ALL_CUSTOMERS, progress=other_process_ensures_between_our_chunks)
    other_process.dispose()

    assert (added, added_by_other) == (contacts.CHUNK_SIZE, [10])
    assert len(verdict_rows(db)) == contacts.CHUNK_SIZE + 10


def test_concurrent_ensures_store_each_value_once(db, db_url):
    add_customers(db, "CA", *({"email": f"customer{i}@dealer.ca", "phone": f"416 555 {i:04d}"} for i in range(3_000)))
    databases = [open_database(db_url) for _ in range(2)]

    with concurrent.futures.ThreadPoolExecutor(2) as threads:
        added = list(threads.map(lambda other: ensure_verdicts(other, country="CA", customer_ids=ALL_CUSTOMERS, processes=1), databases))
    for database in databases:
        database.dispose()

    assert sum(added) == len(verdict_rows(db)) == len(set(verdict_rows(db))) == 6_000


def test_hostile_values_are_judged_invalid_without_crashing(db):
    ids = add_customers(db, "CA", *({"email": value, "phone": value, "mobile": value} for value in HOSTILE))

    assert ensure_verdicts(db, country="CA", customer_ids=ALL_CUSTOMERS) == 2 * len(HOSTILE)
    assert {tuple(checks(db, "CA", customer_id).values()) for customer_id in ids} == {(0, 0, 0)}


def test_nul_bytes_stored_in_sqlite_are_judged_invalid(sqlite_db):
    [customer_id] = add_customers(sqlite_db, "CA", {"email": "jane\x00@dealer.ca", "mobile": "416\x00555 0123"})

    assert checks(sqlite_db, "CA", customer_id) == {"valid_email": 0, "valid_phone": 0, "valid_message": 0}


def many_values(count: int) -> list[dict]:
    """``count`` customers whose emails and phones are a deterministic mix of valid and not."""
    return [
        {
            "email": f"customer{i}@dealer{i % 7}.ca" if i % 3 else f"customer{i}@dealer{i % 7}",
            "phone": f"+1 416 {200 + i % 800:03d} {i % 10_000:04d}" if i % 4 else f"555-{i:04d}",
        }
        for i in range(count)
    ]


def test_worker_processes_give_the_verdicts_of_this_process(db):
    add_customers(db, "CA", *many_values(contacts.POOL_THRESHOLD // 2 + 500))
    messages = []

    ensure_verdicts(db, country="CA", customer_ids=ALL_CUSTOMERS, processes=2, progress=lambda _f, message: messages.append(message))
    in_pool = verdict_rows(db)
    with db.write() as conn:
        conn.execute(sa.delete(verdicts))
    ensure_verdicts(db, country="CA", customer_ids=ALL_CUSTOMERS, processes=1)

    assert "in 2 processes" in messages[0]
    assert in_pool == verdict_rows(db)
    assert {row[3] for row in in_pool} == {True, False}


def test_cancel_stops_between_chunks_keeping_the_stored_verdicts(db):
    add_customers(db, "CA", *({"email": f"customer{i}@dealer.ca"} for i in range(contacts.CHUNK_SIZE + 10)))
    token = CancelToken()

    added = ensure_verdicts(db, country="CA", customer_ids=ALL_CUSTOMERS, cancel=token, progress=lambda _f, _m: token.cancel())

    assert added == len(verdict_rows(db)) == contacts.CHUNK_SIZE


def test_progress_reaches_the_whole(db):
    add_customers(db, "CA", {"email": "jane@dealer.ca", "phone": TORONTO})
    fractions = []

    ensure_verdicts(db, country="CA", customer_ids=ALL_CUSTOMERS, progress=lambda fraction, _m: fractions.append(fraction))

    assert fractions[0] == 0.0 and fractions[-1] == 1.0


def test_sqlite_looks_verdicts_up_by_an_index(sqlite_db):
    c = customers.alias("c")
    expressions = looked_up_channel_checks(campaign(sqlite_db, "CA"), c)
    query = sa.select(c.c.id, *expressions.values())

    with sqlite_db.read() as conn:
        plan = conn.execute(sa.text("EXPLAIN QUERY PLAN " + str(query.compile(conn, compile_kwargs={"literal_binds": True})))).all()

    probes = [row.detail for row in plan if "contact_verdicts" in row.detail]
    assert probes and all("USING" in detail and "INDEX" in detail for detail in probes), probes


def test_a_packed_verdict_says_what_the_libraries_say():
    """Worker processes send one byte a value; it must decode to the same verdicts."""
    from enroller_desktop.engine.contact_rules import MOBILE, VALID, judge, judge_packed

    phones = ["+1 416 555 0123", "+1 800 555 0199", "+1 212 736 5000", "555", ""]
    emails = ["jane.doe@example.com", "not an email", ""]
    for kind, values in (("phone", phones), ("email", emails)):
        decoded = [(bool(b & VALID), bool(b & MOBILE)) for b in judge_packed(kind, "CA", values)]
        assert decoded == judge(kind, "CA", values)
    assert judge_packed("phone", "CA", phones[:2]) == bytes([VALID | MOBILE, VALID])


def test_a_spawned_worker_process_answers_as_this_one():
    """What the packaged program's --smoke asks before it quits."""
    assert contacts.worker_processes_answer()
