"""The commands that launch, list, cancel and execute runs: run, runs, cancel, worker."""

from __future__ import annotations

import logging
import os
import signal
import threading

from enroller_desktop.cli.output import count, format_outcome, plain, print_json, print_outcome, progress_printer
from enroller_desktop.db import index_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunPurpose, RunStatus, RunStep
from enroller_desktop.engine.runs import (
    COUNT_COLUMNS,
    RunOutcome,
    cancel_run,
    create_run,
    execute_run,
    recover_interrupted,
)
from enroller_desktop.engine.cancel import CancelToken
from enroller_desktop.engine.worker import run_worker

log = logging.getLogger(__name__)

EXIT_OK, EXIT_RUN_ERROR = 0, 1
#: What ``runs --json`` gives of each run.
RUN_FIELDS = ("id", "created_at", "organization", "campaign", "purpose", "status", "step", *COUNT_COLUMNS,
              "in_progress_at", "completed_at", "error_message")
_PAGE = 1000


def _exit_status(status: RunStatus) -> int:
    return EXIT_RUN_ERROR if status is RunStatus.ERROR else EXIT_OK


def run(db: Database, args) -> int:
    recover_interrupted(db)
    run_id = create_run(
        db,
        campaign_id=args.campaign,
        purpose=RunPurpose(args.purpose),
        customer_id=args.customer,
        as_of=args.as_of,
        scheduled_for=args.at,
    )
    if args.at is not None:
        print_outcome(RunOutcome(id=run_id, status=RunStatus.SCHEDULED, step=RunStep.MAIN,
                                 counts={name: None for name in COUNT_COLUMNS}), args.json)
        return EXIT_OK
    outcome = execute_run(db, run_id, progress=progress_printer())
    if args.json:
        from enroller_desktop.explain import sole_blockers_of

        print_json(outcome.as_dict() | {"sole_blockers": sole_blockers_of(db, outcome.id)})
    else:
        print_outcome(outcome, False)
    return _exit_status(outcome.status)


def cancel(db: Database, args) -> int:
    status = cancel_run(db, args.run_id)
    if status is RunStatus.CANCELED:
        print(f"Run {args.run_id} canceled")
    else:
        print(f"Run {args.run_id} is in progress: asked it to stop; it cancels at its next step")
    return EXIT_OK


def _listed(db: Database, run_filter: index_queries.RunFilter):
    """Every run of the filter, newest first, read by keyset pages of the index's
    own query (the window's and the command line's lists cannot disagree)."""
    with db.read() as conn:
        watermark = index_queries.max_run_id(conn)
        after = None
        while True:
            rows = index_queries.page(conn, run_filter, index_queries.NEWEST_FIRST, limit=_PAGE, after=after,
                                    watermark=watermark)
            yield from rows
            if len(rows) < _PAGE:
                return
            after = rows[-1].sort_key


def runs(db: Database, args) -> int:
    recover_interrupted(db)
    run_filter = index_queries.RunFilter(
        campaign_id=args.campaign,
        purposes=frozenset({RunPurpose(args.purpose)}) if args.purpose else None,
        statuses=frozenset({RunStatus(args.status)}) if args.status else None,
    )
    rows = _listed(db, run_filter)
    if args.json:
        print_json([{name: plain(getattr(row, name)) for name in RUN_FIELDS} for row in rows])
        return EXIT_OK
    print(f"{'Id':>6}  {'Created':<20} {'Campaign':<28} {'Purpose':<30} {'Status':<14} {'QPC':>8} {'Success':>8}")
    listed = 0
    for row in rows:
        listed += 1
        print(f"{row.id:>6}  {row.created_at:%Y-%m-%d %H:%M:%S}  {row.campaign[:28]:<28} "
              f"{row.purpose.label:<30} {row.status.label:<14} "
              f"{count(row.query_param_customers):>8} {count(row.success):>8}")
    print(f"{listed} run(s)")
    return EXIT_OK


def worker(db: Database, args) -> int:
    """``worker``: on SIGTERM or SIGINT it finishes the run it is executing, then
    exits; a second signal cancels that run (it enrolls nobody) and exits.

    Finishing is the default because a compliance officer reads a run's outcome
    as a fact: a completed run is one, whereas a run stopped midway would need a
    status the rules do not have for "given back" (an in-progress run cannot return
    to scheduled). A service manager that waits long enough (the systemd unit in
    ``resources/`` waits 15 minutes) never cuts a run short; one that kills the
    worker anyway leaves a run enrolled by nobody, marked interrupted a minute later.
    """
    stop, cancel = threading.Event(), CancelToken()
    if not args.once:
        def stop_asked(signum, _frame) -> None:
            # os.write, not print: the signal may come while the main thread prints.
            if stop.is_set():
                cancel.cancel()
                os.write(2, b"Canceling the run in progress, then stopping\n")
            else:
                os.write(2, b"Stopping after the run in progress (signal again to cancel it)\n")
            log.warning("worker: asked to stop (%s)%s", signal.Signals(signum).name,
                        ": canceling the run in progress" if cancel.cancelled else "")
            stop.set()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop_asked)

    def report(outcome: RunOutcome) -> None:
        print(format_outcome(outcome), flush=True)

    outcomes = run_worker(db, once=args.once, stop=stop, on_outcome=report, name=args.name, cancel=cancel)
    if args.once:
        print(f"{len(outcomes)} run(s) executed")
    return EXIT_RUN_ERROR if any(o.status is RunStatus.ERROR for o in outcomes) else EXIT_OK
