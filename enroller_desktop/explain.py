"""Answers to "why?" that need no run id known: a run's sole blockers, what
changed between two runs, a customer's story across campaigns, a preview of a
run. Plain Python over :mod:`enroller_desktop.db.explain_queries`; no Qt and no
printing: the command line prints what these return, the windows show it.
"""

from __future__ import annotations

from enroller_desktop import run_tables
from enroller_desktop.db import detail_queries, explain_queries
from enroller_desktop.db.compare_listing import DifferenceListing
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunPurpose, RunStatus

COUNT_FIELDS = ("query_param_customers", "potential_customers", "potential_events", "eligible", "success")


def has_potentials(purpose: RunPurpose, status: RunStatus) -> bool:
    """Whether a run's potentials say anything: Criterion Stats writes none, and a
    scheduled run has not looked yet."""
    return purpose is not RunPurpose.CRITERION_STATS and status is not RunStatus.SCHEDULED


def sole_blockers_of(db: Database, run_id: int) -> dict[str, int] | None:
    """The run's sole blockers keyed by condition, or None when the run has no
    potentials to count (see :func:`has_potentials`)."""
    with db.read() as conn:
        summary = detail_queries.run_summary(conn, run_id)
        if not has_potentials(summary.purpose, summary.status):
            return None
        return explain_queries.sole_blockers(conn, run_id).alone


def explain_run(db: Database, run_id: int) -> dict:
    """One run explained: its funnel counts and, for the run and each of its query
    params, how many potentials each condition alone holds back and how many it
    holds back among others. Raises ``RunNotFound`` for an unknown id."""
    with db.read() as conn:
        summary = detail_queries.run_summary(conn, run_id)
        counted = has_potentials(summary.purpose, summary.status)
        blockers = explain_queries.sole_blockers(conn, run_id) if counted else None
        params = explain_queries.query_param_blockers(conn, run_id) if counted else []
    return {
        "run_id": summary.id,
        "campaign_id": summary.campaign_id,
        "campaign": summary.campaign_name,
        "organization": summary.organization_name,
        "purpose": summary.purpose.value,
        "status": summary.status.value,
        "as_of": summary.as_of.isoformat() if summary.as_of else None,
        **{name: getattr(summary, name) for name in COUNT_FIELDS},
        "sole_blockers": blockers.alone if blockers else None,
        "failed_among_others": blockers.among_others if blockers else None,
        "query_params": [
            {"query_param_id": p.query_param_id, "process_order": p.process_order, "name": p.name,
             "sole_blockers": p.blockers.alone, "failed_among_others": p.blockers.among_others}
            for p in params
        ],
    }


def format_explained_run(explained: dict) -> str:
    """The text ``explain`` prints."""
    lines = [f"Run {explained['run_id']}: {explained['campaign']} ({explained['organization']}), "
             f"{RunPurpose(explained['purpose']).label}, {RunStatus(explained['status']).label}"]
    for name in COUNT_FIELDS:
        if explained[name] is not None:
            lines.append(f"  {name.replace('_', ' ').capitalize():<24}{explained[name]:>12,}")
    if explained["sole_blockers"] is None:
        lines.append("  No potentials to explain (a Criterion Stats or scheduled run)")
        return "\n".join(lines)
    lines.append(f"  {'Condition':<34}{'Fails alone':>12}{'Among others':>14}")
    for name in explain_queries.CONDITIONS:
        lines.append(f"  {explain_queries.CONDITION_TITLES[name]:<34}{explained['sole_blockers'][name]:>12,}"
                     f"{explained['failed_among_others'][name]:>14,}")
    for param in explained["query_params"]:
        alone = ", ".join(f"{name} {n:,}" for name, n in param["sole_blockers"].items() if n)
        lines.append(f"  {param['process_order']}. {param['name']}: alone {alone or 'none'}")
    return "\n".join(lines)


# -- comparing two runs --------------------------------------------------------------

