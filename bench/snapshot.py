"""The cost of deciding on one snapshot (issue 16): a warm Default run, before and after.

Builds ``bench/engine.py``'s data set once per database, stores the contact
verdicts with one cold run, then alternates warm Default runs of the code before
the change (a checkout given by ``--before``, e.g. ``git archive <commit>``
unpacked) and of this tree, each in a process of its own, so that both meet the
same machine at nearly the same moments. Each warm run's enrollments are undone
after it (``bench/engine.py``), so every run starts from the same state.

Usage: python bench/snapshot.py --before DIR [--size 1000000] [--rounds 3] [--backends sqlite postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine import build, drop_pg, fresh_url  # noqa: E402


def warm(tree: Path, url: str) -> dict:
    """One Default run of the engine in ``tree``, in its own process."""
    out = subprocess.run([sys.executable, str(tree / "bench" / "engine.py"), "--child", "engine", url],
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the run of {tree} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the code before the change")
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="enroller-bench-snapshot-"))
    print(f"# snapshot benchmark {dt.date.today().isoformat()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}, {args.size:,} customers")
    try:
        for backend in args.backends:
            url = fresh_url(backend, args.size, workdir)
            started = time.perf_counter()
            build(url, args.size)
            cold = warm(ROOT, url)
            print(f"\n## {backend} (built in {time.perf_counter() - started:.0f} s; cold run {cold['seconds']:.1f} s, "
                  f"{cold['success']:,} enrolled)")
            times: dict[str, list[float]] = {"before": [], "after": []}
            for round_ in range(args.rounds):
                for label, tree in (("before", args.before), ("after", ROOT)):
                    result = warm(tree, url)
                    times[label].append(result["seconds"])
                    print(f"round {round_ + 1} {label:6} {result['seconds']:7.2f} s  enrolled {result['success']:,}  "
                          f"peak {result['peak_mb']:.0f} MB  stages {result['stages']}  load {os.getloadavg()[0]:.1f}")
            before, after = statistics.median(times["before"]), statistics.median(times["after"])
            print(f"median: before {before:.2f} s, after {after:.2f} s: {100 * (after / before - 1):+.1f} %")
            if backend == "postgresql":
                drop_pg(args.size)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
