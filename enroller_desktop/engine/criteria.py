"""The criteria of query params (RULES §4): parse and validate, compile to SQL,
evaluate in plain Python, describe in words.

A criterion is JSON::

    {"all": [criterion, ...]} | {"any": [criterion, ...]} | {"not": criterion}
    | {"field": FIELD, "op": OP, "value": VALUE}

:func:`parse` turns the text into an immutable tree of :class:`All`, :class:`Any`,
:class:`Not` and :class:`Condition`, or raises :class:`CriterionError` naming the
fault and where it is (``all[1].value: 'between' needs a two-item list [low, high]``).
:func:`compile_criterion` turns the tree into one SQL boolean over the customer
and vehicle rows of the funnel; :func:`evaluate` is the same rule in plain Python,
the reference the SQL is tested against.

Readings of RULES §4 that this module takes, where the text leaves room:

- Validation is strict. A node is a JSON object with exactly the keys of its form;
  any other key, or a key given twice, is a fault. ``true`` and ``false`` are not
  numbers; ``NaN`` and ``Infinity`` are not JSON.
- A day op's N is a JSON integer: ``5.0`` is a fault, as is ``true``.
- A date is written exactly ``YYYY-MM-DD`` and must exist (no 2024-02-30, no time).
- Text values must be text a database can hold: no NUL character and no unpaired
  surrogate (PostgreSQL refuses both, so such a value could never compare).
- A criterion nested deeper than :data:`MAX_DEPTH` levels is refused rather than
  risk the interpreter's or the database's expression-depth limits.
- Three-valued logic as in SQL: a comparison with an empty (NULL) field is unknown,
  ``all`` is AND, ``any`` is OR, ``not`` of unknown is unknown, and unknown at the
  top is no match. ``is_null``/``not_null`` and ``has_tag`` are never unknown.
- Text compares with ASCII letters folded to lower case and nothing else folded,
  then by Unicode code point; tags compare exactly.
- Numbers compare exactly, whatever their JSON spelling (``2020`` = ``2020.0``).
- Relative days whose bound falls outside the calendar (an N of a billion days)
  mean "no bound": ``within_last_days`` is then "on or before the as-of date",
  and ``older_than_days`` is false for every date.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import math
import operator
import re
from dataclasses import dataclass
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db.folding import ascii_case_key, fold_ascii
from enroller_desktop.engine.sqlite_time import whole_seconds

#: How deeply all/any/not may nest.
MAX_DEPTH = 50


class CriterionError(ValueError):
    """An invalid criterion or event key. The message names the fault and where
    it is in the JSON, in one line."""


class Kind(enum.Enum):
    """What a field holds, which decides its ops and the type of its values."""

    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    TIMESTAMP = "timestamp"  # compared by its UTC date
    TAGS = "tags"

    @property
    def is_date(self) -> bool:
        return self in (Kind.DATE, Kind.TIMESTAMP)


@dataclass(frozen=True)
class Field:
    """A field a criterion may name: ``table.column`` with its kind and its words."""

    name: str
    kind: Kind
    label: str

    @property
    def table(self) -> str:
        return self.name.partition(".")[0]

    @property
    def column(self) -> str:
        return self.name.partition(".")[2]


FIELDS: dict[str, Field] = {
    field.name: field
    for field in (
        Field("customer.first_name", Kind.TEXT, "customer first name"),
        Field("customer.last_name", Kind.TEXT, "customer last name"),
        Field("customer.email", Kind.TEXT, "customer email"),
        Field("customer.created_at", Kind.TIMESTAMP, "customer creation date"),
        Field("customer.last_purchase_at", Kind.TIMESTAMP, "customer last purchase date"),
        Field("customer.last_inquiry_at", Kind.TIMESTAMP, "customer last inquiry date"),
        Field("customer.tags", Kind.TAGS, "customer tags"),
        Field("vehicle.vin", Kind.TEXT, "vehicle VIN"),
        Field("vehicle.year", Kind.NUMBER, "vehicle year"),
        Field("vehicle.make", Kind.TEXT, "vehicle make"),
        Field("vehicle.model", Kind.TEXT, "vehicle model"),
        Field("vehicle.odometer", Kind.NUMBER, "vehicle odometer"),
        Field("vehicle.purchase_date", Kind.DATE, "vehicle purchase date"),
        Field("vehicle.lease_end_date", Kind.DATE, "vehicle lease end date"),
        Field("vehicle.last_service_date", Kind.DATE, "vehicle last service date"),
        Field("vehicle.warranty_end_date", Kind.DATE, "vehicle warranty end date"),
    )
}


class Op(enum.Enum):
    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    BETWEEN = "between"
    IN = "in"
    NOT_IN = "not_in"
    IS_NULL = "is_null"
    NOT_NULL = "not_null"
    WITHIN_LAST_DAYS = "within_last_days"
    OLDER_THAN_DAYS = "older_than_days"
    WITHIN_NEXT_DAYS = "within_next_days"
    HAS_TAG = "has_tag"


COMPARISONS = {Op.EQ: operator.eq, Op.NE: operator.ne, Op.LT: operator.lt, Op.LE: operator.le, Op.GT: operator.gt, Op.GE: operator.ge}
LIST_OPS = (Op.IN, Op.NOT_IN)
NULL_OPS = (Op.IS_NULL, Op.NOT_NULL)
DAY_OPS = (Op.WITHIN_LAST_DAYS, Op.OLDER_THAN_DAYS, Op.WITHIN_NEXT_DAYS)

Scalar = str | int | float | dt.date


@dataclass(frozen=True)
class Condition:
    """``field op value``. ``value`` is None for is_null/not_null, a tuple for
    between/in/not_in, an int of days for the day ops, the tag for has_tag."""

    field: Field
    op: Op
    value: Scalar | tuple[Scalar, ...] | None = None


@dataclass(frozen=True)
class All:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Any:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = All | Any | Not | Condition


# --- parsing and validation -------------------------------------------------------

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class _JsonObject(dict):
    """A JSON object that remembers the keys it was given more than once
    (``json`` would silently keep the last)."""

    duplicates: tuple[str, ...] = ()

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, object]]) -> _JsonObject:
        obj = cls(pairs)
        if len(obj) != len(pairs):
            keys = [key for key, _ in pairs]
            obj.duplicates = tuple(key for key in obj if keys.count(key) > 1)
        return obj


def _not_json(constant: str):
    raise CriterionError(f"criterion: not valid JSON ({constant} is not a JSON number)")


def parse(text: str) -> Node:
    """The criterion in ``text``, validated; :class:`CriterionError` if it is not
    valid JSON or not a valid criterion (RULES §4)."""
    if not isinstance(text, str) or not text.strip():
        raise CriterionError("criterion: empty; expected a JSON object")
    try:
        document = json.loads(text, object_pairs_hook=_JsonObject.from_pairs, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise CriterionError(f"criterion: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise CriterionError(f"criterion: nested deeper than {MAX_DEPTH} levels") from None
    return _node(document, "", 0)


def _at(path: str, key: str) -> str:
    """Where ``key`` of the object at ``path`` is, as in ``all[1].value``; a key
    that is not a plain name is quoted, so the message stays one line."""
    if not key.isidentifier():
        key = _shown(key)
    return f"{path}.{key}" if path else key


def _shown(value: object) -> str:
    """A JSON value as it was written, on one line, cut short for a message."""
    text = json.dumps(value, ensure_ascii=False)
    if not text.isprintable():
        text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _node(document: object, path: str, depth: int) -> Node:
    where = path or "criterion"
    if depth > MAX_DEPTH:
        raise CriterionError(f"criterion: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(document, dict):
        raise CriterionError(f"{where}: expected a JSON object (a criterion), got {_shown(document)}")
    if isinstance(document, _JsonObject) and document.duplicates:
        raise CriterionError(f"{_at(path, document.duplicates[0])}: key given twice")
    for key, form in (("all", All), ("any", Any)):
        if key in document:
            _only_keys(document, path, key)
            items = document[key]
            here = _at(path, key)
            if not isinstance(items, list) or not items:
                raise CriterionError(f"{here}: '{key}' needs a non-empty list of criteria, got {_shown(items)}")
            return form(tuple(_node(item, f"{here}[{i}]", depth + 1) for i, item in enumerate(items)))
    if "not" in document:
        _only_keys(document, path, "not")
        return Not(_node(document["not"], _at(path, "not"), depth + 1))
    if "field" in document or "op" in document or "value" in document:
        return _condition(document, path)
    if document:
        raise CriterionError(f"{_at(path, next(iter(document)))}: unknown key; expected 'all', 'any', 'not' or 'field', 'op', 'value'")
    raise CriterionError(f"{where}: empty object; expected 'all', 'any', 'not' or 'field', 'op', 'value'")


def _only_keys(document: dict, path: str, form: str) -> None:
    for key in document:
        if key != form:
            raise CriterionError(f"{_at(path, key)}: unexpected key beside '{form}'")


def _condition(document: dict, path: str) -> Condition:
    for key in document:
        if key not in ("field", "op", "value"):
            raise CriterionError(f"{_at(path, key)}: unexpected key in a condition (expected 'field', 'op', 'value')")
    if "field" not in document:
        raise CriterionError(f"{_at(path, 'field')}: missing")
    name = document["field"]
    field = FIELDS.get(name) if isinstance(name, str) else None
    if field is None:
        raise CriterionError(f"{_at(path, 'field')}: unknown field {_shown(name)}")
    if "op" not in document:
        raise CriterionError(f"{_at(path, 'op')}: missing")
    op = _op(document["op"], field, _at(path, "op"))
    value_at = _at(path, "value")
    if op in NULL_OPS:
        if "value" in document:
            raise CriterionError(f"{value_at}: '{op.value}' takes no value")
        return Condition(field, op)
    if "value" not in document:
        raise CriterionError(f"{value_at}: missing; '{op.value}' needs a value")
    return Condition(field, op, _value(document["value"], field, op, value_at))


def _op(name: object, field: Field, where: str) -> Op:
    try:
        op = Op(name) if isinstance(name, str) else None
    except ValueError:
        op = None
    if op is None:
        raise CriterionError(f"{where}: unknown op {_shown(name)}")
    if op is Op.HAS_TAG and field.kind is not Kind.TAGS:
        raise CriterionError(f"{where}: 'has_tag' applies only to customer.tags, not {field.name}")
    if field.kind is Kind.TAGS and op is not Op.HAS_TAG:
        raise CriterionError(f"{where}: customer.tags takes only 'has_tag', not '{op.value}'")
    if op in DAY_OPS and not field.kind.is_date:
        raise CriterionError(f"{where}: '{op.value}' needs a date field; {field.name} is {field.kind.value}")
    return op


def _value(raw: object, field: Field, op: Op, where: str):
    if op in DAY_OPS:
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise CriterionError(f"{where}: '{op.value}' needs a whole number of days >= 0 (a JSON integer), got {_shown(raw)}")
        return raw
    if op is Op.HAS_TAG:
        if not isinstance(raw, str):
            raise CriterionError(f"{where}: 'has_tag' needs a tag as text, got {_shown(raw)}")
        return _text(raw, where)
    if op is Op.BETWEEN:
        if not isinstance(raw, list) or len(raw) != 2:
            raise CriterionError(f"{where}: 'between' needs a two-item list [low, high], got {_shown(raw)}")
        return tuple(_scalar(item, field, f"{where}[{i}]") for i, item in enumerate(raw))
    if op in LIST_OPS:
        if not isinstance(raw, list) or not raw:
            raise CriterionError(f"{where}: '{op.value}' needs a non-empty list, got {_shown(raw)}")
        return tuple(_scalar(item, field, f"{where}[{i}]") for i, item in enumerate(raw))
    return _scalar(raw, field, where)


def _scalar(raw: object, field: Field, where: str) -> Scalar:
    if field.kind is Kind.TEXT:
        if not isinstance(raw, str):
            raise CriterionError(f"{where}: {field.name} compares with text, got {_shown(raw)}")
        return _text(raw, where)
    if field.kind is Kind.NUMBER:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise CriterionError(f"{where}: {field.name} compares with a number, got {_shown(raw)}")
        return raw
    if not isinstance(raw, str) or not _DATE.fullmatch(raw):
        raise CriterionError(f"{where}: {field.name} compares with a date 'YYYY-MM-DD', got {_shown(raw)}")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise CriterionError(f"{where}: {_shown(raw)} is not a real date") from None


def _text(raw: str, where: str) -> str:
    if "\x00" in raw:
        raise CriterionError(f"{where}: text cannot hold the NUL character")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        raise CriterionError(f"{where}: text holds an unpaired surrogate (\\ud800-\\udfff)") from None
    return raw


def validate_event_key(field: str | None) -> str | None:
    """The event key field of a query param, or None when it has none ('' or NULL).
    Any field of RULES §4 but ``customer.tags`` may key an event."""
    if field is None or field == "":
        return None
    if not isinstance(field, str) or field not in FIELDS:
        raise CriterionError(f"event_key: unknown field {_shown(field)}")
    if FIELDS[field].kind is Kind.TAGS:
        raise CriterionError("event_key: customer.tags cannot key an event")
    return field


# --- text, numbers and dates as both sides compare them ----------------------------

_INT64 = range(-(2**63), 2**63)


def _shift(day: dt.date, days: int) -> dt.date | None:
    """``day`` moved by ``days``, or None when that leaves the calendar."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return None


