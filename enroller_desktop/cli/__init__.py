"""The command line of RULES §7. The window is one of its commands.

``parser`` holds the grammar; each family of commands has a module (``runs``:
run, runs, cancel, worker; ``workers``: workers; ``data``: init-db, demo, export,
the window; ``explain``: explain, compare, customer; ``consent``: audit,
consent-forecast) whose
functions take the opened database and argparse's namespace and return an exit
status; ``output`` is what they print. The engine returns results and never
prints: printing, ``args``, signal handlers and exit codes live here.

Exit status: 0 on success, 1 when a run ends in error (or a worker executed one
that did), 2 for bad arguments or a database that cannot be used, always with a
one-line message on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.exc import OperationalError

from enroller_desktop.cli.parser import build_parser
from enroller_desktop.config import mask_url, password_of, resolve_db_url
from enroller_desktop.errors import UserError, one_line, scrub

log = logging.getLogger("enroller_desktop.cli")

Command = Callable[..., int]


def _commands() -> dict[str, Command]:
    from enroller_desktop.cli import consent, data, explain, runs, workers

    return {
        "init-db": data.init_db,
        "demo": data.demo,
        "run": runs.run,
        "cancel": runs.cancel,
        "runs": runs.runs,
        "worker": runs.worker,
        "workers": workers.workers,
        "export": data.export,
        "explain": explain.explain,
        "compare": explain.compare,
        "customer": explain.customer,
        "audit": consent.audit,
        "consent-forecast": consent.forecast,
    }


def _execute(args: argparse.Namespace) -> int:
    if args.command is None:
        from enroller_desktop.cli import data

        return data.window(args)
    from enroller_desktop.db.engine import open_database

    command = _commands()[args.command]
    if args.command == "worker":
        from enroller_desktop.engine.worker import worker_database

        return command(worker_database(resolve_db_url(args.db), args.name), args)
    return command(open_database(resolve_db_url(args.db)), args)


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
        return _execute(args)
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
        message = scrub(one_line(exc, with_type=True), password_of(url))
        print(f"enroller-desktop: unexpected error: {message} (details in the log)", file=sys.stderr)
        return 1
