"""The commands about the database and its data: init-db, demo, export, and the window."""

from __future__ import annotations

from enroller_desktop.cli.output import progress_printer
from enroller_desktop.config import given_db_url
from enroller_desktop.db.engine import Database


def init_db(db: Database, args) -> int:
    print(f"Schema is up to date in {db.display_url}")
    return 0


def demo(db: Database, args) -> int:
    from enroller_desktop import demo as demo_data

    if args.if_empty and not demo_data.is_empty(db):
        print(f"{db.display_url} already has data: demo not loaded")
        return 0
    summary = demo_data.load_demo(db, customers=args.customers, seed=args.seed, progress=progress_printer(),
                                  runs=not args.no_runs)
    print(summary)
    return 0


def export(db: Database, args) -> int:
    from enroller_desktop import export as csv_export

    count = csv_export.export_run_tab(db, args.run_id, args.tab, args.out)
    print(f"Wrote {count} rows to {args.out}")
    return 0


def window(args) -> int:
    """The main window opens its database itself: a launcher's bad URL is shown
    in the window, not on a terminal nobody reads."""
    from enroller_desktop.ui.app import run_app

    return run_app(given_db_url(args.db), smoke=args.smoke, palette=args.palette, demo_if_empty=args.demo_if_empty)
