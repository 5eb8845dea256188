"""``workers``: the workers registered in the database, as a table or JSON."""

from __future__ import annotations

from enroller_desktop.cli.output import count, print_json
from enroller_desktop.db.engine import Database
from enroller_desktop.engine.runs import recover_interrupted
from enroller_desktop.engine.worker_registry import list_workers

EXIT_OK = 0


def workers(db: Database, args) -> int:
    recover_interrupted(db)
    found = list_workers(db)
    if args.json:
        print_json([worker.as_dict() for worker in found])
        return EXIT_OK
    print(f"{'Name':<24} {'Host':<24} {'Pid':>7}  {'State':<8} {'Run':>8}  {'Last heartbeat':<20} {'Today':>6} {'Total':>7}")
    for w in found:
        print(f"{w.name[:24]:<24} {w.host[:24]:<24} {w.pid:>7}  {w.state.label:<8} {count(w.current_run_id):>8}  "
              f"{w.heartbeat_at:%Y-%m-%d %H:%M:%S}  {w.runs_today:>6,} {w.runs_done:>7,}")
    print(f"{len(found)} worker(s)")
    return EXIT_OK
