"""Consent under CASL (RULES §3): the basis a run relied on, as SQL over the
customers the run reads, and a customer's standing at a given time, in Python.

The CASL check of the funnel and the consent basis a run records are built
here from the same conditions, so that the two cannot disagree: ``casl``
passes exactly when the basis is ``express``, ``implied_purchase`` or
``implied_inquiry``.

Readings (a careful compliance officer's):

- The basis is, in this order: ``withdrawn`` when consent is withdrawn (a
  withdrawal at or before the as-of time not followed by a strictly later
  express consent, itself at or before the as-of time); ``express`` when an
  express consent counts; ``implied_purchase`` or ``implied_inquiry`` when a
  purchase (within 730 days) or an inquiry (within 183 days) counts, the one
  that lasts longer when both do (the purchase on a tie: a purchase is the
  stronger evidence); ``none`` otherwise.
- The evidence is the time the basis rests on: the express consent, the
  withdrawal, the purchase or the inquiry, as stored; ``none`` has none.
- ``consent_lapses_on`` is the first UTC date on which the implied consent no
  longer holds on what the run saw: the purchase's UTC date + 731 days, the
  inquiry's + 184 days (a run on the date before still passes CASL on the same
  evidence). Express consent does not lapse: empty. A withdrawal or an express
  consent dated after the run's as-of time is not evidence the run saw, so it
  moves no lapse date.
- A time that cannot be read as one (text another system wrote into a SQLite
  timestamp column) fails closed: a withdrawal at such a time counts as made,
  and an express consent at such a time neither counts nor undoes a withdrawal.
  "Never" written as 9999-12-31 23:59:59.999999 is a time like any other.
"""

from __future__ import annotations

import datetime as dt
import enum
import operator
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.engine.sqlite_time import whole_seconds

CASL_PURCHASE_DAYS = 730
CASL_INQUIRY_DAYS = 183

PASSED, FAILED = 1, 0


class ConsentBasis(str, enum.Enum):
    EXPRESS = "express"
    IMPLIED_PURCHASE = "implied_purchase"
    IMPLIED_INQUIRY = "implied_inquiry"
    WITHDRAWN = "withdrawn"
    NONE = "none"

    @property
    def label(self) -> str:
        return BASIS_LABELS[self]

    @property
    def consents(self) -> bool:
        """The basis lets a message be sent (the CASL check passes)."""
        return self in CONSENTING


BASIS_LABELS = {
    ConsentBasis.EXPRESS: "Express",
    ConsentBasis.IMPLIED_PURCHASE: "Implied (purchase)",
    ConsentBasis.IMPLIED_INQUIRY: "Implied (inquiry)",
    ConsentBasis.WITHDRAWN: "Withdrawn",
    ConsentBasis.NONE: "None",
}
CONSENTING = frozenset({ConsentBasis.EXPRESS, ConsentBasis.IMPLIED_PURCHASE, ConsentBasis.IMPLIED_INQUIRY})

#: ``compare(left, op, right)``: timestamps compared exactly on the dialect (:func:`~enroller_desktop.engine.sql_time.compare_moments`).
Compare = Callable[..., ColumnElement[bool]]


def utc_date_plus(column, days: int, dialect: str) -> ColumnElement[dt.date]:
    """The UTC date of a timestamp column, plus ``days`` (as SQL)."""
    if dialect == "sqlite":
        return sa.func.date(whole_seconds(column), f"+{days} days", type_=sa.Date)
    return sa.cast(column, sa.Date) + days


