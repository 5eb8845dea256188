"""The Potentials tab shows, and exports, the consent each potential's run relied on,
for organizations in CA; elsewhere CASL never applies and the columns are left out."""

from __future__ import annotations

import csv
import datetime as dt

from enroller_desktop import export, run_detail
from enroller_desktop.db import detail_queries
from tests.builders import AS_OF, campaign, customer, execute, organization

CONSENT_TITLES = ["Consent", "Evidence", "Lapses On"]


def _export(db, tmp_path, run_id) -> list[dict]:
    out = tmp_path / f"potentials-{run_id}.csv"
    export.export_run_tab(db, run_id, "potentials", out)
    with open(out, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_canadian_run_exports_each_potentials_consent_after_its_casl_check(db, tmp_path):
    org = organization(db, "CA")
    campaign_id = campaign(db, org)
    purchase = dt.datetime(2023, 1, 10, 8, 30, tzinfo=dt.timezone.utc)
    customer(db, org, first_name="Implied", casl_express_consent_at=None, last_purchase_at=purchase)
    customer(db, org, first_name="Withdrawn", casl_withdrawn_at=AS_OF - dt.timedelta(days=1))
    run_id = execute(db, campaign_id).id
    with db.read() as conn:
        table = run_detail.run_potentials_table(detail_queries.run_summary(conn, run_id))
    casl = table.titles.index("CASL")
    assert table.titles[casl + 1 : casl + 4] == CONSENT_TITLES
    rows = {row["First Name"]: row for row in _export(db, tmp_path, run_id)}
    assert [rows["Implied"][t] for t in ["CASL", *CONSENT_TITLES]] == ["Passed", "Implied (purchase)", "2023-01-10T08:30:00Z", "2025-01-10"]
    assert [rows["Withdrawn"][t] for t in ["CASL", "Consent", "Lapses On"]] == ["Failed", "Withdrawn", ""]


def test_an_american_run_has_no_consent_columns(db, tmp_path):
    org = organization(db, "US")
    customer(db, org)
    run_id = execute(db, campaign(db, org)).id
    (row,) = _export(db, tmp_path, run_id)
    assert not set(CONSENT_TITLES) & set(row)


def test_potentials_sort_by_their_lapse_date(db):
    org = organization(db, "CA")
    campaign_id = campaign(db, org)
    for name, days in (("Later", 100), ("Sooner", 700), ("Express", None)):
        customer(db, org, first_name=name, casl_express_consent_at=None if days else AS_OF,
                 last_purchase_at=AS_OF - dt.timedelta(days=days) if days else None)
    run_id = execute(db, campaign_id).id
    with db.read() as conn:
        summary = detail_queries.run_summary(conn, run_id)
        listing = detail_queries.potential_listing(summary, sort="consent_lapses_on")
        names = [row.first_name for row in listing.page_after(conn, None, 10)]
    assert names == ["Sooner", "Later", "Express"]
