"""Run detail benchmark (issue 5): the Potentials tab and its CSV export over a run
of 1,000,000 potentials, on SQLite.

The data is one Canadian organization with N customers, each with a vehicle, and
one completed Default run whose N potentials carry a realistic mix of check
results, written directly (Core inserts in bulk): what is measured reads the
potentials table and its indexes, which are the same whichever way the rows came.

Measured in a child process (so its peak memory is its own):

- first rows: from opening the run window on the Potentials tab until its first
  page is on screen (target 500 ms);
- failed check: from choosing "Failed Casl" until the first filtered rows show,
  and until they are counted (target 1 s);
- peak memory with the tab open, scrolled to the middle and filtered (300 MB);
- export: every potential to CSV through the window's export (titles, values as
  shown, formula guard, BOM) against the ``sqlite3`` command-line shell writing
  the same rows of the same query with ``-csv`` (target: at least half its speed),
  and next to both the floor: plain ``sqlite3`` and ``csv.writer``, no formatting.

Usage: python bench/detail.py [--rows 1000000] [--keep DIR] [--part window|export]
Needs the ``sqlite3`` shell (Debian package ``sqlite3``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

T0 = "2026-11-27 12:00:00.000000"


def build(path: Path, rows: int) -> None:
    from enroller_desktop.db.engine import open_database

    open_database(f"sqlite:///{path}").dispose()  # the schema, migrated
    rng = random.Random(5)
    first = ["Émilie", "Jean", "Marie", "Connor", "Nguyễn", "Sofia", "Liam", "Chloé", "Noah", "Zoë"]
    last = ["Tremblay", "O'Brien", "Gagnon", "Roy", "Müller", "Singh", "D'Amours", "Côté", "Smith", "Lee"]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    with conn:
        conn.execute("INSERT INTO organizations (id, name, country) VALUES (1, 'Lakeshore Auto', 'CA')")
        conn.execute("INSERT INTO campaigns (id, organization_id, name, active, uses_email, uses_phone, uses_sms, exclusion_exempt) VALUES (1, 1, 'Service Due', 1, 1, 1, 1, 0)")
        conn.execute("INSERT INTO query_params (id, campaign_id, process_order, name, criterion, event_key, active) VALUES (1, 1, 1, 'Everyone', '{\"field\": \"customer.created_at\", \"op\": \"not_null\"}', '', 1)")
        conn.execute(
            "INSERT INTO enroller_runs (id, organization_id, campaign_id, purpose, status, step, as_of, created_at, in_progress_at, completed_at,"
            " query_param_customers, potential_customers, potential_events, eligible, success) VALUES (1, 1, 1, 'default', 'completed', 'campaign_customers', ?, ?, ?, ?, ?, 0, 0, 0, 0)",
            (T0, T0, T0, T0, rows),
        )
        batch = 50_000
        for start in range(1, rows + 1, batch):
            ids = range(start, min(start + batch, rows + 1))
            names = [(rng.choice(first), f"{rng.choice(last)}{i % 997}") for i in ids]
            conn.executemany(
                "INSERT INTO customers (id, organization_id, first_name, last_name, deleted, opt_out_all, email_opt_out, sms_opt_out, do_not_call) VALUES (?, 1, ?, ?, 0, 0, 0, 0, 0)",
                ((i, f, l) for i, (f, l) in zip(ids, names)),
            )
            conn.executemany(
                "INSERT INTO vehicles (id, customer_id, year, make, model) VALUES (?, ?, ?, 'Honda', 'Civic')",
                ((i, i, 2010 + i % 15) for i in ids),
            )

            def checks():
                return [1 if rng.random() < p else 0 for p in (0.8, 0.7, 0.5, 0.97, 0.9, 0.92, 0.75, 0.96, 0.95)]

            conn.executemany(
                "INSERT INTO enroller_run_customers (run_id, customer_id, vehicle_id, query_param_id, event_key, first_name, last_name, status, is_valid,"
                " valid_email, valid_phone, valid_message, deleted, unique_event, already_in_queue, casl, opt_out_all, marketing_exclusion, validated_at)"
                " VALUES (1, ?, ?, 1, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((i, i, f, l, "success" if all(c[3:]) else "pending", all(c[3:]), *c, T0) for i, (f, l), c in ((i, n, checks()) for i, n in zip(ids, names))),
            )
    with conn:
        conn.execute("UPDATE enroller_runs SET success = (SELECT count(*) FROM enroller_run_customers WHERE status = 'success') WHERE id = 1")
    conn.execute("ANALYZE")
    conn.close()


def measure_window(url: str) -> dict:
    """In this (child) process: the window's figures and its peak memory."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from enroller_desktop.db.engine import open_database
    from enroller_desktop.db.enums import Check
    from enroller_desktop.ui.run_window import RunWindow

    app = QApplication([])
    db = open_database(url)

    def wait_for(predicate, limit_s: float = 60) -> None:
        deadline = time.perf_counter() + limit_s
        while not predicate():
            if time.perf_counter() > deadline:
                raise TimeoutError("the window did not answer in time")
            loop = QEventLoop()
            QTimer.singleShot(1, loop.quit)
            loop.exec()

    figures = {}
    started = time.perf_counter()
    window = RunWindow(db, 1)
    figures["window_built_ms"] = (time.perf_counter() - started) * 1000
    window.tabs.setCurrentWidget(window.potentials_tab)
    window.show()
    model = window.potentials_model
    wait_for(lambda: model.row_text(0, 0) is not None)
    figures["first_rows_ms"] = (time.perf_counter() - started) * 1000
    wait_for(lambda: model.total is not None)
    figures["counted_ms"] = (time.perf_counter() - started) * 1000
    figures["rows"] = model.total

    view = window.potentials_tab.view
    started = time.perf_counter()
    view.scrollTo(model.index(model.rowCount() // 2, 0))
    wait_for(lambda: model.row_text(model.rowCount() // 2, 0) is not None)
    figures["jump_to_middle_ms"] = (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    window.check_filter.setCurrentIndex(window.check_filter.findData(Check.CASL))
    wait_for(lambda: model.listing.filter.failed_check is Check.CASL and model.row_text(0, 0) is not None)
    figures["failed_check_first_rows_ms"] = (time.perf_counter() - started) * 1000
    wait_for(lambda: model.total is not None)
    figures["failed_check_counted_ms"] = (time.perf_counter() - started) * 1000
    figures["failed_check_rows"] = model.total
    figures["peak_mb_tab_open"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    window.close()
    app.processEvents()
    return figures


def measure_export(url: str, folder: Path, db_path: Path) -> dict:
    """Our export against the shell writing the same query's rows with ``-csv``, and
    the floor of Python here: the plain ``sqlite3`` module and ``csv.writer`` with no
    formatting at all. The shell runs first and last, and its two times are averaged,
    so that a change in the machine's load during the run weighs on both sides.
    CPU seconds are given too: on a shared machine they move less than wall time."""
    import csv

    from enroller_desktop import export, run_detail
    from enroller_desktop.db import detail_queries
    from enroller_desktop.db.engine import open_database

    db = open_database(url)
    with db.read() as conn:
        summary = detail_queries.run_summary(conn, 1)
    source = run_detail.run_tab_source(summary, "potentials")
    query, _ = source.listing.export_query("sqlite", source.table.fields)  # the fields as stored, none packed
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))

    def shell() -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        with open(folder / "shell.csv", "wb") as out:
            subprocess.run(["sqlite3", "-csv", "-header", str(db_path), sql], stdout=out, check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.perf_counter() - started, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime

    def timed(work) -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        work()
        return time.perf_counter() - started, time.process_time() - cpu

    def floor() -> None:
        conn = sqlite3.connect(db_path)
        cursor = conn.execute(sql)
        with open(folder / "floor.csv", "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([column[0] for column in cursor.description])
            while batch := cursor.fetchmany(export.BATCH_SIZE):
                writer.writerows(batch)
        conn.close()

    written = 0

    def ours() -> None:
        nonlocal written
        written = export.export_source(db, source, folder / "potentials.csv")

    shell_first = shell()
    ours_s, ours_cpu = timed(ours)
    floor_s, floor_cpu = timed(floor)
    shell_last = shell()
    shell_s = (shell_first[0] + shell_last[0]) / 2
    shell_cpu = (shell_first[1] + shell_last[1]) / 2
    return {
        "export_rows": written,
        "load_average": os.getloadavg()[0],
        "export_s": ours_s,
        "export_cpu_s": ours_cpu,
        "export_rows_per_s": written / ours_s,
        "shell_s": shell_s,
        "shell_cpu_s": shell_cpu,
        "shell_rows_per_s": written / shell_s,
        "floor_s": floor_s,
        "floor_cpu_s": floor_cpu,
        "speed_vs_shell": shell_s / ours_s,
        "cpu_speed_vs_shell": shell_cpu / ours_cpu,
        "floor_speed_vs_shell": shell_s / floor_s,
        "export_mb": (folder / "potentials.csv").stat().st_size / 1e6,
        "peak_mb_export": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(kind: str, url: str, folder: str, db_path: str) -> None:
    figures = measure_window(url) if kind == "window" else measure_export(url, Path(folder), Path(db_path))
    print(json.dumps(figures))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database in this folder")
    parser.add_argument("--part", choices=("window", "export"), action="append", help="measure only this part (repeatable; default: both)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if shutil.which("sqlite3") is None:
        sys.exit("the sqlite3 shell is needed: apt-get install sqlite3")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="enroller-detail-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db_path = folder / f"detail-{args.rows}.sqlite3"
    if not db_path.exists():
        started = time.perf_counter()
        build(db_path, args.rows)
        print(f"built {args.rows:,} potentials in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    url = f"sqlite:///{db_path}"
    results = {"rows": args.rows}
    for kind in args.part or ("window", "export"):
        done = subprocess.run([sys.executable, __file__, "--child", kind, url, str(folder), str(db_path)], capture_output=True, text=True, check=True)
        results.update(json.loads(done.stdout.strip().splitlines()[-1]))
    print(json.dumps(results, indent=2))
    if not args.keep:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
