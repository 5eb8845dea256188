"""The funnel's stages (RULES §3) as predicates over the potentials table.

The one place the funnel rule is written: the engine counts each stage with these
predicates (and decides ``is_valid`` by them), and the run window lists the
potentials of each funnel box and arrow by them, so a count and its list cannot
disagree.

Every predicate here is true or false, never unknown: a check that does not apply
is NULL in the table, and SQL's ``NULL = 1`` is neither true nor false, so that
``NOT (reached)`` would silently drop every potential with a check not
applicable (a campaign without email has ``valid_email`` NULL for everyone). A
check therefore passes when it ``IS NOT DISTINCT FROM`` 1 (``IS 1`` on SQLite).

Readings:

- The seed's flowchart shows Query Param Customers, Potential Customers, Valid
  Potentials and Enrolled; the runs index also counts Potential Events, so the
  funnel shows it between Potential Customers and Valid Potentials. Valid
  Potentials is the index's Eligible, Enrolled its Success.
- A Campaign Simulation enrolls nobody: its Enrolled counts those who would be
  enrolled, the eligible ones (its ``success`` is the eligible count), so nobody
  falls out before it.
- A Criterion Stats run writes no potentials: its Query Param Customers counts
  candidates that were never written, so its funnel lists nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db.enums import PASSED, PotentialStatus, RunPurpose
from enroller_desktop.db.models import EnrollerRunCustomer


class Stage(enum.Enum):
    """A stage of the funnel, in order; ``label`` is the runs index's name for it."""

    QUERY_PARAM_CUSTOMERS = ("query_param_customers", "Query Param Customers")
    POTENTIAL_CUSTOMERS = ("potential_customers", "Potential Customers")
    POTENTIAL_EVENTS = ("potential_events", "Potential Events")
    ELIGIBLE = ("eligible", "Eligible")
    SUCCESS = ("success", "Success")

    def __init__(self, column: str, label: str) -> None:
        self.column = column  # the count column of enroller_runs
        self.label = label

    @property
    def previous(self) -> Stage | None:
        members = list(Stage)
        index = members.index(self)
        return members[index - 1] if index else None


def _passed(column) -> ColumnElement[bool]:
    return column.is_not_distinct_from(PASSED)


def _passed_or_not_applicable(column) -> ColumnElement[bool]:
    return sa.or_(column.is_(None), column == PASSED)


def stage_condition(stage: Stage, potentials=EnrollerRunCustomer.__table__) -> ColumnElement[bool]:
    """True for the potentials that reached ``stage``, false for the others (never
    unknown). ``potentials`` is the table, or anything whose ``c`` names the
    checks as expressions (the engine's INSERT computes them in place)."""
    p = potentials.c
    if stage is Stage.QUERY_PARAM_CUSTOMERS:
        return sa.true()
    if stage is Stage.POTENTIAL_CUSTOMERS:
        return sa.and_(_passed(p.deleted), sa.or_(_passed(p.valid_email), _passed(p.valid_phone), _passed(p.valid_message)))
    if stage is Stage.POTENTIAL_EVENTS:
        return sa.and_(stage_condition(Stage.POTENTIAL_CUSTOMERS, potentials), _passed(p.unique_event), _passed(p.already_in_queue))
    if stage is Stage.ELIGIBLE:
        return sa.and_(
            stage_condition(Stage.POTENTIAL_EVENTS, potentials),
            _passed_or_not_applicable(p.casl),
            _passed(p.opt_out_all),
            _passed(p.marketing_exclusion),
        )
    return p.status.is_not_distinct_from(PotentialStatus.SUCCESS.value)


class FunnelBox(enum.Enum):
    """A box of the summary's flowchart: the stage it counts, the old help page's name for
    it and, when the runs index names it otherwise, the index's name."""

    QUERY_PARAM_CUSTOMERS = (Stage.QUERY_PARAM_CUSTOMERS, "Query Param Customers")
    POTENTIAL_CUSTOMERS = (Stage.POTENTIAL_CUSTOMERS, "Potential Customers")
    POTENTIAL_EVENTS = (Stage.POTENTIAL_EVENTS, "Potential Events")
    VALID_POTENTIALS = (Stage.ELIGIBLE, "Valid Potentials")
    ENROLLED = (Stage.SUCCESS, "Enrolled")

    def __init__(self, stage: Stage, label: str) -> None:
        self.stage = stage
        self.label = label

    @property
    def index_label(self) -> str | None:
        """The runs index's name for this count, when it is not the box's."""
        return None if self.stage.label == self.label else self.stage.label

    @property
    def previous(self) -> FunnelBox | None:
        members = list(FunnelBox)
        index = members.index(self)
        return members[index - 1] if index else None


@dataclass(frozen=True)
class FunnelSlice:
    """The potentials that reached ``box``, or (``fell_out``) those that reached the
    box before it and not ``box``: the arrow into it."""

    box: FunnelBox
    fell_out: bool = False

    @property
    def label(self) -> str:
        if self.fell_out:
            return f"Fell out before {self.box.label}"
        return f"Reached {self.box.label}"


def lists_potentials(purpose: RunPurpose) -> bool:
    """Whether a run of ``purpose`` writes the potentials its funnel counts."""
    return purpose is not RunPurpose.CRITERION_STATS


def box_count(run, box: FunnelBox) -> int | None:
    """The run's count of ``box`` (None: not reached), from its ``enroller_runs`` row."""
    return getattr(run, box.stage.column)


def arrow_count(run, into: FunnelBox) -> int | None:
    """How many fell out before ``into``: the box before it less ``into``."""
    before, after = box_count(run, into.previous), box_count(run, into)
    return None if before is None or after is None else before - after


def _reached(box: FunnelBox, purpose: RunPurpose, potentials) -> ColumnElement[bool]:
    if box is FunnelBox.ENROLLED and purpose is RunPurpose.CAMPAIGN_SIMULATION:
        return stage_condition(Stage.ELIGIBLE, potentials)
    return stage_condition(box.stage, potentials)


def slice_condition(funnel: FunnelSlice, purpose: RunPurpose, potentials=EnrollerRunCustomer.__table__) -> ColumnElement[bool]:
    """True for the potentials of a run of ``purpose`` that the box or arrow
    ``funnel`` counts (see :func:`box_count`, :func:`arrow_count`)."""
    reached = _reached(funnel.box, purpose, potentials)
    if not funnel.fell_out:
        return reached
    previous = funnel.box.previous
    if previous is None:
        return sa.false()
    return sa.and_(_reached(previous, purpose, potentials), sa.not_(reached))