def _utc_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.date()
    return value


# --- SQL ---------------------------------------------------------------------------

DIALECTS = ("sqlite", "postgresql")


def compile_criterion(node: Node, *, customer, vehicle, customer_tags, as_of: dt.date, dialect: str) -> ColumnElement[bool]:
    """``node`` as a SQL boolean over ``customer`` and ``vehicle`` (tables or
    aliases; all vehicle columns NULL for a customer with no vehicle), with
    ``customer_tags`` for has_tag (a subquery correlated with ``customer``, which
    must therefore be in the enclosing query's FROM). Relative days count from
    ``as_of``; every value and bound is a typed bind parameter.

    Text comparisons fold ASCII case only and order by code point: on SQLite
    through the NOCASE collation (which folds exactly A-Z, whatever ICU the
    library was built with, unlike ``lower()``); on PostgreSQL through
    ``translate`` (``lower()`` there folds all of Unicode) under ``COLLATE "C"``
    (byte order of UTF-8, which is code point order).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unsupported dialect {dialect!r}")
    return _SqlCriterion(customer, vehicle, customer_tags, as_of, dialect).expression(node)


@dataclass(frozen=True)
class _SqlCriterion:
    customer: sa.FromClause
    vehicle: sa.FromClause
    customer_tags: sa.FromClause
    as_of: dt.date
    dialect: str

    def expression(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, All):
            return sa.and_(*(self.expression(child) for child in node.children))
        if isinstance(node, Any):
            tags = [child.value for child in node.children if _is_has_tag(child)]
            others = [self.expression(child) for child in node.children if not _is_has_tag(child)]
            if len(tags) > 1:
                # One probe of the customer's tags for all of them, not one a tag:
                # has_tag is never unknown, so the OR of the probes is this one.
                return sa.or_(self.has_any_tag(tags), *others)
            return sa.or_(*(self.expression(child) for child in node.children))
        if isinstance(node, Not):
            return sa.not_(self.expression(node.child))
        return self.condition(node)

    def column(self, field: Field) -> ColumnElement:
        table = self.customer if field.table == "customer" else self.vehicle
        return table.c[field.column]

    def compared(self, field: Field) -> ColumnElement:
        """The field as comparisons see it: text folded, timestamps as dates."""
        column = self.column(field)
        if field.kind is Kind.TEXT:
            return ascii_case_key(column, self.dialect)
        if field.kind is Kind.TIMESTAMP:
            if self.dialect == "sqlite":
                # Its date to the microsecond: date() alone rounds 23:59:59.9997 up to the next day.
                return sa.func.date(whole_seconds(column), type_=sa.Date)
            return sa.cast(column, sa.Date)
        return column

    def condition(self, node: Condition) -> ColumnElement[bool]:
        field, op, value = node.field, node.op, node.value
        if op is Op.HAS_TAG:
            return self.has_any_tag([value])
        if op is Op.IS_NULL:
            return self.column(field).is_(None)
        if op is Op.NOT_NULL:
            return self.column(field).is_not(None)
        subject = self.compared(field)
        if op in COMPARISONS:
            return COMPARISONS[op](subject, _param(field, value))
        if op is Op.BETWEEN:
            low, high = value
            return subject.between(_param(field, low), _param(field, high))
        if op in LIST_OPS:
            items = [_param(field, item) for item in value]
            return subject.in_(items) if op is Op.IN else subject.not_in(items)
        return self.days(subject, op, value)

    def has_any_tag(self, tags: list[str]) -> ColumnElement[bool]:
        """The customer has one of ``tags`` (exactly, with case)."""
        t = self.customer_tags.alias()
        values = [sa.literal(tag, sa.Text) for tag in dict.fromkeys(tags)]
        match = t.c.tag == values[0] if len(values) == 1 else t.c.tag.in_(values)
        return sa.exists().where(t.c.customer_id == self.customer.c.id, match)

    def days(self, subject: ColumnElement, op: Op, days: int) -> ColumnElement[bool]:
        as_of = _day_param(0, self.as_of)
        if op is Op.WITHIN_LAST_DAYS:
            low = _shift(self.as_of, -days)
            return subject <= as_of if low is None else subject.between(_day_param(-days, low), as_of)
        if op is Op.WITHIN_NEXT_DAYS:
            high = _shift(self.as_of, days)
            return subject >= as_of if high is None else subject.between(as_of, _day_param(days, high))
        bound = _shift(self.as_of, -days)
        if bound is None:
            # No date is older than the calendar; an empty field stays unknown.
            return sa.case((subject.is_(None), sa.null()), else_=sa.false())
        return subject < _day_param(-days, bound)


def _day_name(offset: int) -> str:
    return "criterion_as_of" if offset == 0 else f"criterion_as_of_{'minus' if offset < 0 else 'plus'}_{abs(offset)}"


def _day_param(offset: int, day: dt.date) -> ColumnElement:
    """``day`` (the as-of date moved by ``offset`` days) as a bind parameter named
    by its offset, so that a statement compiled for one as-of date is executed for
    another with :func:`day_params` (the funnel keeps its statements)."""
    return sa.bindparam(_day_name(offset), day, type_=sa.Date)


def day_params(node: Node, as_of: dt.date) -> dict[str, dt.date]:
    """The values of the relative-day bounds :func:`compile_criterion` names in
    ``node`` for ``as_of``. A bound outside the calendar has none (its SQL has no
    bound), so equal key sets mean equal SQL."""
    params: dict[str, dt.date] = {}
    if isinstance(node, (All, Any)):
        for child in node.children:
            params.update(day_params(child, as_of))
    elif isinstance(node, Not):
        params.update(day_params(node.child, as_of))
    elif node.op in DAY_OPS:
        if node.op is not Op.OLDER_THAN_DAYS:
            params[_day_name(0)] = as_of
        offset = node.value if node.op is Op.WITHIN_NEXT_DAYS else -node.value
        bound = _shift(as_of, offset)
        if bound is not None:
            params[_day_name(offset)] = bound
    return params


def _is_has_tag(node: Node) -> bool:
    return isinstance(node, Condition) and node.op is Op.HAS_TAG


def _param(field: Field, value: Scalar) -> ColumnElement:
    """A bind parameter typed for ``field``, so that each database compares it as
    the field's kind, and text already folded like the column."""
    if field.kind is Kind.TEXT:
        return sa.literal(fold_ascii(value), sa.Text)
    if field.kind.is_date:
        return sa.literal(value, sa.Date)
    if isinstance(value, int):
        if value in _INT64:
            return sa.literal(value, sa.BigInteger)
        # Beyond any integer a database column holds: every stored value
        # compares with it as with an infinity of the same sign.
        return sa.literal(math.copysign(math.inf, value), sa.Float)
    if value.is_integer() and int(value) in _INT64:
        return sa.literal(int(value), sa.BigInteger)
    return sa.literal(value, sa.Float)