@dataclass(frozen=True)
class Standing:
    """The conditions of RULES §3's CASL check for customers ``c`` at one as-of time."""

    c: object
    express: ColumnElement[bool]
    withdrawn: ColumnElement[bool]
    purchase: ColumnElement[bool]
    inquiry: ColumnElement[bool]
    purchase_lapses_on: ColumnElement
    inquiry_lapses_on: ColumnElement
    dialect: str = ""

    def check(self) -> ColumnElement[int]:
        """The CASL check's result (1 passed, 0 failed)."""
        return sa.case((self.withdrawn, FAILED), (sa.or_(self.express, self.purchase, self.inquiry), PASSED), else_=FAILED)

    def basis_columns(self) -> dict[str, ColumnElement]:
        """``consent_basis``, ``consent_evidence_at`` and ``consent_lapses_on`` as expressions."""
        c = self.c.c
        purchase_lasts = self._purchase_lasts()
        cases = (
            (self.withdrawn, ConsentBasis.WITHDRAWN, c.casl_withdrawn_at, None),
            (self.express, ConsentBasis.EXPRESS, c.casl_express_consent_at, None),
            (purchase_lasts, ConsentBasis.IMPLIED_PURCHASE, c.last_purchase_at, self.purchase_lapses_on),
            (self.inquiry, ConsentBasis.IMPLIED_INQUIRY, c.last_inquiry_at, self.inquiry_lapses_on),
        )

        def pick(values, else_):
            return sa.case(*((when, value) for when, value in values), else_=else_)

        return {
            "consent_basis": pick([(when, sa.literal(basis.value)) for when, basis, _, _ in cases], sa.literal(ConsentBasis.NONE.value)),
            "consent_evidence_at": pick([(when, evidence) for when, _, evidence, _ in cases], sa.null()),
            "consent_lapses_on": pick([(when, sa.null() if lapse is None else lapse) for when, _, _, lapse in cases], sa.null()),
        }


    def recorded_columns(self) -> dict[str, ColumnElement]:
        """What a run's candidate INSERT records, for :func:`published` to turn
        into the potentials' three columns when the candidates are copied there.

        SQLite computes an expression once per use: every CASE over the
        conditions re-evaluates their exact time comparisons row by row, and the
        three columns of :meth:`basis_columns` cost three times the CASL check.
        So on SQLite the basis and its evidence are one CASE, recorded as one
        text (``express|2024-11-27 00:00:00.000000``: a basis word, ``|``, the
        evidence's stored text), split when published; on PostgreSQL, whose
        comparisons are native, the two CASEs. Either way the lapse date is
        worked out when published, from the basis and evidence alone."""
        if self.dialect != "sqlite":
            return {**self.basis_columns(), "consent_lapses_on": sa.null()}
        c = self.c.c
        cases = (
            (self.withdrawn, ConsentBasis.WITHDRAWN, c.casl_withdrawn_at),
            (self.express, ConsentBasis.EXPRESS, c.casl_express_consent_at),
            (self._purchase_lasts(), ConsentBasis.IMPLIED_PURCHASE, c.last_purchase_at),
            (self.inquiry, ConsentBasis.IMPLIED_INQUIRY, c.last_inquiry_at),
        )
        joined = sa.case(*((when, sa.literal(basis.value + SEPARATOR, sa.Text).op("||", return_type=sa.Text)(evidence))
                           for when, basis, evidence in cases),
                         else_=sa.literal(ConsentBasis.NONE.value, sa.Text))
        return {"consent_basis": joined, "consent_evidence_at": sa.null(), "consent_lapses_on": sa.null()}

    def _purchase_lasts(self) -> ColumnElement[bool]:
        """The purchase gives implied consent and lasts at least as long as the inquiry's."""
        return sa.and_(self.purchase, sa.or_(~self.inquiry, self.purchase_lapses_on >= self.inquiry_lapses_on))


#: Between a basis word and its evidence in what a candidate records on SQLite.
SEPARATOR = "|"


