"""Find a customer and tell their story: the search finds by each field, ignores
phone formatting and never crosses organizations; every reason the story gives is
the run's stored check results; both databases."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from types import SimpleNamespace

import sqlalchemy as sa

from enroller_desktop import explain, run_detail
from enroller_desktop.db import customer_queries as cq
from enroller_desktop.db.enums import Check, PotentialStatus, RunPurpose, RunStatus
from tests.builders import ENROLLER
from tests.cli.test_engine_cli import assert_one_line_refusal


UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def customers_of(db) -> list[dict]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(sa.text("SELECT * FROM customers ORDER BY id")).mappings()]


def search(db, text, organization_id):
    with db.read() as conn:
        return [f.id for f in cq.search_customers(conn, text, organization_id, limit=10_000)]


def test_the_search_finds_by_each_field(demo_db):
    people = [c for c in customers_of(demo_db) if c["phone"] and c["mobile"] and c["email"] and c["last_name"]][:15]
    for c in people:
        org = c["organization_id"]
        assert c["id"] in search(demo_db, c["last_name"].translate(UPPER), org)
        assert c["id"] in search(demo_db, c["first_name"][:2].translate(LOWER), org)
        assert c["id"] in search(demo_db, f"{c['first_name']} {c['last_name'][:1]}", org)
        assert c["id"] in search(demo_db, c["email"].strip()[:6], org) or c["email"] != c["email"].strip()
        assert c["id"] in search(demo_db, str(c["id"]), org)
        assert c["id"] in search(demo_db, str(c["id"]), None)


def _reformat(phone: str) -> list[str]:
    digits = re.sub(r"\D", "", phone)
    ten = digits[-10:]
    return [ten, f"({ten[:3]}) {ten[3:6]}-{ten[6:]}", f"{ten[:3]}.{ten[3:6]}.{ten[6:]}", f"+1 {ten[:3]} {ten[3:6]} {ten[6:]}",
            f"{ten[:3]}-{ten[3:6]}"]


def test_the_search_ignores_phone_formatting(demo_db):
    people = [c for c in customers_of(demo_db) if c["phone"] and c["mobile"] and "ext" not in c["phone"] + c["mobile"]][:15]
    assert people
    for c in people:
        for column in ("phone", "mobile"):
            for typed in _reformat(c[column]):
                assert c["id"] in search(demo_db, typed, c["organization_id"]), (c[column], typed)


def test_the_search_never_matches_another_organization(demo_db):
    everyone = customers_of(demo_db)
    by_name: dict[str, set[int]] = {}
    for c in everyone:
        by_name.setdefault((c["last_name"] or "").lower(), set()).add(c["organization_id"])
    shared = [name for name, orgs in by_name.items() if name and len(orgs) > 1]
    assert shared, "the demo has last names in several organizations"
    org_of = {c["id"]: c["organization_id"] for c in everyone}
    for name in shared[:10]:
        for org in by_name[name]:
            found = search(demo_db, name, org)
            assert found and {org_of[i] for i in found} == {org}
    stranger = next(c for c in everyone if c["organization_id"] != everyone[0]["organization_id"])
    assert search(demo_db, str(stranger["id"]), everyone[0]["organization_id"]) == []
    assert search(demo_db, stranger["last_name"] or "x", None) == []


def _stored_reasons(db, customer_id: int) -> dict[int, tuple[int | None, list[str]]]:
    """Per campaign: the newest run with the customer's potentials, and the reasons
    from its stored check results."""
    with db.read() as conn:
        rows = conn.execute(sa.text(
            "SELECT r.campaign_id, r.id AS run_id, r.created_at, r.purpose, r.status, p.* FROM enroller_run_customers p "
            "JOIN enroller_runs r ON r.id = p.run_id WHERE p.customer_id = :c ORDER BY p.id"), {"c": customer_id}).mappings().all()
    newest: dict[int, tuple] = {}
    for row in rows:
        key = (row["created_at"], row["run_id"])
        if row["campaign_id"] not in newest or key > newest[row["campaign_id"]]:
            newest[row["campaign_id"]] = key
    result = {}
    for campaign_id, (_created, run_id) in newest.items():
        mine = [r for r in rows if r["run_id"] == run_id]
        finished = RunStatus(_run_status(db, run_id)).finished
        result[campaign_id] = (run_id, [
            run_detail.why_not_enrolled(PotentialStatus(r["status"]), tuple(r[c.value] for c in Check),
                                        r["purpose"] == RunPurpose.CAMPAIGN_SIMULATION.value, finished)
            for r in mine])
    return result


def _run_status(db, run_id: int) -> str:
    with db.read() as conn:
        return conn.execute(sa.text("SELECT status FROM enroller_runs WHERE id = :r"), {"r": run_id}).scalar_one()


def test_every_reason_of_the_story_is_the_runs_stored_check_results(demo_db):
    with demo_db.read() as conn:
        considered = conn.execute(sa.text("SELECT DISTINCT customer_id FROM enroller_run_customers ORDER BY customer_id")).scalars().all()
    assert considered
    for customer_id in considered[:: max(1, len(considered) // 25)]:
        story = explain.customer_story(demo_db, customer_id)
        stored = _stored_reasons(demo_db, customer_id)
        for row in story["campaigns"]:
            if row["campaign_id"] in stored:
                run_id, reasons = stored[row["campaign_id"]]
                assert row["last_run_id"] == run_id
                assert [r["reason"] for r in row["reasons"]] == reasons
            else:
                assert row["last_run_id"] is None and row["reasons"] == []


def test_casl_standing_in_words():
    now = dt.datetime(2026, 12, 4, 12, tzinfo=dt.timezone.utc)
    day = lambda y, m, d: dt.datetime(y, m, d, 9, tzinfo=dt.timezone.utc)  # noqa: E731
    person = lambda **kw: SimpleNamespace(**{"casl_express_consent_at": None, "casl_withdrawn_at": None,  # noqa: E731
                                             "last_purchase_at": None, "last_inquiry_at": None, **kw})
    assert explain.casl_standing(person(), now) == ["none"]
    assert explain.casl_standing(person(casl_express_consent_at=day(2025, 1, 2)), now) == ["express since 2025-01-02"]
    assert explain.casl_standing(person(last_purchase_at=day(2025, 6, 1)), now) == ["implied by the purchase of 2025-06-01 until 2027-06-01"]
    assert explain.casl_standing(person(last_inquiry_at=day(2026, 11, 1)), now) == ["implied by the inquiry of 2026-11-01 until 2027-05-03"]
    assert explain.casl_standing(person(last_inquiry_at=day(2026, 1, 1)), now) == ["none"]
    assert explain.casl_standing(person(casl_withdrawn_at=day(2026, 2, 1), last_purchase_at=day(2026, 3, 1)), now) == ["withdrawn on 2026-02-01"]
    assert explain.casl_standing(person(casl_withdrawn_at=day(2026, 2, 1), casl_express_consent_at=day(2026, 3, 1)), now) == ["express since 2026-03-01"]


def enroller(db, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(ENROLLER), "--db", db.url, *map(str, args)], capture_output=True, text=True, timeout=120)


def test_customer_json_prints_the_story_with_its_campaigns(demo_db):
    with demo_db.read() as conn:
        customer_id = conn.execute(sa.text("SELECT min(customer_id) FROM enroller_run_customers")).scalar_one()
    result = enroller(demo_db, "customer", customer_id, "--json")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["id"] == customer_id
    assert {"campaign_id", "enrolled", "last_run_id", "last_outcome", "reasons"} <= set(printed["campaigns"][0])
    assert any(c["last_run_id"] for c in printed["campaigns"])


def test_customer_search_by_name_without_an_organization_is_refused(demo_db):
    assert_one_line_refusal(enroller(demo_db, "customer", "Smith"))
