"""The engine's commands of the command line: run, cancel, runs, worker."""

from __future__ import annotations

import signal
import sys
import threading

import sqlalchemy as sa

from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunPurpose, RunStatus, RunStep
from enroller_desktop.db.models import Campaign, EnrollerRun, Organization
from enroller_desktop.engine.runs import (
    COUNT_COLUMNS,
    RunOutcome,
    cancel_run,
    create_run,
    execute_run,
    recover_interrupted,
)
from enroller_desktop.engine.worker import run_worker

EXIT_OK, EXIT_RUN_ERROR = 0, 1
_TITLES = {name: name.replace("_", " ").capitalize() for name in COUNT_COLUMNS}


def _exit_status(status: RunStatus) -> int:
    return EXIT_RUN_ERROR if status is RunStatus.ERROR else EXIT_OK


def format_outcome(outcome: RunOutcome) -> str:
    lines = [f"Run {outcome.id}: {outcome.status.label} (step {outcome.step.label})"]
    for name in COUNT_COLUMNS:
        value = outcome.counts.get(name)
        if value is not None:
            lines.append(f"  {_TITLES[name]:<22} {value:>12,}")
    if outcome.error_message:
        lines.append(f"  Error: {outcome.error_message}")
    return "\n".join(lines)


def _print(outcome: RunOutcome, as_json: bool, db: Database | None = None) -> None:
    from enroller_desktop.cli import print_json

    if as_json:
        from enroller_desktop.explain import sole_blockers_of

        blockers = sole_blockers_of(db, outcome.id) if db is not None else None
        print_json(outcome.as_dict() | {"sole_blockers": blockers})
    else:
        print(format_outcome(outcome))


def cli_run(db: Database, args) -> int:
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
        outcome = RunOutcome(id=run_id, status=RunStatus.SCHEDULED, step=RunStep.MAIN,
                             counts={name: None for name in COUNT_COLUMNS})
        _print(outcome, args.json)
        return EXIT_OK
    outcome = execute_run(db, run_id, progress=_progress_to_stderr())
    _print(outcome, args.json, db)
    return _exit_status(outcome.status)


def _progress_to_stderr():
    if not sys.stderr.isatty():
        return None

    def report(fraction: float, message: str) -> None:
        print(f"\r{fraction:6.1%} {message[:60]:<60}", end="", file=sys.stderr, flush=True)
        if fraction >= 1.0:
            print(file=sys.stderr)
    return report


def cli_cancel(db: Database, args) -> int:
    status = cancel_run(db, args.run_id)
    if status is RunStatus.CANCELED:
        print(f"Run {args.run_id} canceled")
    else:
        print(f"Run {args.run_id} is in progress: asked it to stop; it cancels at its next step")
    return EXIT_OK


def cli_runs(db: Database, args) -> int:
    from enroller_desktop.cli import print_json

    recover_interrupted(db)
    r, c, o = EnrollerRun.__table__, Campaign.__table__, Organization.__table__
    query = (
        sa.select(r, c.c.name.label("campaign"), o.c.name.label("organization"))
        .select_from(r.join(c, c.c.id == r.c.campaign_id).join(o, o.c.id == r.c.organization_id))
        .order_by(r.c.created_at.desc(), r.c.id.desc())
    )
    if args.status:
        query = query.where(r.c.status == args.status)
    if args.purpose:
        query = query.where(r.c.purpose == args.purpose)
    if args.campaign:
        query = query.where(r.c.campaign_id == args.campaign)
    with db.read() as conn:
        rows = conn.execute(query).mappings().all()
    fields = ("id", "created_at", "organization", "campaign", "purpose", "status", "step", *COUNT_COLUMNS,
              "in_progress_at", "completed_at", "error_message")
    if args.json:
        print_json([{name: _plain(row[name]) for name in fields} for row in rows])
        return EXIT_OK
    print(f"{'Id':>6}  {'Created':<20} {'Campaign':<28} {'Purpose':<30} {'Status':<14} {'QPC':>8} {'Success':>8}")
    for row in rows:
        print(f"{row['id']:>6}  {row['created_at']:%Y-%m-%d %H:%M:%S}  {row['campaign'][:28]:<28} "
              f"{RunPurpose(row['purpose']).label:<30} {RunStatus(row['status']).label:<14} "
              f"{_number(row['query_param_customers']):>8} {_number(row['success']):>8}")
    print(f"{len(rows)} run(s)")
    return EXIT_OK


def _number(value) -> str:
    return "" if value is None else f"{value:,}"


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value


def cli_worker(db: Database, args) -> int:
    stop = threading.Event()
    if not args.once:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())

    def report(outcome: RunOutcome) -> None:
        print(format_outcome(outcome), flush=True)

    outcomes = run_worker(db, once=args.once, stop=stop, on_outcome=report)
    if args.once:
        print(f"{len(outcomes)} run(s) executed")
    return EXIT_RUN_ERROR if any(o.status is RunStatus.ERROR for o in outcomes) else EXIT_OK
