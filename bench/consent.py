"""Consent benchmark (issue 13): what recording the consent basis costs a warm
Default run, how long the consent forecast takes, and the consent audit export
against the ``sqlite3`` shell writing the same rows.

Data: ``bench/engine.py``'s (one Canadian organization, about 1.3 vehicles a
customer, one campaign of three query params using every channel; consent,
purchases and inquiries spread over 2020–2026).

- recording: warm Default runs (verdicts stored by a first run), alternately
  with the consent columns written and with them left NULL (the expressions
  replaced by NULLs in the same process: what the candidate INSERT records,
  and the columns worked out from it when the candidates are published), the
  enrollments and potentials of each
  run removed before the next, so every run starts from the same state; the
  medians are compared;
- forecast: ``consent_outlook.forecast`` for the organization, 90 days (median of 5);
- audit: the campaign's audit after one Default run (one row per enrollment),
  ours against ``sqlite3 -csv`` on the same query (shell first and last, averaged).

Usage: python bench/consent.py [--sizes 100000] [--backends sqlite postgresql] [--runs 3]
       [--parts recording forecast audit]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine import AS_OF, CAMPAIGN_ID, build, drop_pg, fresh_url  # noqa: E402
from enroller_desktop.db.engine import open_database  # noqa: E402

ORGANIZATION_ID = 1
PARTS = ["recording", "forecast", "audit"]


def default_run(db, *, keep: bool = False) -> float:
    from enroller_desktop.engine.runs import create_run, execute_run

    run_id = create_run(db, campaign_id=CAMPAIGN_ID, as_of=AS_OF)
    started = time.perf_counter()
    outcome = execute_run(db, run_id)
    seconds = time.perf_counter() - started
    assert outcome.status.value == "completed", outcome
    if not keep:
        with db.write() as conn:
            conn.execute(sa.text("DELETE FROM campaign_customers WHERE run_id = :r"), {"r": run_id})
            conn.execute(sa.text("DELETE FROM enroller_run_customers WHERE run_id = :r"), {"r": run_id})
    return seconds


def recording(db, runs: int) -> dict:
    from enroller_desktop.engine import consent

    recorded, published = consent.Standing.recorded_columns, consent.published

    def without(self):
        return dict(consent.NOT_APPLICABLE)

    def as_recorded(basis, evidence, dialect):
        return dict(consent.NOT_APPLICABLE)

    default_run(db)  # cold: stores the verdicts
    timings: dict[str, list[float]] = {"with": [], "without": []}
    for _ in range(runs):
        for mode in ("without", "with"):
            consent.Standing.recorded_columns = recorded if mode == "with" else without
            consent.published = published if mode == "with" else as_recorded
            timings[mode].append(default_run(db))
    consent.Standing.recorded_columns, consent.published = recorded, published
    with_s, without_s = statistics.median(timings["with"]), statistics.median(timings["without"])
    return {"with_s": round(with_s, 2), "without_s": round(without_s, 2),
            "overhead_pct": round(100 * (with_s - without_s) / without_s, 1),
            "all": {k: [round(v, 2) for v in vs] for k, vs in timings.items()}}


def forecast(db) -> dict:
    from enroller_desktop.engine import consent_outlook

    times, result = [], None
    for _ in range(5):
        with db.read() as conn:
            started = time.perf_counter()
            result = consent_outlook.forecast(conn, ORGANIZATION_ID, days=90, now=AS_OF)
            times.append(time.perf_counter() - started)
    return {"median_s": round(statistics.median(times), 3), "customers": result.customers,
            "active": result.active_enrollments}


def audit(db, db_path: Path | None, folder: Path) -> dict:
    from enroller_desktop import consent_exports
    from enroller_desktop.db import consent_queries

    default_run(db, keep=True)
    started, cpu = time.perf_counter(), time.process_time()
    rows = consent_exports.export_audit(db, CAMPAIGN_ID, folder / "audit.csv")
    ours_s, ours_cpu = time.perf_counter() - started, time.process_time() - cpu
    figures = {"rows": rows, "ours_s": round(ours_s, 2), "ours_cpu_s": round(ours_cpu, 2)}
    if db_path is None:
        return figures
    sql = str(consent_queries.audit_query(CAMPAIGN_ID).compile(db.engine, compile_kwargs={"literal_binds": True}))

    def shell() -> float:
        started = time.perf_counter()
        with open(folder / "shell.csv", "wb") as out:
            subprocess.run(["sqlite3", "-csv", "-header", str(db_path), sql], stdout=out, check=True)
        return time.perf_counter() - started

    shell_s = (shell() + shell()) / 2
    figures.update(shell_s=round(shell_s, 2), speed_vs_shell=round(shell_s / ours_s, 2))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=3, help="warm Default runs of each kind")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=PARTS,
                        help="what to measure (the forecast alone needs no Default run)")
    args = parser.parse_args()
    for size in args.sizes:
        for backend in args.backends:
            with tempfile.TemporaryDirectory(prefix="enroller-consent-bench-") as tmp:
                folder = Path(tmp)
                url = fresh_url(backend, size, folder, "consent")
                started = time.perf_counter()
                build(url, size)
                built_s = time.perf_counter() - started
                db = open_database(url)
                figures = {"backend": backend, "customers": size, "build_s": round(built_s, 1)}
                if "recording" in args.parts:
                    figures["recording"] = recording(db, args.runs)
                if "forecast" in args.parts:
                    figures["forecast"] = forecast(db)
                if "audit" in args.parts:
                    figures["audit"] = audit(db, folder / f"consent_{size}.sqlite3" if backend == "sqlite" else None, folder)
                figures["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
                db.dispose()
                if backend == "postgresql":
                    drop_pg(size, "consent")
                print(figures, flush=True)


if __name__ == "__main__":
    main()
