"""The command line of SPEC section 7. The window is one of its commands.

Exit status: 0 on success, 1 when a run ends in error (or a worker executed one
that did), 2 for bad arguments or a database that cannot be used, always with a
one-line message on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import OperationalError

from enroller_desktop import __version__
from enroller_desktop.config import given_db_url, mask_url, password_of, resolve_db_url
from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.errors import UserError, scrub

log = logging.getLogger("enroller_desktop.cli")

EXPORT_TABS = ("summary", "events", "query-params", "potentials", "campaign-customers")


class NotAvailableYet(UserError):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line on stderr and exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        raise UserError(f"{message} (see '{self.prog} --help')")


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time; one without a zone is UTC (SPEC 3)."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r} (e.g. 2026-11-27T09:30:00Z)") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def _id(text: str) -> int:
    value = _positive_int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("an id is a whole number above 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="enroller-desktop", description="Launch, watch and explain enroller runs.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--db", metavar="URL", help="SQLAlchemy database URL (default: $ENROLLER_DB_URL, else a SQLite file in the user's data folder)")
    parser.add_argument("--smoke", action="store_true", help="open the window on demo data, open a run's detail window, and exit 0")
    parser.add_argument("--palette", choices=("system", "light", "dark"), default="system", help="the window's colours (default: follow the system)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("init-db", help="create or upgrade the schema")

    demo = sub.add_parser("demo", help="load a realistic demo data set")
    demo.add_argument("--customers", type=_positive_int, default=20_000, metavar="N")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    demo.add_argument("--if-empty", action="store_true", help="load only into a database with no organizations")
    demo.add_argument("--no-runs", action="store_true", help="load the data without a run history")

    run = sub.add_parser("run", help="execute one run now (or schedule it with --at)")
    run.add_argument("--campaign", type=_id, required=True, metavar="ID")
    run.add_argument("--purpose", choices=[p.value for p in RunPurpose], default=RunPurpose.DEFAULT.value)
    run.add_argument("--customer", type=_id, metavar="ID")
    run.add_argument("--as-of", type=parse_time, metavar="ISO-TIME")
    run.add_argument("--at", type=parse_time, metavar="ISO-TIME")
    run.add_argument("--json", action="store_true")

    cancel = sub.add_parser("cancel", help="cancel a scheduled or in-progress run")
    cancel.add_argument("run_id", type=_id, metavar="RUN_ID")

    runs = sub.add_parser("runs", help="list runs, newest first")
    runs.add_argument("--status", choices=[s.value for s in RunStatus])
    runs.add_argument("--purpose", choices=[p.value for p in RunPurpose])
    runs.add_argument("--campaign", type=_id, metavar="ID")
    runs.add_argument("--json", action="store_true")

    export = sub.add_parser("export", help="export one table of a run to CSV")
    export.add_argument("run_id", type=_id, metavar="RUN_ID")
    export.add_argument("--tab", choices=EXPORT_TABS, required=True)
    export.add_argument("--out", required=True, metavar="FILE.csv")

    explain = sub.add_parser("explain", help="what each check alone holds back in a run")
    explain.add_argument("run_id", type=_id, metavar="RUN_ID")
    explain.add_argument("--json", action="store_true")

    compare = sub.add_parser("compare", help="what changed between two runs of one campaign")
    compare.add_argument("run_a", type=_id, metavar="RUN_A")
    compare.add_argument("run_b", type=_id, metavar="RUN_B")
    compare.add_argument("--json", action="store_true")
    compare.add_argument("--out", metavar="FILE.csv", help="also write the potentials whose outcome differs")

    customer = sub.add_parser("customer", help="find a customer and tell their story across campaigns")
    customer.add_argument("query", metavar="QUERY", help="a name, email, phone or mobile (any formatting), or a customer id")
    customer.add_argument("--organization", type=_id, metavar="ID", help="the organization to search (needed when there are several)")
    customer.add_argument("--json", action="store_true")

    worker = sub.add_parser("worker", help="execute scheduled runs as they fall due")
    worker.add_argument("--once", action="store_true", help="execute the runs due now, then exit")
    return parser


def _open(args):
    from enroller_desktop.db.engine import open_database

    return open_database(resolve_db_url(args.db))


def cmd_init_db(args) -> int:
    db = _open(args)
    print(f"Schema is up to date in {db.display_url}")
    return 0


def cmd_demo(args) -> int:
    from enroller_desktop import demo

    db = _open(args)
    if args.if_empty and not demo.is_empty(db):
        print(f"{db.display_url} already has data: demo not loaded")
        return 0
    summary = demo.load_demo(db, customers=args.customers, seed=args.seed, progress=_print_progress, runs=not args.no_runs)
    print(summary)
    return 0


def cmd_run(args) -> int:
    from enroller_desktop.engine import commands

    return commands.cli_run(_open(args), args)


def cmd_cancel(args) -> int:
    from enroller_desktop.engine import commands

    return commands.cli_cancel(_open(args), args)


def cmd_runs(args) -> int:
    from enroller_desktop.engine import commands

    return commands.cli_runs(_open(args), args)


def cmd_worker(args) -> int:
    from enroller_desktop.engine import commands

    return commands.cli_worker(_open(args), args)


def cmd_export(args) -> int:
    from enroller_desktop import export

    db = _open(args)
    count = export.export_run_tab(db, args.run_id, args.tab, args.out)
    print(f"Wrote {count} rows to {args.out}")
    return 0


def cmd_explain(args) -> int:
    from enroller_desktop import explain

    explained = explain.explain_run(_open(args), args.run_id)
    if args.json:
        print_json(explained)
    else:
        print(explain.format_explained_run(explained))
    return 0


def cmd_compare(args) -> int:
    from enroller_desktop import explain, export

    db = _open(args)
    compared = explain.comparison(db, args.run_a, args.run_b)
    if args.out:
        written = export.export_source(db, explain.difference_source(compared.run_a, compared.run_b), args.out)
        print(f"Wrote {written} rows to {args.out}", file=sys.stderr)
    if args.json:
        print_json(compared.as_dict())
    else:
        print(explain.format_comparison(compared))
    return 0


def cmd_customer(args) -> int:
    from enroller_desktop import explain

    db = _open(args)
    found = explain.find_customers(db, args.query, args.organization)
    if not found:
        raise UserError(f"No customer matches {args.query!r}")
    stories = [explain.customer_story(db, f.id) for f in found[:1]] if len(found) == 1 else None
    if stories is None:
        listed = [{"id": f.id, "first_name": f.first_name, "last_name": f.last_name, "email": f.email} for f in found]
        if args.json:
            print_json({"matches": listed})
        else:
            print("\n".join(f"{f['id']:>8}  {f['first_name'] or ''} {f['last_name'] or ''}  {f['email'] or ''}" for f in listed))
            print(f"{len(listed)} customers match; give one's id for their story")
        return 0
    if args.json:
        print_json(stories[0])
    else:
        print(explain.format_customer(stories[0]))
    return 0


def cmd_window(args) -> int:
    from enroller_desktop.ui.app import run_app

    return run_app(given_db_url(args.db), smoke=args.smoke, palette=args.palette)


def _print_progress(fraction: float, message: str) -> None:
    if sys.stderr.isatty():
        print(f"\r{fraction:6.1%} {message[:60]:<60}", end="", file=sys.stderr, flush=True)


COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: cmd_window,
    "init-db": cmd_init_db,
    "demo": cmd_demo,
    "run": cmd_run,
    "cancel": cmd_cancel,
    "runs": cmd_runs,
    "worker": cmd_worker,
    "export": cmd_export,
    "explain": cmd_explain,
    "compare": cmd_compare,
    "customer": cmd_customer,
}


def main(argv: Sequence[str] | None = None) -> int:
    from enroller_desktop.logs import setup_logging

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except UserError as exc:
        print(f"enroller-desktop: {exc}", file=sys.stderr)
        return exc.exit_status
    setup_logging()
    url = resolve_db_url(args.db)
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        message = scrub(str(exc), password_of(url))
        log.warning("%s: %s", args.command or "window", message)
        print(f"enroller-desktop: {message}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("enroller-desktop: interrupted", file=sys.stderr)
        return 130
    except OperationalError as exc:  # the database went away, or refused a write, after it was opened
        from enroller_desktop.db.engine import describe_error

        log.exception("lost the database in %s on %s", args.command or "window", mask_url(url))
        print(f"enroller-desktop: cannot use the database {mask_url(url)}: {describe_error(exc, url)}", file=sys.stderr)
        return 2
    except Exception as exc:  # a crash still gets one line; the log keeps the traceback
        log.exception("unexpected error in %s on %s", args.command or "window", mask_url(url))
        message = scrub(f"{type(exc).__name__}: {exc}".splitlines()[0], password_of(url))
        print(f"enroller-desktop: unexpected error: {message} (details in the log)", file=sys.stderr)
        return 1


def print_json(value) -> None:
    print(json.dumps(value, default=str, ensure_ascii=False))
