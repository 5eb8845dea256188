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

from enroller_desktop.db.enums import PASSED, RunStatus
from enroller_desktop.db.models import EnrollerRun, EnrollerRunCustomer, EnrollerRunQueryParam, QueryParam
from enroller_desktop.errors import UserError

potentials = EnrollerRunCustomer.__table__
runs = EnrollerRun.__table__
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
# Run A is the older run.
#
# Each potential's ten compared results are read as one integer, its *code*: a
# base-3 digit per result (0 not applicable, 1 failed, 2 passed). Two potentials
# of one identity differ exactly when their codes do, and the pair of codes says
# every transition. So the counts are keyed passes over one join: B's potentials
# in index order, each joined to A's of the same identity through the
# (customer_id, run_id) index (SQLite) or a hash join (PostgreSQL); the joined
# rows counted, and those whose results differ grouped by the pair of codes (a
# few hundred pairs at most); entered and left are the runs' sizes less the
# potentials in both (counted over the run_id index alone).

CHECK_COLUMNS = ("valid_email", "valid_phone", "valid_message", "deleted", "unique_event", "already_in_queue",
                 "casl", "opt_out_all", "marketing_exclusion")
#: The compared results: the nine checks and Is Valid (eligible).
COMPARED = (*CHECK_COLUMNS, "is_valid")
#: A check result as a word: 1 passed, 0 failed, NULL not applicable.
RESULT_WORDS = {1: "passed", 0: "failed", None: "na"}
TRANSITIONS = tuple(f"{a}_to_{b}" for a in RESULT_WORDS.values() for b in RESULT_WORDS.values() if a != b)
#: A code's digit back to its result.
_DIGIT_RESULT = (None, 0, 1)


class RunsNotComparable(UserError):
    pass


def _vehicle_key(column) -> ColumnElement:
    return sa.func.coalesce(column, sa.literal_column("0"))


def same_identity(a, b) -> ColumnElement[bool]:
    """Potentials ``a`` and ``b`` (aliases of the potentials) are of one customer and one vehicle (or none)."""
    return sa.and_(a.c.customer_id == b.c.customer_id, _vehicle_key(a.c.vehicle_id) == _vehicle_key(b.c.vehicle_id))


def result(column, name: str) -> ColumnElement:
    """A compared result as 1, 0 or NULL (Is Valid is a boolean)."""
    if name == "is_valid":
        return sa.case((column == sa.true(), 1), (column == sa.false(), 0), else_=sa.null())
    return column


def code(p) -> ColumnElement[int]:
    """The potential's compared results as one integer (see the section's comment)."""
    total = None
    for index, name in enumerate(COMPARED):
        value = sa.cast(p.c[name], sa.Integer) if name == "is_valid" else p.c[name]
        digit = sa.func.coalesce(value + 1, 0) * (3 ** index)
        total = digit if total is None else total + digit
    return total


def decode(value: int) -> tuple:
    """The compared results (1, 0 or None, in :data:`COMPARED` order) of a :func:`code`."""
    results = []
    for _name in COMPARED:
        value, digit = divmod(value, 3)
        results.append(_DIGIT_RESULT[digit])
    return tuple(results)


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


def previous_run(conn: Connection, run_id: int) -> int | None:
    """The run that "what changed since the last run?" compares ``run_id`` with:
    the newest earlier run (by creation time, then id) of the same campaign and
    the same purpose that completed, so that its potentials are whole. A Default
    run is compared with the Default run before it, not with a simulation; a run
    that ended in error or was canceled is passed over. None when there is none.
    Raises ``RunNotFound`` for an unknown id."""
    from enroller_desktop.db.detail_queries import RunNotFound

    this = conn.execute(sa.select(runs.c.campaign_id, runs.c.purpose, runs.c.created_at)
                        .where(runs.c.id == run_id)).one_or_none()
    if this is None:
        raise RunNotFound(run_id)
    earlier = sa.or_(runs.c.created_at < this.created_at,
                     sa.and_(runs.c.created_at == this.created_at, runs.c.id < run_id))
    return conn.scalar(sa.select(runs.c.id)
                       .where(runs.c.campaign_id == this.campaign_id, runs.c.purpose == this.purpose,
                              runs.c.status == RunStatus.COMPLETED, earlier)
                       .order_by(runs.c.created_at.desc(), runs.c.id.desc()).limit(1))


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


