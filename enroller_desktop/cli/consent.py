"""The consent commands (RULES §3, CASL): the audit of why each enrollment was
allowed, and the forecast of implied consent about to lapse."""

from __future__ import annotations

from enroller_desktop.cli.output import print_json
from enroller_desktop.db.engine import Database


def audit(db: Database, args) -> int:
    from enroller_desktop import consent_exports

    count = consent_exports.export_audit(db, args.campaign, args.out, first_day=args.first_day, last_day=args.last_day)
    print(f"Wrote {count} rows to {args.out}")
    return 0


def forecast(db: Database, args) -> int:
    from enroller_desktop.engine import consent_outlook

    with db.read() as conn:
        result = consent_outlook.forecast(conn, args.organization, campaign_id=args.campaign, days=args.days)
    if args.json:
        print_json(result.as_json())
    else:
        print(consent_outlook.describe(result))
    return 0
