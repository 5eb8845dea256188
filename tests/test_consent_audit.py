"""The consent audit of a campaign is its runs' potentials joined with the
enrollments they made, as the runs recorded them: editing customers afterwards
changes nothing in it."""

from __future__ import annotations

import csv
import datetime as dt

import sqlalchemy as sa

from enroller_desktop import cli, consent_exports
from enroller_desktop.db.models import Customer
from enroller_desktop.tables import CHECK_TEXT, csv_time, format_consent, format_date
from tests.builders import AS_OF, campaign, customer, enrollments, execute, organization, potentials

UTC = dt.timezone.utc
LATER = AS_OF + dt.timedelta(days=40)
CHECK_TITLES = {"valid_email": "Valid Email", "valid_phone": "Valid Phone", "valid_message": "Valid Message",
                "deleted": "Deleted", "unique_event": "Unique Event", "already_in_queue": "Already in Queue",
                "casl": "CASL", "opt_out_all": "Opt Out All", "marketing_exclusion": "Marketing Exclusion"}


def read(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def world(db) -> tuple[int, list[int]]:
    """Two runs of a Canadian campaign, each enrolling customers on different consent."""
    org = organization(db, "CA")
    campaign_id = campaign(db, org)
    first = [
        customer(db, org, first_name="Express", vehicles=2).id,
        customer(db, org, first_name="=Purchase", casl_express_consent_at=None, last_purchase_at=AS_OF - dt.timedelta(days=700)).id,
        customer(db, org, first_name="Nobody", casl_express_consent_at=None).id,
    ]
    execute(db, campaign_id, as_of=AS_OF)
    second = customer(db, org, first_name="Inquiry", casl_express_consent_at=None, last_inquiry_at=AS_OF).id
    execute(db, campaign_id, as_of=LATER)
    return campaign_id, [*first, second]


def expected(db, campaign_id: int) -> list[dict]:
    """The runs' potentials joined with the enrollments they made, in Python."""
    rows = []
    for e in sorted(enrollments(db, campaign_id), key=lambda e: (e["enrolled_at"], e["id"])):
        (p,) = [p for p in potentials(db, e["run_id"]) if (p["customer_id"], p["vehicle_id"], p["event_key"]) ==
                (e["customer_id"], e["vehicle_id"], e["event_key"])]
        rows.append({
            "Customer Id": str(e["customer_id"]), "First Name": p["first_name"], "Run": str(e["run_id"]),
            "Enrolled At": csv_time(e["enrolled_at"]),
            **{title: CHECK_TEXT[p[check]] for check, title in CHECK_TITLES.items()},
            "Consent": format_consent(p["consent_basis"]), "Evidence": csv_time(p["consent_evidence_at"]),
            "Lapses On": format_date(p["consent_lapses_on"]),
        })
    return rows


def shown(rows: list[dict]) -> list[dict]:
    keys = ["Customer Id", "First Name", "Run", "Enrolled At", *CHECK_TITLES.values(), "Consent", "Evidence", "Lapses On"]
    return [{k: (row[k][1:] if k == "First Name" and row[k].startswith("'") else row[k]) for k in keys} for row in rows]


def test_the_audit_is_the_runs_potentials_joined_with_their_enrollments(db, tmp_path):
    campaign_id, _ = world(db)
    out = tmp_path / "audit.csv"
    count = consent_exports.export_audit(db, campaign_id, out)
    rows = read(out)
    assert count == len(rows) == 4  # two vehicles of Express, Purchase, then Inquiry
    assert shown(rows) == expected(db, campaign_id)
    assert {row["Consent"] for row in rows} == {"Express", "Implied (purchase)", "Implied (inquiry)"}
    assert rows[2]["First Name"] == "'=Purchase"  # RULES §8's formula guard
    assert rows[0]["Channels"] == "email; phone; SMS"


def test_the_audit_does_not_change_when_customers_are_edited_afterwards(db, tmp_path):
    campaign_id, people = world(db)
    before, after = tmp_path / "before.csv", tmp_path / "after.csv"
    consent_exports.export_audit(db, campaign_id, before)
    with db.write() as conn:
        conn.execute(sa.update(Customer.__table__).where(Customer.__table__.c.id.in_(people)).values(
            first_name="Renamed", casl_express_consent_at=None, casl_withdrawn_at=LATER, last_purchase_at=None, deleted=True))
    consent_exports.export_audit(db, campaign_id, after)
    assert after.read_bytes() == before.read_bytes()


def test_the_command_line_audit_keeps_the_enrollments_of_its_date_range(db, db_url, tmp_path, capsys):
    campaign_id, _ = world(db)
    out = tmp_path / "range.csv"
    day = LATER.date().isoformat()
    assert cli.main(["--db", db_url, "audit", "--campaign", str(campaign_id), "--from", day, "--to", day, "--out", str(out)]) == 0
    assert [row["First Name"] for row in read(out)] == ["Inquiry"]
    assert "Wrote 1 rows" in capsys.readouterr().out


def test_an_unknown_campaign_is_a_bad_argument_and_writes_nothing(db, db_url, tmp_path, capsys):
    out = tmp_path / "none.csv"
    assert cli.main(["--db", db_url, "audit", "--campaign", "999", "--out", str(out)]) == 2
    assert "There is no campaign with id 999" in capsys.readouterr().err
    assert not out.exists()