@dataclass(frozen=True)
class CodePairs:
    """The potentials of two runs counted by identity: ``changed`` maps each pair
    of different codes (A's, B's) to how many potentials in both runs have it;
    ``both`` counts every potential in both; ``size_a``/``size_b`` each run's."""

    run_a: int
    run_b: int
    changed: dict[tuple[int, int], int]
    both: int
    size_a: int
    size_b: int

    def decoded(self) -> list[tuple[tuple, tuple, int]]:
        return [(decode(a), decode(b), n) for (a, b), n in self.changed.items()]

    def count(self, kind: str | None) -> int:
        """How many potentials :func:`difference_arms` lists for ``kind``."""
        if kind == "entered":
            return self.size_b - self.both
        if kind == "left":
            return self.size_a - self.both
        changed = self.decoded()
        valid = COMPARED.index("is_valid")
        if kind is None:
            return self.size_a + self.size_b - 2 * self.both + sum(n for _a, _b, n in changed)
        if kind == "checks_changed":
            return sum(n for _a, _b, n in changed)
        if kind == "became_eligible":
            return sum(n for a, b, n in changed if a[valid] == 0 and b[valid] == 1)
        if kind == "lost_eligibility":
            return sum(n for a, b, n in changed if a[valid] == 1 and b[valid] == 0)
        if kind.startswith("changed:") and kind.removeprefix("changed:") in COMPARED:
            index = COMPARED.index(kind.removeprefix("changed:"))
            return sum(n for a, b, n in changed if a[index] != b[index])
        raise ValueError(f"unknown kind of change {kind!r}")


def unchanged(a, b) -> ColumnElement[bool]:
    """Potentials ``a`` and ``b`` have the same ten results (NULL the same as NULL)."""
    return sa.and_(*(a.c[name].is_not_distinct_from(b.c[name]) for name in COMPARED))


def code_pairs(conn: Connection, run_a: int, run_b: int) -> CodePairs:
    """The two runs' potentials counted by identity (see the section's comment):
    the potentials in both counted by the join alone, and those of them that
    changed grouped by their pair of codes, the codes computed for those only
    (grouping every joined row cost half as much again on SQLite)."""
    a, b = potentials.alias("a"), potentials.alias("b")
    joined = b.join(a, sa.and_(a.c.run_id == run_a, same_identity(a, b)))
    both = conn.execute(sa.select(sa.func.count()).select_from(joined).where(b.c.run_id == run_b)).scalar_one()
    changed = (
        sa.select(code(a).label("code_a"), code(b).label("code_b"))
        .select_from(joined)
        .where(b.c.run_id == run_b, ~unchanged(a, b))
        .subquery("changed")
    )
    grouped = sa.select(changed.c.code_a, changed.c.code_b, sa.func.count()).group_by(changed.c.code_a, changed.c.code_b)
    pairs = {(code_a, code_b): count for code_a, code_b, count in conn.execute(grouped)}
    sizes = dict(conn.execute(sa.select(potentials.c.run_id, sa.func.count())
                              .where(potentials.c.run_id.in_([run_a, run_b])).group_by(potentials.c.run_id)).all())
    return CodePairs(run_a, run_b, pairs, both, sizes.get(run_a, 0), sizes.get(run_b, 0))


def compare_runs(conn: Connection, run_a: int, run_b: int) -> Comparison:
    """What changed from run ``run_a`` (the older) to run ``run_b``."""
    pairs = code_pairs(conn, run_a, run_b)
    checks = {name: {t: 0 for t in TRANSITIONS} for name in COMPARED}
    became = lost = 0
    for before_all, after_all, count in pairs.decoded():
        for name, before, after in zip(COMPARED, before_all, after_all):
            if before != after:
                checks[name][f"{RESULT_WORDS[before]}_to_{RESULT_WORDS[after]}"] += count
                if name == "is_valid" and before is not None and after is not None:
                    became += count if after else 0
                    lost += count if before else 0
    return Comparison(run_a=run_a, run_b=run_b, entered=pairs.count("entered"), left=pairs.count("left"),
                      became_eligible=became, lost_eligibility=lost, checks=checks)


#: The kinds of change the differences list filters by (None: any).
CHANGE_KINDS = ("entered", "left", "became_eligible", "lost_eligibility", "checks_changed")