def published(basis, evidence, dialect: str) -> dict[str, ColumnElement]:
    """The potentials' ``consent_basis``, ``consent_evidence_at`` and
    ``consent_lapses_on`` from a candidate's recorded ``basis`` and ``evidence``
    columns (:meth:`Standing.recorded_columns`): on SQLite the basis word and the
    evidence's text split apart; the lapse date the purchase's UTC date + 731 days,
    the inquiry's + 184 days, NULL otherwise — what :meth:`Standing.basis_columns`
    gives for the same row."""
    def lapses(word, date_of_evidence) -> ColumnElement[dt.date]:
        return sa.case(
            (word(ConsentBasis.IMPLIED_PURCHASE), utc_date_plus(date_of_evidence(ConsentBasis.IMPLIED_PURCHASE), CASL_PURCHASE_DAYS + 1, dialect)),
            (word(ConsentBasis.IMPLIED_INQUIRY), utc_date_plus(date_of_evidence(ConsentBasis.IMPLIED_INQUIRY), CASL_INQUIRY_DAYS + 1, dialect)),
            else_=sa.null(),
        )

    if dialect != "sqlite":
        return {"consent_basis": basis, "consent_evidence_at": evidence,
                "consent_lapses_on": lapses(lambda b: basis == b.value, lambda b: evidence)}
    at = sa.func.instr(basis, SEPARATOR)

    def prefixed(b: ConsentBasis) -> ColumnElement[bool]:
        return sa.func.substr(basis, 1, len(b.value) + 1, type_=sa.Text) == b.value + SEPARATOR

    def text_after(b: ConsentBasis):
        return sa.func.substr(basis, len(b.value) + 2, type_=sa.Text)

    return {
        "consent_basis": sa.case((at > 0, sa.func.substr(basis, 1, at - 1, type_=sa.Text)), else_=basis),
        "consent_evidence_at": sa.case((at > 0, sa.func.substr(basis, at + 1, type_=sa.Text)), else_=sa.null()),
        "consent_lapses_on": lapses(prefixed, text_after),
    }


NOT_APPLICABLE = {"consent_basis": sa.null(), "consent_evidence_at": sa.null(), "consent_lapses_on": sa.null()}


def implied_since(as_of: dt.datetime, days: int) -> dt.datetime:
    """The earliest purchase or inquiry time that counts for a run at ``as_of``
    (the start of the UTC day ``days`` before the as-of date)."""
    as_of_date = as_of.astimezone(dt.timezone.utc).date()
    return dt.datetime.combine(as_of_date - dt.timedelta(days=days), dt.time.min, tzinfo=dt.timezone.utc)


#: The times :func:`standing` compares with, by the names it gives ``bind``.
TIMES = {"as_of": lambda as_of: as_of,
         "casl_purchase_since": lambda as_of: implied_since(as_of, CASL_PURCHASE_DAYS),
         "casl_inquiry_since": lambda as_of: implied_since(as_of, CASL_INQUIRY_DAYS)}


def standing(c, as_of: dt.datetime, dialect: str, compare: Compare,
             bind: Callable[[str, dt.datetime], object] | None = None) -> Standing:
    """The CASL conditions of customers ``c`` for a run at ``as_of`` (RULES §3's boundaries).

    ``bind(name, time)``, when given, is what ``compare`` receives for each time of
    :data:`TIMES` instead of the Python time (the funnel binds them by name, so
    that its statements are kept from run to run)."""
    def time(name: str):
        value = TIMES[name](as_of)
        return bind(name, value) if bind is not None else value

    at = time("as_of")
    express_at, withdrawn_at = c.c.casl_express_consent_at, c.c.casl_withdrawn_at
    express = sa.and_(express_at.is_not(None), compare(express_at, operator.le, at))
    # Fail closed where a time cannot be read (text another system wrote on
    # SQLite that is no time at all: its comparison is unknown, NULL): such a
    # withdrawal counts as made, and such an express consent never undoes one.
    withdrawn = sa.and_(
        withdrawn_at.is_not(None),
        sa.func.coalesce(compare(withdrawn_at, operator.le, at), sa.true(), type_=sa.Boolean),
        sa.not_(sa.func.coalesce(sa.and_(express, compare(express_at, operator.gt, withdrawn_at)), sa.false(),
                                 type_=sa.Boolean)),
    )

    def within(column, since: str) -> ColumnElement[bool]:
        return sa.and_(column.is_not(None), compare(column, operator.ge, time(since)), compare(column, operator.le, at))

    return Standing(
        c,
        express=express,
        withdrawn=withdrawn,
        purchase=within(c.c.last_purchase_at, "casl_purchase_since"),
        inquiry=within(c.c.last_inquiry_at, "casl_inquiry_since"),
        purchase_lapses_on=utc_date_plus(c.c.last_purchase_at, CASL_PURCHASE_DAYS + 1, dialect),
        inquiry_lapses_on=utc_date_plus(c.c.last_inquiry_at, CASL_INQUIRY_DAYS + 1, dialect),
        dialect=dialect,
    )
