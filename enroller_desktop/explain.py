"""Answers to "why?" that need no run id known: a run's sole blockers, what
changed between two runs, a customer's story across campaigns, a preview of a
run. Plain Python over :mod:`enroller_desktop.db.explain_queries`; no Qt and no
printing: the command line prints what these return, the windows show it.
"""

from __future__ import annotations

from enroller_desktop.db import detail_queries, explain_queries
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