def event_key_sql(field: str | None, *, customer, vehicle, dialect: str) -> ColumnElement[str]:
    """The candidate's event key as text (RULES §4): the ISO date of a date or
    timestamp field (a timestamp's UTC date), the digits of a whole number, the
    stored text of a text field; '' without an event key or for a NULL value."""
    name = validate_event_key(field)
    if dialect not in DIALECTS:
        raise ValueError(f"unsupported dialect {dialect!r}")
    if name is None:
        return sa.literal("", sa.Text)
    spec = FIELDS[name]
    column = (customer if spec.table == "customer" else vehicle).c[spec.column]
    if spec.kind is Kind.NUMBER:
        text = sa.cast(column, sa.Text)
    elif spec.kind.is_date and dialect == "postgresql":
        # to_char, not a cast: a cast's output follows the session's DateStyle.
        text = sa.func.to_char(column, "YYYY-MM-DD")
    elif spec.kind is Kind.TIMESTAMP:
        # Its UTC date to the microsecond: date() alone rounds 23:59:59.9997 up to the next day.
        text = sa.func.date(whole_seconds(column))
    else:
        text = column
    return sa.func.coalesce(text, "", type_=sa.Text)


# --- plain Python --------------------------------------------------------------------


def evaluate(node: Node, customer: dict, vehicle: dict | None, tags: set[str], as_of: dt.date) -> bool | None:
    """``node`` for one candidate, in three-valued logic (None = unknown): the
    reference :func:`compile_criterion` is tested against. ``customer`` and
    ``vehicle`` map column names to values (dates, datetimes, ints, text);
    ``vehicle`` is None for a customer without one."""
    if isinstance(node, All):
        results = [evaluate(child, customer, vehicle, tags, as_of) for child in node.children]
        return False if any(r is False for r in results) else None if any(r is None for r in results) else True
    if isinstance(node, Any):
        results = [evaluate(child, customer, vehicle, tags, as_of) for child in node.children]
        return True if any(r is True for r in results) else None if any(r is None for r in results) else False
    if isinstance(node, Not):
        result = evaluate(node.child, customer, vehicle, tags, as_of)
        return None if result is None else not result
    return _evaluate_condition(node, customer, vehicle, tags, as_of)


