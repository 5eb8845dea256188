"""Queries that explain decisions across a run: what each check alone holds back.

Plain SQLAlchemy Core, no Qt; the engine's stage predicates (:mod:`db.stages`)
decide what "passed" means, so these counts agree with the funnel.

Readings (a careful compliance officer's):

- The seven *conditions* of eligibility are the checks as the funnel reads them:
  the three channel checks count as one condition, ``channels``, passed when at
  least one channel passed (SPEC 3, Potential Customers); a CASL that does not
  apply (NULL) counts as passed; every other check passes only on 1 (a NULL in
  an always-applicable check, which the engine never writes, would count as
  failed, as the funnel counts it).
- A potential's *sole blocker* is the one condition it failed when it failed
  exactly one: it would be eligible if that condition alone passed. It failed a
  condition *among others* when it failed that one and at least one more.
- The conditions are keyed by the potentials' column names; ``channels`` stands
  for ``valid_email``, ``valid_phone`` and ``valid_message`` together.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db.models import EnrollerRunCustomer, EnrollerRunQueryParam, QueryParam

potentials = EnrollerRunCustomer.__table__
run_query_params = EnrollerRunQueryParam.__table__
query_params = QueryParam.__table__

PASSED = 1

#: The conditions in funnel order, keyed as the potentials' columns.
CONDITIONS = ("deleted", "channels", "unique_event", "already_in_queue", "casl", "opt_out_all", "marketing_exclusion")
CONDITION_TITLES = {
    "deleted": "Deleted",
    "channels": "Channels (email, phone, message)",
    "unique_event": "Unique Event",
    "already_in_queue": "Already in Queue",
    "casl": "CASL",
    "opt_out_all": "Opt Out All",
    "marketing_exclusion": "Marketing Exclusion",
}
CHANNEL_COLUMNS = ("valid_email", "valid_phone", "valid_message")


def condition_passed(condition: str, p=potentials) -> ColumnElement[bool]:
    """True for the potentials that passed ``condition`` (one of :data:`CONDITIONS`)."""
    c = p.c
    if condition == "channels":
        return sa.or_(*(c[name] == PASSED for name in CHANNEL_COLUMNS))
    if condition == "casl":
        return sa.or_(c.casl.is_(None), c.casl == PASSED)
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}: one of {', '.join(CONDITIONS)}")
    return c[condition] == PASSED


def failed_flag(condition: str, p=potentials) -> ColumnElement[int]:
    """1 when the potential failed ``condition``, else 0 (never NULL)."""
    return sa.case((condition_passed(condition, p), 0), else_=1)


def failures(p=potentials) -> ColumnElement[int]:
    """How many conditions the potential failed."""
    total = failed_flag(CONDITIONS[0], p)
    for condition in CONDITIONS[1:]:
        total = total + failed_flag(condition, p)
    return total


def failed_only(condition: str, p=potentials) -> ColumnElement[bool]:
    """The potentials whose one failed condition is ``condition`` (the Potentials
    filter "Failed only: …")."""
    others = [condition_passed(other, p) for other in CONDITIONS if other != condition]
    return sa.and_(sa.not_(condition_passed(condition, p)), *others)


@dataclass(frozen=True)
class SoleBlockers:
    """For each condition: how many potentials failed it and no other (``alone``),
    and how many failed it with at least one other (``among_others``)."""

    alone: dict[str, int]
    among_others: dict[str, int]

    @classmethod
    def empty(cls) -> SoleBlockers:
        return cls({name: 0 for name in CONDITIONS}, {name: 0 for name in CONDITIONS})


def _blocker_columns(flags) -> list[ColumnElement]:
    total = sum((flags.c[f"f_{name}"] for name in CONDITIONS[1:]), flags.c[f"f_{CONDITIONS[0]}"])
    columns = []
    for name in CONDITIONS:
        failed = flags.c[f"f_{name}"] == 1
        columns.append(sa.func.coalesce(sa.func.sum(sa.case((sa.and_(failed, total == 1), 1), else_=0)), 0).label(f"alone_{name}"))
        columns.append(sa.func.coalesce(sa.func.sum(sa.case((sa.and_(failed, total > 1), 1), else_=0)), 0).label(f"among_{name}"))
    return columns


def _flags(run_id: int) -> sa.Subquery:
    p = potentials
    return (
        sa.select(p.c.query_param_id, *(failed_flag(name).label(f"f_{name}") for name in CONDITIONS))
        .where(p.c.run_id == run_id)
        .subquery("flags")
    )


def _as_blockers(row) -> SoleBlockers:
    m = row._mapping
    return SoleBlockers({n: int(m[f"alone_{n}"]) for n in CONDITIONS}, {n: int(m[f"among_{n}"]) for n in CONDITIONS})


def sole_blockers(conn: Connection, run_id: int) -> SoleBlockers:
    """The run's sole blockers, in one pass over its potentials."""
    flags = _flags(run_id)
    return _as_blockers(conn.execute(sa.select(*_blocker_columns(flags))).one())


@dataclass(frozen=True)
class QueryParamBlockers:
    query_param_id: int
    process_order: int
    name: str
    blockers: SoleBlockers


def query_param_blockers(conn: Connection, run_id: int) -> list[QueryParamBlockers]:
    """The sole blockers of each query param of the run (over the potentials it is
    credited with), in process order; a param with no potentials counts zeros."""
    flags = _flags(run_id)
    counted = {
        row.query_param_id: _as_blockers(row)
        for row in conn.execute(sa.select(flags.c.query_param_id, *_blocker_columns(flags)).group_by(flags.c.query_param_id))
    }
    rqp, qp = run_query_params.c, query_params.c
    params = conn.execute(
        sa.select(rqp.query_param_id, rqp.process_order, qp.name)
        .select_from(run_query_params.outerjoin(query_params, qp.id == rqp.query_param_id))
        .where(rqp.run_id == run_id)
        .order_by(rqp.process_order, rqp.id)
    )
    return [
        QueryParamBlockers(row.query_param_id, row.process_order, row.name or f"query param {row.query_param_id}",
                           counted.get(row.query_param_id, SoleBlockers.empty()))
        for row in params
    ]
