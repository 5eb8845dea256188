"""Does the main window's event loop stall while a large run executes? (issue 4)

    .venv/bin/python bench/ui_stall.py [--customers 200000] [--db PATH] [--reuse]

Builds a SQLite database with one organization of ``--customers`` customers and a
campaign of three query params (``bench/engine.py``'s data), opens the real
MainWindow on it (offscreen), launches a Default run the way the window does
(:meth:`MainWindow.execute` on a run created as New Run creates it) and, while
the run executes on the window's pool, measures the gaps between the ticks of a
10 ms QTimer on the interface thread. A tick late by more than the interval is a
stall: the window could not paint or answer a key for that long.

Prints the longest gap, the 99th percentile, how many gaps passed 100 ms, and
where the interface thread was when it was late (sampled by a watchdog thread).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

TICK_MS = 10
STALL_MS = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "enroller-bench-ui-stall.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="keep the database of an earlier run (its verdicts stored: a warm run)")
    args = parser.parse_args()

    from engine import build  # bench/engine.py

    url = f"sqlite:///{args.db}"
    if not (args.reuse and args.db.exists()):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.db}{suffix}").unlink(missing_ok=True)
        started = time.perf_counter()
        build(url, args.customers)
        print(f"built {args.customers:,} customers in {time.perf_counter() - started:.1f} s ({args.db})")

    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from enroller_desktop.engine import runs
    from enroller_desktop.ui.app import make_application, open_main_window
    from enroller_desktop.ui.settings import Settings

    app = make_application()
    settings = Settings(QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.Format.IniFormat))
    print(f"objects the garbage collector follows before the window: {len(gc.get_objects()):,}")
    window = open_main_window(url, settings)  # as the program starts it
    window.resize(1400, 800)
    db = window.db
    deadline = time.perf_counter() + 30
    while window.model.busy and time.perf_counter() < deadline:
        app.processEvents()
        time.sleep(0.001)

    gaps: list[float] = []  # ms between neighbouring ticks
    stalls: list[tuple[float, float]] = []  # (seconds into the run, ms)
    stages: list[tuple[float, str]] = []  # (seconds into the run, the run's progress message)
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gap = (now - last[0]) * 1000
        gaps.append(gap)
        if gap > STALL_MS:
            stalls.append((now - started - gap / 1000, gap))
        last[0] = now

    # A watchdog thread: when the interface thread is late by more than half a
    # stall, note where it is (our code's frames), to tell who stalls it.
    main_thread = threading.main_thread().ident
    seen: Counter[str] = Counter()
    watching = threading.Event()

    def watch() -> None:
        while not watching.wait(0.02):
            if (time.perf_counter() - last[0]) * 1000 > STALL_MS / 2:
                frame = sys._current_frames().get(main_thread)
                ours = [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in traceback.extract_stack(frame) if "enroller_desktop" in f.filename or "bench" in f.filename]
                seen[" < ".join(reversed(ours[-4:])) or "(in Qt or waiting for the GIL)"] += 1

    print(f"objects it follows once the window shows: {len(gc.get_objects()):,} (set aside: {gc.get_freeze_count():,})")
    # Garbage collections stop every thread: note the long ones, to set them against the stalls.
    collections: list[tuple[float, float, int]] = []  # (seconds into the run, ms, generation)
    collecting = [0.0]

    def collected(phase: str, info: dict) -> None:
        now = time.perf_counter()
        if phase == "start":
            collecting[0] = now
        elif (now - collecting[0]) * 1000 > 20:
            collections.append((collecting[0] - started, (now - collecting[0]) * 1000, info["generation"]))

    gc.callbacks.append(collected)
    timer = QTimer(interval=TICK_MS)
    timer.timeout.connect(tick)
    run_id = runs.create_run(db, campaign_id=1, as_of=dt.datetime(2026, 11, 27, 12, tzinfo=dt.timezone.utc))
    loop = QEventLoop()
    watchdog = threading.Thread(target=watch, daemon=True)
    watchdog.start()
    timer.start()
    last[0] = started = time.perf_counter()
    job = window.execute(run_id)  # what New Run's "Run now" does
    job.signals.progress.connect(lambda fraction, message: stages.append((time.perf_counter() - started, message)))
    job.signals.finished.connect(loop.quit)
    window.poll()
    loop.exec()
    elapsed = time.perf_counter() - started
    timer.stop()
    watching.set()

    with db.read() as conn:
        outcome = runs.load_outcome(conn, run_id)
    ordered = sorted(gaps)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"run {run_id}: {outcome.status.value} in {elapsed:.1f} s, {outcome.counts['query_param_customers']} candidates, {outcome.counts['success']} enrolled")
    print(f"ticks: {len(gaps):,} of {TICK_MS} ms; gap median {statistics.median(gaps):.1f} ms, 99th percentile {p99:.1f} ms, "
          f"max {ordered[-1]:.1f} ms; {sum(g > STALL_MS for g in gaps)} over {STALL_MS} ms")
    for at, gap in stalls:
        doing = [message for when, message in stages if when <= at]
        print(f"  stall of {gap:.0f} ms at {at:.2f} s, the run at: {doing[-1] if doing else '(starting)'}")
    for at, ms, generation in collections:
        print(f"  garbage collection of generation {generation}: {ms:.0f} ms at {at:.2f} s")
    for where, count in seen.most_common(8):
        print(f"  late x{count}: {where}")
    window.close()


if __name__ == "__main__":
    main()
