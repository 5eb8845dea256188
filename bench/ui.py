"""Main window speed and memory over 200,000 runs (offscreen), against a baseline.

    .venv/bin/python bench/ui.py [--runs 200000] [--db PATH]

Each contender runs in a fresh process, so that "first rows" counts from process
start (imports included) and peak memory is the process's own:

- window: the real MainWindow (lazy keyset model, filter dock, trends hidden);
- baseline: a bare QTableView over a plain model that runs the same query
  (runs joined with organization and campaign names, newest first) and keeps
  every row, the way a quick tool would.

``--first-launch`` measures instead what ``make run`` does on a fresh machine:
``enroller-desktop --demo-if-empty`` on a new SQLite file, from process start to
the welcome view painted with the demo's progress bar moving (target: 3 s), and
to the demo loaded and its runs painted.

Figures: time to first rows painted from process start; a filter change until
the new rows are painted (median of 20; the dock's 250 ms typing pause is not
counted: it is a deliberate wait, not work); Ctrl+End to the last row painted;
peak resident memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"first_rows_s": 1.5, "filter_repaint_ms": 150, "jump_to_last_ms": 200, "peak_mb": 300}


def build_database(path: Path, count: int) -> None:
    """Organizations, campaigns and ``count`` runs, inserted with Core executemany."""
    import sqlalchemy as sa

    from enroller_desktop.db.engine import open_database
    from enroller_desktop.db.enums import RunPurpose, RunStatus, RunStep
    from enroller_desktop.db.models import Campaign, EnrollerRun, Organization

    if path.exists():
        path.unlink()
    db = open_database(f"sqlite:///{path}")
    rng = random.Random(1)
    with db.write() as conn:
        conn.execute(sa.insert(Organization.__table__), [{"id": i, "name": f"Dealer Group {i}", "country": "CA"} for i in range(1, 6)])
        conn.execute(
            sa.insert(Campaign.__table__),
            [{"id": i, "organization_id": (i - 1) % 5 + 1, "name": f"Campaign {i}", "active": True} for i in range(1, 21)],
        )
    start = dt.datetime(2026, 1, 1)
    statuses, purposes = list(RunStatus), list(RunPurpose)
    rows = []
    for i in range(count):
        campaign = rng.randint(1, 20)
        created = start - dt.timedelta(seconds=i * 150)
        status = statuses[rng.randrange(6)]
        began = created + dt.timedelta(seconds=5) if status is not RunStatus.SCHEDULED else None
        n = rng.randint(0, 200_000)
        rows.append(
            {
                "organization_id": (campaign - 1) % 5 + 1,
                "campaign_id": campaign,
                "purpose": purposes[rng.randrange(5)].value,
                "status": status.value,
                "step": RunStep.MAIN.value,
                "created_at": created,
                "scheduled_for": created,
                "in_progress_at": began,
                "completed_at": began + dt.timedelta(seconds=rng.randint(1, 3000)) if began and status.finished else None,
                "query_param_customers": n,
                "potential_customers": n // 2,
                "potential_events": n // 3,
                "eligible": n // 4,
                "success": n // 5,
            }
        )
    with db.write() as conn:
        for at in range(0, len(rows), 20_000):
            conn.execute(sa.insert(EnrollerRun.__table__), rows[at : at + 20_000])
    with db.write() as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _wait(app, condition, timeout_s: float = 30) -> None:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        app.processEvents()
        if time.perf_counter() > deadline:
            raise TimeoutError("the table did not answer")
        time.sleep(0.0005)


def child_window(db_path: str, t0: float) -> dict:
    from PySide6.QtCore import QSettings

    from enroller_desktop.db.engine import open_database
    from enroller_desktop.db.enums import RunStatus
    from enroller_desktop.db.index_queries import RunFilter
    from enroller_desktop.ui.app import make_application
    from enroller_desktop.ui.main_window import MainWindow
    from enroller_desktop.ui.settings import Settings

    app = make_application()
    db = open_database(f"sqlite:///{db_path}", upgrade=False)
    settings = Settings(QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat))
    window = MainWindow(db, settings=settings)
    window.resize(1400, 800)
    window.show()
    view, model = window.view, window.model

    def painted() -> bool:
        first, last = window.visible_rows()
        return model.rowCount() > 0 and last >= first and model.is_loaded(first, last)

    _wait(app, painted)
    view.viewport().repaint()
    first_rows = time.time() - t0

    filters = [RunFilter(statuses=frozenset({RunStatus.COMPLETED})), RunFilter(statuses=frozenset({RunStatus.ERROR, RunStatus.CANCELED}))]
    repaints = []
    for i in range(20):
        started = time.perf_counter()
        reloaded = []
        model.reloaded.connect(lambda: reloaded.append(1))
        model.set_filter(filters[i % 2])
        _wait(app, lambda: reloaded and painted())
        view.viewport().repaint()
        repaints.append((time.perf_counter() - started) * 1000)
        model.reloaded.disconnect()

    model.set_filter(RunFilter())
    _wait(app, lambda: model.rowCount() > 150_000 and painted())
    started = time.perf_counter()
    view.scrollToBottom()
    _wait(app, lambda: window.visible_rows()[1] == model.rowCount() - 1 and painted())
    view.viewport().repaint()
    jump = (time.perf_counter() - started) * 1000
    result = {"rows": model.rowCount(), "first_rows_s": first_rows, "filter_repaint_ms": statistics.median(repaints),
              "jump_to_last_ms": jump, "peak_mb": _peak_mb()}
    window.close()
    return result


def child_first_launch(db_path: str, t0: float) -> dict:
    """What ``run_app(url, demo_if_empty=True)`` does, with the clock read at each step."""
    from enroller_desktop.ui.app import make_application, open_main_window
    from enroller_desktop.ui.first_launch import load_demo_when_empty
    from enroller_desktop.ui.settings import Settings
    from PySide6.QtCore import QSettings

    app = make_application()
    settings = Settings(QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat))
    window = open_main_window(f"sqlite:///{db_path}", settings)
    load_demo_when_empty(window)
    loaded = []
    window.welcome.demoLoaded.connect(loaded.append)
    _wait(app, lambda: window.welcome_shown and window.welcome.progress.isVisible())
    window.grab()  # painted
    window_s = time.time() - t0
    _wait(app, lambda: bool(loaded), timeout_s=600)
    _wait(app, lambda: window.model.rowCount() > 0 and not window.model.busy)
    window.grab()
    result = {"window_s": window_s, "demo_loaded_s": time.time() - t0, "runs": window.model.rowCount(), "summary": loaded[0]}
    window.close()
    return result


def child_baseline(db_path: str, t0: float) -> dict:
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
    from PySide6.QtWidgets import QTableView

    from enroller_desktop.db import index_queries
    from enroller_desktop.db.engine import open_database
    from enroller_desktop.db.enums import RunStatus
    from enroller_desktop.db.index_queries import RunFilter, RunSort
    from enroller_desktop.ui.app import make_application

    class AllRows(QAbstractTableModel):
        def __init__(self, db):
            super().__init__()
            self.db, self.rows = db, []

        def load(self, run_filter):
            self.beginResetModel()
            with self.db.read() as conn:
                runs = index_queries.page(conn, run_filter, RunSort(), limit=10_000_000)
            self.rows = [
                (r.id, r.created_at, r.organization, r.campaign, r.purpose.label, r.status.label, r.query_param_customers,
                 r.potential_customers, r.potential_events, r.eligible, r.success, r.in_progress_at, r.completed_at, r.duration)
                for r in runs
            ]
            self.endResetModel()

        def rowCount(self, parent=QModelIndex()):  # noqa: B008
            return len(self.rows)

        def columnCount(self, parent=QModelIndex()):  # noqa: B008
            return 14

        def data(self, index, role=Qt.ItemDataRole.DisplayRole):
            if role == Qt.ItemDataRole.DisplayRole:
                value = self.rows[index.row()][index.column()]
                return None if value is None else str(value)
            return None

    app = make_application()
    db = open_database(f"sqlite:///{db_path}", upgrade=False)
    model = AllRows(db)
    view = QTableView()
    view.setModel(model)
    view.resize(1400, 800)
    view.show()
    model.load(RunFilter())
    app.processEvents()
    view.viewport().repaint()
    first_rows = time.time() - t0
    filters = [RunFilter(statuses=frozenset({RunStatus.COMPLETED})), RunFilter(statuses=frozenset({RunStatus.ERROR, RunStatus.CANCELED}))]
    repaints = []
    for i in range(20):
        started = time.perf_counter()
        model.load(filters[i % 2])
        app.processEvents()
        view.viewport().repaint()
        repaints.append((time.perf_counter() - started) * 1000)
    model.load(RunFilter())
    app.processEvents()
    started = time.perf_counter()
    view.scrollToBottom()
    app.processEvents()
    view.viewport().repaint()
    jump = (time.perf_counter() - started) * 1000
    return {"rows": model.rowCount(), "first_rows_s": first_rows, "filter_repaint_ms": statistics.median(repaints),
            "jump_to_last_ms": jump, "peak_mb": _peak_mb()}


def measure(kind: str, db_path: Path) -> dict:
    t0 = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--db", str(db_path), "--t0", repr(t0)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "enroller-bench-ui.sqlite3")
    parser.add_argument("--child", choices=["window", "baseline", "first-launch"])
    parser.add_argument("--first-launch", action="store_true", help="time make run's first launch on an empty database")
    parser.add_argument("--t0", type=float)
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run")
    args = parser.parse_args()
    if args.child:
        child = {"window": child_window, "baseline": child_baseline, "first-launch": child_first_launch}[args.child]
        print(json.dumps(child(str(args.db), args.t0)))
        return
    if args.first_launch:
        empty = Path(tempfile.mkdtemp(prefix="enroller-first-launch-")) / "new.sqlite3"
        result = measure("first-launch", empty)
        print(f"first launch on an empty database: window painted {result['window_s']:.2f} s (target 3 s), "
              f"demo loaded and its {result['runs']:,} runs painted {result['demo_loaded_s']:.1f} s")
        print(json.dumps(result))
        return

    started = time.perf_counter()
    if not (args.reuse and args.db.exists()):
        build_database(args.db, args.runs)
    print(f"built {args.runs:,} runs in {time.perf_counter() - started:.1f} s ({args.db})")
    results = {kind: measure(kind, args.db) for kind in ("window", "baseline")}
    print(f"{'figure':<20}{'window':>12}{'baseline':>12}{'target':>10}")
    for key, target in TARGETS.items():
        w, b = results["window"][key], results["baseline"][key]
        verdict = "ok" if w <= target else "MISSED"
        print(f"{key:<20}{w:>12.3f}{b:>12.3f}{target:>10}  {verdict}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