COMPARED_TITLES = {
    "valid_email": "Valid Email", "valid_phone": "Valid Phone", "valid_message": "Valid Message", "deleted": "Deleted",
    "unique_event": "Unique Event", "already_in_queue": "Already in Queue", "casl": "CASL", "opt_out_all": "Opt Out All",
    "marketing_exclusion": "Marketing Exclusion", "is_valid": "Is Valid",
}
CHANGE_TITLES = {"entered": "Entered", "left": "Left", "became_eligible": "Became eligible",
                 "lost_eligibility": "Lost eligibility", "checks_changed": "Checks changed"}
_RESULT_TEXT = {1: "Passed", 0: "Failed", None: "NA"}
_VALID_TEXT = {1: "Valid", 0: "Invalid", None: ""}
TRANSITION_TEXT = {t: " → ".join("NA" if word == "na" else word.capitalize() for word in t.split("_to_"))
                    for t in explain_queries.TRANSITIONS}


def changed_checks(change: str, *results) -> str:
    """The compared results that changed, in words ("CASL: Passed → Failed");
    ``results`` holds each result of :data:`explain_queries.COMPARED` in A then in B."""
    if change in ("entered", "left"):
        return ""
    words = []
    for index, name in enumerate(explain_queries.COMPARED):
        before, after = results[2 * index], results[2 * index + 1]
        if before != after:
            text = _VALID_TEXT if name == "is_valid" else _RESULT_TEXT
            words.append(f"{COMPARED_TITLES[name]}: {text[before]} → {text[after]}")
    return "; ".join(words)


def _difference_table() -> run_tables.RunTable:
    results = tuple(f"{side}_{name}" for name in explain_queries.COMPARED for side in ("a", "b"))
    return run_tables.RunTable("differences", "Differences", (
        run_tables.Column("first_name", "First Name", ("first_name",), free_text=True),
        run_tables.Column("last_name", "Last Name", ("last_name",), free_text=True),
        run_tables.Column("vehicle", "Vehicle", ("year", "make", "model"), run_tables.format_vehicle, free_text=True),
        run_tables.Column("change", "Change", ("change",), CHANGE_TITLES.__getitem__, kind="status", categorical=True),
        run_tables.Column("a_is_valid", "Is Valid in A", ("a_is_valid",), _VALID_TEXT.__getitem__, kind="status", categorical=True),
        run_tables.Column("b_is_valid", "Is Valid in B", ("b_is_valid",), _VALID_TEXT.__getitem__, kind="status", categorical=True),
        run_tables.Column("checks_changed", "Checks Changed", ("change", *results), changed_checks, categorical=True),
    ))


DIFFERENCES = _difference_table()


def comparison(db: Database, first: int, second: int) -> explain_queries.Comparison:
    """Compare two runs of one campaign, the older as A; refuses runs of two
    campaigns (``RunsNotComparable``) and unknown runs (``RunNotFound``)."""
    with db.read() as conn:
        run_a, run_b = explain_queries.run_pair(conn, first, second)
        return explain_queries.compare_runs(conn, run_a.id, run_b.id)


def difference_source(run_a: int, run_b: int, kind: str | None = None) -> run_tables.TableSource:
    """The potentials whose outcome differs, as a table to show or export."""
    return run_tables.TableSource(DIFFERENCES, listing=DifferenceListing(run_id=run_b, run_a=run_a, kind=kind))


def format_comparison(compared: explain_queries.Comparison) -> str:
    """The text ``compare`` prints: the counts, then each result that changed."""
    lines = [f"Run {compared.run_a} (A, older) → run {compared.run_b} (B)"]
    for key in ("entered", "left", "became_eligible", "lost_eligibility"):
        lines.append(f"  {CHANGE_TITLES[key]:<22}{getattr(compared, key):>12,}")
    for name, transitions in compared.checks.items():
        changed = ", ".join(f"{TRANSITION_TEXT[t]} {n:,}" for t, n in transitions.items() if n)
        if changed:
            lines.append(f"  {COMPARED_TITLES[name]:<22}{changed}")
    return "\n".join(lines)