def _evaluate_condition(node: Condition, customer: dict, vehicle: dict | None, tags: set[str], as_of: dt.date) -> bool | None:
    field, op, value = node.field, node.op, node.value
    if op is Op.HAS_TAG:
        return value in tags
    row = customer if field.table == "customer" else (vehicle or {})
    stored = row.get(field.column)
    if op in NULL_OPS:
        return (stored is None) == (op is Op.IS_NULL)
    if stored is None:
        return None
    subject = _comparable(field, stored)
    if op in COMPARISONS:
        return COMPARISONS[op](subject, _comparable(field, value))
    if op is Op.BETWEEN:
        low, high = (_comparable(field, item) for item in value)
        return low <= subject <= high
    if op in LIST_OPS:
        found = subject in {_comparable(field, item) for item in value}
        return found if op is Op.IN else not found
    if op is Op.WITHIN_LAST_DAYS:
        low = _shift(as_of, -value)
        return (low is None or low <= subject) and subject <= as_of
    if op is Op.WITHIN_NEXT_DAYS:
        high = _shift(as_of, value)
        return as_of <= subject and (high is None or subject <= high)
    bound = _shift(as_of, -value)
    return bound is not None and subject < bound


def _comparable(field: Field, value):
    if field.kind is Kind.TEXT:
        return fold_ascii(value)
    if field.kind.is_date:
        return _utc_date(value)
    return value


