"""The funnel's stages (SPEC 3) as predicates over the potentials table.

The one place the funnel rule is written: the engine counts each stage with these
predicates, and the run window filters its Potentials by them.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db.enums import PotentialStatus
from enroller_desktop.db.models import EnrollerRunCustomer

PASSED = 1
FAILED = 0


class Stage(enum.Enum):
    """A box of the funnel, in order; ``label`` is the seed's name for it."""

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
    return column == PASSED


def _passed_or_not_applicable(column) -> ColumnElement[bool]:
    return sa.or_(column.is_(None), column == PASSED)


def stage_condition(stage: Stage, potentials=EnrollerRunCustomer.__table__) -> ColumnElement[bool]:
    """True for the potentials that reached ``stage``."""
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
    return p.status == PotentialStatus.SUCCESS.value


def fell_out_before(stage: Stage, potentials=EnrollerRunCustomer.__table__) -> ColumnElement[bool]:
    """True for the potentials that reached the stage before ``stage`` but not ``stage``
    (the arrow into ``stage``)."""
    previous = stage.previous
    if previous is None:
        return sa.false()
    return sa.and_(stage_condition(previous, potentials), sa.not_(stage_condition(stage, potentials)))
