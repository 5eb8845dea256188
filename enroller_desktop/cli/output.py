"""What the command line prints: JSON, a run's outcome, progress on a terminal."""

from __future__ import annotations

import json
import sys

from enroller_desktop.engine.runs import COUNT_COLUMNS, RunOutcome

_TITLES = {name: name.replace("_", " ").capitalize() for name in COUNT_COLUMNS}


def print_json(value) -> None:
    print(json.dumps(value, default=str, ensure_ascii=False))


def plain(value):
    """A value as JSON holds it: times in ISO 8601, enumerations as their stored word."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.value if hasattr(value, "value") else value


def count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def format_outcome(outcome: RunOutcome) -> str:
    lines = [f"Run {outcome.id}: {outcome.status.label} (step {outcome.step.label})"]
    for name in COUNT_COLUMNS:
        value = outcome.counts.get(name)
        if value is not None:
            lines.append(f"  {_TITLES[name]:<22} {value:>12,}")
    if outcome.error_message:
        lines.append(f"  Error: {outcome.error_message}")
    return "\n".join(lines)


def print_outcome(outcome: RunOutcome, as_json: bool) -> None:
    if as_json:
        print_json(outcome.as_dict())
    else:
        print(format_outcome(outcome))


def progress_printer():
    """A progress callback drawing one line on stderr when it is a terminal; None
    otherwise, so that a script's or a log's output stays clean."""
    if not sys.stderr.isatty():
        return None

    def report(fraction: float, message: str) -> None:
        print(f"\r{fraction:6.1%} {message[:60]:<60}", end="", file=sys.stderr, flush=True)
        if fraction >= 1.0:
            print(file=sys.stderr)

    return report