# --- words -----------------------------------------------------------------------------

_PHRASES = {
    Kind.TEXT: {Op.LT: "comes before", Op.LE: "is or comes before", Op.GT: "comes after", Op.GE: "is or comes after"},
    Kind.NUMBER: {Op.LT: "is less than", Op.LE: "is at most", Op.GT: "is greater than", Op.GE: "is at least"},
    Kind.DATE: {Op.LT: "is before", Op.LE: "is on or before", Op.GT: "is after", Op.GE: "is on or after"},
}


def describe(node: Node) -> str:
    """The criterion in words for the Query Params tab, e.g. ``Vehicle lease end
    date within the next 90 days and not (customer has tag "fleet")``."""
    words = _words(node)
    return words[:1].upper() + words[1:]


def _words(node: Node) -> str:
    if isinstance(node, (All, Any)):
        joiner = " and " if isinstance(node, All) else " or "
        return joiner.join(f"({_words(child)})" if isinstance(child, (All, Any)) and len(child.children) > 1 else _words(child) for child in node.children)
    if isinstance(node, Not):
        return f"not ({_words(node.child)})"
    field, op, value = node.field, node.op, node.value
    if op is Op.HAS_TAG:
        return f"customer has tag {_shown_value(value)}"
    if op in NULL_OPS:
        return f"{field.label} {'is empty' if op is Op.IS_NULL else 'is not empty'}"
    if op in DAY_OPS:
        days = f"{value} day{'' if value == 1 else 's'}"
        phrase = {Op.WITHIN_LAST_DAYS: f"within the last {days}", Op.OLDER_THAN_DAYS: f"more than {days} ago", Op.WITHIN_NEXT_DAYS: f"within the next {days}"}[op]
        return f"{field.label} {phrase}"
    if op is Op.BETWEEN:
        return f"{field.label} is between {_shown_value(value[0])} and {_shown_value(value[1])}"
    if op in LIST_OPS:
        items = ", ".join(_shown_value(item) for item in value)
        return f"{field.label} {'is one of' if op is Op.IN else 'is none of'} {items}"
    if op in (Op.EQ, Op.NE):
        return f"{field.label} {'is' if op is Op.EQ else 'is not'} {_shown_value(value)}"
    kind = Kind.DATE if field.kind.is_date else field.kind
    return f"{field.label} {_PHRASES[kind][op]} {_shown_value(value)}"


def _shown_value(value: Scalar) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False)