@dataclass(frozen=True)
class Arm:
    """One half of the differences: its columns by name, the tables they are read
    from, its conditions, and the potential id that orders and pages it."""

    columns: dict[str, ColumnElement]
    from_: sa.FromClause
    where: list[ColumnElement[bool]]
    ident: ColumnElement


def difference_arms(run_a: int, run_b: int, kind: str | None = None, *, vehicles: sa.Table) -> list[Arm]:
    """The potentials whose outcome differs between the runs, as the arms of a
    UNION ALL: B's potentials that entered or changed (B's first, so its typed
    columns name the union's), and A's that left. ``kind`` is one of
    :data:`CHANGE_KINDS`, or ``changed:CHECK`` (that compared result changed), or
    None (any change).

    ``id`` is the potential's id in B (in A for one that left): ids are unique
    across runs, so it orders and pages the rows. Columns ``a_X``/``b_X`` hold each
    compared result in A and in B (NULL on the side it is missing from);
    ``changed_count`` how many of them changed (0 for one that entered or left)."""
    a, b = potentials.alias("a"), potentials.alias("b")
    arms = []
    if kind != "left":
        missing = a.c.id.is_(None)
        change = sa.case((missing, "entered"),
                         (sa.and_(a.c.is_valid == sa.false(), b.c.is_valid == sa.true()), "became_eligible"),
                         (sa.and_(a.c.is_valid == sa.true(), b.c.is_valid == sa.false()), "lost_eligibility"),
                         else_="checks_changed")
        changed_count = sa.case((missing, 0), else_=sum(
            (sa.case((result(a.c[name], name).is_distinct_from(result(b.c[name], name)), 1), else_=0) for name in COMPARED[1:]),
            sa.case((result(a.c[COMPARED[0]], COMPARED[0]).is_distinct_from(result(b.c[COMPARED[0]], COMPARED[0])), 1), else_=0)))
        columns = _common(b, vehicles) | {"change": change, "changed_count": changed_count}
        for name in COMPARED:
            columns[f"a_{name}"] = result(a.c[name], name)
            columns[f"b_{name}"] = result(b.c[name], name)
        any_change = ~unchanged(a, b)
        condition = {
            None: sa.or_(missing, any_change),
            "entered": missing,
            "became_eligible": sa.and_(a.c.is_valid == sa.false(), b.c.is_valid == sa.true()),
            "lost_eligibility": sa.and_(a.c.is_valid == sa.true(), b.c.is_valid == sa.false()),
            "checks_changed": sa.and_(~missing, any_change),
        }.get(kind)
        if condition is None:
            name = (kind or "").removeprefix("changed:")
            if not (kind or "").startswith("changed:") or name not in COMPARED:
                raise ValueError(f"unknown kind of change {kind!r}")
            condition = sa.and_(~missing, result(a.c[name], name).is_distinct_from(result(b.c[name], name)))
        from_ = b.outerjoin(a, sa.and_(a.c.run_id == run_a, same_identity(a, b))).outerjoin(vehicles, vehicles.c.id == b.c.vehicle_id)
        arms.append(Arm(columns, from_, [b.c.run_id == run_b, condition], b.c.id))
    if kind in (None, "left"):
        q = potentials.alias("q")
        columns = _common(a, vehicles) | {"change": sa.literal("left", sa.Text), "changed_count": sa.literal(0, sa.Integer)}
        for name in COMPARED:
            columns[f"a_{name}"] = result(a.c[name], name)
            # Cast: PostgreSQL types a bare NULL of a limited subquery as text.
            columns[f"b_{name}"] = sa.cast(sa.null(), sa.Integer if name == "is_valid" else potentials.c[name].type)
        from_ = a.outerjoin(vehicles, vehicles.c.id == a.c.vehicle_id)
        where = [a.c.run_id == run_a, ~sa.exists().where(q.c.run_id == run_b, same_identity(a, q))]
        arms.append(Arm(columns, from_, where, a.c.id))
    return arms


def _common(p, vehicles: sa.Table) -> dict[str, ColumnElement]:
    return {"id": p.c.id, "customer_id": p.c.customer_id, "vehicle_id": p.c.vehicle_id, "first_name": p.c.first_name,
            "last_name": p.c.last_name, "year": vehicles.c.year, "make": vehicles.c.make, "model": vehicles.c.model}
