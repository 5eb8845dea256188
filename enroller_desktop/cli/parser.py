"""The command line's grammar (RULES §7): every command, its arguments and their types.

A bad argument is one line on stderr and exit status 2, never argparse's usage dump.
"""

from __future__ import annotations

import argparse
import datetime as dt

from enroller_desktop import __version__
from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.errors import UserError
from enroller_desktop.run_detail import TAB_NAMES


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        raise UserError(f"{message} (see '{self.prog} --help')")


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time; one without a zone is UTC (RULES §3, Dates)."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r} (e.g. 2026-11-27T09:30:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def whole_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def utc_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (e.g. 2026-11-27)") from None


def record_id(text: str) -> int:
    value = whole_number(text)
    if value == 0:
        raise argparse.ArgumentTypeError("an id is a whole number above 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="enroller-desktop", description="Launch, watch and explain enroller runs.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--db", metavar="URL", help="SQLAlchemy database URL (default: $ENROLLER_DB_URL, else a SQLite file in the user's data folder)")
    parser.add_argument("--smoke", action="store_true", help="open the window on demo data, open a run's detail window, and exit 0")
    parser.add_argument("--demo-if-empty", action="store_true", help="open the window and, if the database is empty, load the demo into it")
    parser.add_argument("--palette", choices=("system", "light", "dark"), default="system", help="the window's colours (default: follow the system)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("init-db", help="create or upgrade the schema")

    demo = sub.add_parser("demo", help="load a realistic demo data set")
    demo.add_argument("--customers", type=whole_number, default=20_000, metavar="N")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    demo.add_argument("--if-empty", action="store_true", help="load only into a database with no organizations")
    demo.add_argument("--no-runs", action="store_true", help="load the data without a run history")

    run = sub.add_parser("run", help="execute one run now (or schedule it with --at)")
    run.add_argument("--campaign", type=record_id, required=True, metavar="ID")
    run.add_argument("--purpose", choices=[p.value for p in RunPurpose], default=RunPurpose.DEFAULT.value)
    run.add_argument("--customer", type=record_id, metavar="ID")
    run.add_argument("--as-of", type=parse_time, metavar="ISO-TIME")
    run.add_argument("--at", type=parse_time, metavar="ISO-TIME")
    run.add_argument("--json", action="store_true")

    cancel = sub.add_parser("cancel", help="cancel a scheduled or in-progress run")
    cancel.add_argument("run_id", type=record_id, metavar="RUN_ID")

    runs = sub.add_parser("runs", help="list runs, newest first")
    runs.add_argument("--status", choices=[s.value for s in RunStatus])
    runs.add_argument("--purpose", choices=[p.value for p in RunPurpose])
    runs.add_argument("--campaign", type=record_id, metavar="ID")
    runs.add_argument("--json", action="store_true")

    export = sub.add_parser("export", help="export one table of a run to CSV")
    export.add_argument("run_id", type=record_id, metavar="RUN_ID")
    export.add_argument("--tab", choices=TAB_NAMES, required=True)
    export.add_argument("--out", required=True, metavar="FILE.csv")

    explain = sub.add_parser("explain", help="what each check alone holds back in a run")
    explain.add_argument("run_id", type=record_id, metavar="RUN_ID")
    explain.add_argument("--json", action="store_true")

    compare = sub.add_parser("compare", help="what changed between two runs of one campaign",
                             description="What changed between two runs of one campaign. With one run, "
                                         "what changed since the completed run of its campaign and purpose before it.")
    compare.add_argument("run_a", type=record_id, metavar="RUN_A")
    compare.add_argument("run_b", type=record_id, metavar="RUN_B", nargs="?",
                         help="the other run (default: the completed run of RUN_A's campaign and purpose before it)")
    compare.add_argument("--json", action="store_true")
    compare.add_argument("--out", metavar="FILE.csv", help="also write the potentials whose outcome differs")

    customer = sub.add_parser("customer", help="find a customer and tell their story across campaigns")
    customer.add_argument("query", metavar="QUERY", help="a name, email, phone or mobile (any formatting), or a customer id")
    customer.add_argument("--organization", type=record_id, metavar="ID", help="the organization to search (needed when there are several)")
    customer.add_argument("--json", action="store_true")

    audit = sub.add_parser("audit", help="export why each enrollment of a campaign was allowed (consent audit) to CSV")
    audit.add_argument("--campaign", type=record_id, required=True, metavar="ID")
    audit.add_argument("--from", dest="first_day", type=utc_date, metavar="DATE", help="enrolled on or after this UTC date")
    audit.add_argument("--to", dest="last_day", type=utc_date, metavar="DATE", help="enrolled on or before this UTC date")
    audit.add_argument("--out", required=True, metavar="FILE.csv")

    forecast = sub.add_parser("consent-forecast", help="customers whose implied CASL consent lapses in the next days")
    forecast.add_argument("--organization", type=record_id, required=True, metavar="ID")
    forecast.add_argument("--campaign", type=record_id, metavar="ID")
    forecast.add_argument("--days", type=whole_number, default=90, metavar="N")
    forecast.add_argument("--json", action="store_true")

    worker = sub.add_parser("worker", help="execute scheduled runs as they fall due")
    worker.add_argument("--once", action="store_true", help="execute the runs due now, then exit")
    worker.add_argument("--name", metavar="NAME", help="how the worker is listed (default: the host's name)")

    workers = sub.add_parser("workers", help="list the workers of the database: state, current run, runs done")
    workers.add_argument("--json", action="store_true")
    return parser
