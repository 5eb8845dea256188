"""Queries that explain decisions across a run: what each check alone holds back.

Plain SQLAlchemy Core, no Qt; the engine's stage predicates (:mod:`db.stages`)
decide what "passed" means, so these counts agree with the funnel.

Readings (a careful compliance officer's):

- The seven *conditions* of eligibility are the checks as the funnel reads them:
  the three channel checks count as one condition, ``channels``, passed when at
  least one channel passed (RULES §3, Potential Customers); a CASL that does not
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
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db.enums import PASSED
from enroller_desktop.db.models import EnrollerRunCustomer, EnrollerRunQueryParam, QueryParam
from enroller_desktop.errors import UserError

potentials = EnrollerRunCustomer.__table__
run_query_params = EnrollerRunQueryParam.__table__
query_params = QueryParam.__table__

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


# -- comparing two runs ------------------------------------------------------------
#
# A potential is identified by (customer, vehicle or none); a run holds at most one
# potential per identity (a candidate matching several params is credited once).
# Run A is the older run. Every count is one set-based statement over the two runs'
# potentials, joined on the identity through the (run_id, customer_id) index.

CHECK_COLUMNS = ("valid_email", "valid_phone", "valid_message", "deleted", "unique_event", "already_in_queue",
                 "casl", "opt_out_all", "marketing_exclusion")
#: The compared results: the nine checks and Is Valid (eligible).
COMPARED = (*CHECK_COLUMNS, "is_valid")
#: A check result as a word: 1 passed, 0 failed, NULL not applicable.
RESULT_WORDS = {1: "passed", 0: "failed", None: "na"}
TRANSITIONS = tuple(f"{a}_to_{b}" for a in RESULT_WORDS.values() for b in RESULT_WORDS.values() if a != b)


class RunsNotComparable(UserError):
    pass


def _vehicle_key(column) -> ColumnElement:
    return sa.func.coalesce(column, sa.literal_column("0"))


def _same_identity(a, b) -> ColumnElement[bool]:
    return sa.and_(a.c.customer_id == b.c.customer_id, _vehicle_key(a.c.vehicle_id) == _vehicle_key(b.c.vehicle_id))


def _result(column, name: str) -> ColumnElement:
    """A compared result as 1, 0 or NULL (Is Valid is a boolean)."""
    if name == "is_valid":
        return sa.case((column == sa.true(), 1), (column == sa.false(), 0), else_=sa.null())
    return column


def _differs(a, b, name: str) -> ColumnElement[bool]:
    left, right = _result(a.c[name], name), _result(b.c[name], name)
    return sa.or_(sa.and_(left.is_(None), right.is_not(None)), sa.and_(left.is_not(None), right.is_(None)), left != right)


def run_pair(conn: Connection, first: int, second: int) -> tuple[Row, Row]:
    """The two runs, older first (by creation time, then id); refuses runs of two
    campaigns. Raises ``RunNotFound`` for an unknown id."""
    from enroller_desktop.db.detail_queries import run_summary

    one, two = run_summary(conn, first), run_summary(conn, second)
    if one.campaign_id != two.campaign_id:
        raise RunsNotComparable(
            f"Runs {one.id} and {two.id} are of different campaigns ({one.campaign_name}, {two.campaign_name}): "
            "only runs of one campaign can be compared")
    return (one, two) if (one.created_at, one.id) <= (two.created_at, two.id) else (two, one)


@dataclass(frozen=True)
class Comparison:
    run_a: int
    run_b: int
    entered: int
    left: int
    became_eligible: int
    lost_eligibility: int
    checks: dict[str, dict[str, int]]  # compared result -> transition -> count

    def as_dict(self) -> dict:
        return {"run_a": self.run_a, "run_b": self.run_b, "entered": self.entered, "left": self.left,
                "became_eligible": self.became_eligible, "lost_eligibility": self.lost_eligibility, "checks": self.checks}


def compare_runs(conn: Connection, run_a: int, run_b: int) -> Comparison:
    """What changed from run ``run_a`` (the older) to run ``run_b``.

    The potentials in both runs are grouped by their results in A and in B (a
    few hundred combinations at most), and the transitions counted from the
    groups: one pass over the join, cheaper than a CASE per transition per row."""
    a, b = potentials.alias("a"), potentials.alias("b")
    pairs = [column for name in COMPARED for column in (_result(a.c[name], name), _result(b.c[name], name))]
    grouped = (
        sa.select(*pairs, sa.func.count())
        .select_from(b.join(a, sa.and_(a.c.run_id == run_a, _same_identity(a, b))))
        .where(b.c.run_id == run_b)
        .group_by(*pairs)
    )
    checks = {name: {t: 0 for t in TRANSITIONS} for name in COMPARED}
    became = lost = both = 0
    for row in conn.execute(grouped):
        count = row[-1]
        both += count
        for index, name in enumerate(COMPARED):
            before, after = row[2 * index], row[2 * index + 1]
            if before != after:
                checks[name][f"{RESULT_WORDS[before]}_to_{RESULT_WORDS[after]}"] += count
                if name == "is_valid" and before is not None and after is not None:
                    became += count if after else 0
                    lost += count if before else 0
    # One potential per identity in a run: those not in both entered or left.
    sizes = dict(conn.execute(sa.select(potentials.c.run_id, sa.func.count())
                              .where(potentials.c.run_id.in_([run_a, run_b])).group_by(potentials.c.run_id)).all())
    return Comparison(run_a=run_a, run_b=run_b, entered=sizes.get(run_b, 0) - both, left=sizes.get(run_a, 0) - both,
                      became_eligible=became, lost_eligibility=lost, checks=checks)


#: The kinds of change the differences list filters by (None: any).
CHANGE_KINDS = ("entered", "left", "became_eligible", "lost_eligibility", "checks_changed")


def differences(run_a: int, run_b: int, kind: str | None = None) -> sa.Subquery:
    """One row per potential whose outcome differs between the runs: entered, left,
    or in both with Is Valid or a check changed. ``kind`` is one of
    :data:`CHANGE_KINDS`, or ``changed:CHECK`` (that check changed), or None.

    ``id`` is the potential's id in B (in A for one that left): ids are unique
    across runs, so it orders and pages the rows. Columns ``a_X``/``b_X`` hold each
    compared result in A and in B (NULL on the side it is missing from)."""
    a, b = potentials.alias("a"), potentials.alias("b")
    any_change = sa.or_(*(_differs(a, b, name) for name in COMPARED))

    def side_columns(present, absent_in_a: bool):
        columns = []
        for name in COMPARED:
            columns.append((sa.null() if absent_in_a else _result(a.c[name], name)).label(f"a_{name}"))
            columns.append((_result(b.c[name], name) if present is b else sa.null()).label(f"b_{name}"))
        return columns

    in_b = sa.case((a.c.id.is_(None), "entered"),
                   (sa.and_(a.c.is_valid == sa.false(), b.c.is_valid == sa.true()), "became_eligible"),
                   (sa.and_(a.c.is_valid == sa.true(), b.c.is_valid == sa.false()), "lost_eligibility"),
                   else_="checks_changed")
    from_b = (
        sa.select(b.c.id, b.c.customer_id, b.c.vehicle_id, b.c.first_name, b.c.last_name, in_b.label("change"),
                  *side_columns(b, False))
        .select_from(b.outerjoin(a, sa.and_(a.c.run_id == run_a, _same_identity(a, b))))
        .where(b.c.run_id == run_b)
    )
    q = potentials.alias("q")
    from_a = (
        sa.select(a.c.id, a.c.customer_id, a.c.vehicle_id, a.c.first_name, a.c.last_name, sa.literal("left").label("change"),
                  *(column for name in COMPARED for column in (_result(a.c[name], name).label(f"a_{name}"), sa.null().label(f"b_{name}"))))
        .where(a.c.run_id == run_a, ~sa.exists().where(q.c.run_id == run_b, _same_identity(a, q)))
    )
    selects = []
    if kind in (None, "left"):
        selects.append(from_a)
    if kind != "left":
        if kind is None:
            selects.append(from_b.where(sa.or_(a.c.id.is_(None), any_change)))
        elif kind == "entered":
            selects.append(from_b.where(a.c.id.is_(None)))
        elif kind == "became_eligible":
            selects.append(from_b.where(a.c.is_valid == sa.false(), b.c.is_valid == sa.true()))
        elif kind == "lost_eligibility":
            selects.append(from_b.where(a.c.is_valid == sa.true(), b.c.is_valid == sa.false()))
        elif kind == "checks_changed":
            selects.append(from_b.where(a.c.id.is_not(None), any_change))
        elif kind.startswith("changed:") and kind.removeprefix("changed:") in COMPARED:
            selects.append(from_b.where(a.c.id.is_not(None), _differs(a, b, kind.removeprefix("changed:"))))
        else:
            raise ValueError(f"unknown kind of change {kind!r}")
    union = selects[0] if len(selects) == 1 else sa.union_all(*selects)
    return union.subquery("differences")
