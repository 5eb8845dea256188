"""The potentials whose outcome differs between two runs, as a lazy
:class:`~enroller_desktop.db.detail_queries.Listing` for the Compare window and its
export: sorted in SQL by any of its columns, read in keyset pages, counted from
the comparison's one keyed pass.

The rows are the UNION ALL of two arms (:func:`explain_queries.difference_arms`:
B's potentials that entered or changed, A's that left). A page is one statement
that takes, from each arm, the ``limit`` rows after the page's key in the sort
order, then the first ``limit`` of the two: each arm reads its potentials in the
order of an index (the default order, by potential id) and stops once it has a
page of differences, so the first rows of two runs of a million potentials cost
a page's worth of index probes, not a pass over the runs. A sort by another
column reads each arm once per page and keeps its ``limit`` first rows (a top-N
sort, no temporary table of every row). Only a jump far from any page read (a
scroll-bar drag) and an export read the whole union in order.

Sort keys (readings): names as the run window sorts them (without regard to ASCII
case, empty last); the vehicle as shown ("2019 Honda Civic", no vehicle last);
the change by its word (Became eligible, Checks changed, Entered, Left, Lost
eligibility: the words sort as the titles do); Is Valid in A/B failed, then
passed, then none; Checks Changed by how many compared results changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db import explain_queries
from enroller_desktop.db.detail_queries import Listing, _check_key, _text_key, vehicles


def _vehicle_text(columns: dict[str, ColumnElement]) -> ColumnElement:
    shown = sa.func.trim(sa.func.coalesce(sa.cast(columns["year"], sa.Text), "") + " "
                         + sa.func.coalesce(columns["make"], "") + " " + sa.func.coalesce(columns["model"], ""))
    return sa.case((columns["vehicle_id"].is_(None), sa.null()), else_=sa.func.nullif(shown, ""))


@dataclass(frozen=True)
class DifferenceListing(Listing):
    """``run_id`` is run B (the newer); ``run_a`` the older; ``kind`` a kind of
    change (see :func:`explain_queries.difference_arms`), None for any."""

    run_a: int = 0
    kind: str | None = None

    #: Each sort key, from an arm's columns.
    SORT_KEYS: ClassVar[dict[str, Any]] = {
        "first_name": lambda c: c["first_name"],
        "last_name": lambda c: c["last_name"],
        "vehicle": _vehicle_text,
        "change": lambda c: c["change"],
        "a_is_valid": lambda c: _check_key(c["a_is_valid"]),
        "b_is_valid": lambda c: _check_key(c["b_is_valid"]),
        "checks_changed": lambda c: c["changed_count"],
    }
    TEXT_SORT_KEYS: ClassVar[frozenset[str]] = frozenset({"first_name", "last_name", "vehicle"})

    def _arms(self) -> list[explain_queries.Arm]:
        return explain_queries.difference_arms(self.run_a, self.run_id, self.kind, vehicles=vehicles)

    def _arm_key(self, arm: explain_queries.Arm, dialect: str) -> ColumnElement | None:
        if self.sort is None:
            return None
        key = self.SORT_KEYS[self.sort](arm.columns)
        return _text_key(key, dialect) if self.sort in self.TEXT_SORT_KEYS else key

    def _arm_select(self, arm: explain_queries.Arm, dialect: str, *, descending: bool, key: tuple | None,
                    limit: int | None) -> sa.Select:
        """The arm's rows after ``key`` in the order (``descending`` or not), at most ``limit``."""
        sort_key = self._arm_key(arm, dialect)
        columns = [column.label(name) for name, column in arm.columns.items()]
        order = [arm.ident]
        if sort_key is not None:
            columns.append(sort_key.label("sort_key"))
            order.insert(0, sort_key)
        select = sa.select(*columns).select_from(arm.from_).where(*arm.where)
        if key is not None:
            if sort_key is None:
                select = select.where(arm.ident < key[0] if descending else arm.ident > key[0])
            else:
                left = sa.tuple_(sort_key, arm.ident)
                right = sa.tuple_(sa.literal(key[0], sort_key.type), sa.literal(key[1], arm.ident.type))
                select = select.where(left < right if descending else left > right)
        if limit is None:  # ordered by the union alone
            return select
        return select.order_by(*(column.desc() if descending else column for column in order)).limit(limit)

    def _ordered(self, dialect: str, *, descending: bool, key: tuple | None = None, limit: int | None = None) -> sa.Select:
        """Both arms' rows after ``key``, in order, at most ``limit``: each arm
        limited on its own (a subquery, which both databases keep with its order
        and limit), then the two merged."""
        arms = [self._arm_select(arm, dialect, descending=descending, key=key, limit=limit) for arm in self._arms()]
        if limit is not None:
            arms = [sa.select(arm.subquery()) for arm in arms]
        union = (arms[0] if len(arms) == 1 else sa.union_all(*arms)).subquery("differences")
        order = [union.c.id]
        if self.sort is not None:
            sort_key = union.c.sort_key
            if self.sort in self.TEXT_SORT_KEYS:
                sort_key = sort_key.collate("NOCASE" if dialect == "sqlite" else "C")
            order.insert(0, sort_key)
        select = sa.select(union).order_by(*(column.desc() if descending else column for column in order))
        return select if limit is None else select.limit(limit)

    # -- the Listing's reads

    def query(self, dialect: str) -> sa.Select:
        return self._ordered(dialect, descending=self.descending)

    def count(self, conn: Connection) -> int:
        return explain_queries.code_pairs(conn, self.run_a, self.run_id).count(self.kind)

    def page_after(self, conn: Connection, key: tuple | None, limit: int) -> list[Row]:
        return list(conn.execute(self._ordered(conn.dialect.name, descending=self.descending, key=key, limit=limit)))

    def page_before(self, conn: Connection, key: tuple, limit: int) -> list[Row]:
        rows = list(conn.execute(self._ordered(conn.dialect.name, descending=not self.descending, key=key, limit=limit)))
        rows.reverse()
        return rows

    def page_at(self, conn: Connection, offset: int, limit: int) -> list[Row]:
        if offset <= 0:
            return self.page_after(conn, None, limit)
        ordered = self._ordered(conn.dialect.name, descending=self.descending)
        union = ordered.selected_columns
        keys = [union.id] if self.sort is None else [union.sort_key, union.id]
        before = conn.execute(ordered.with_only_columns(*keys).offset(offset - 1).limit(1)).one_or_none()
        if before is None:
            return []
        return self.page_after(conn, tuple(before), limit)

    def _where(self) -> list[ColumnElement[bool]]:
        return []

    def _id_column(self):
        raise NotImplementedError("a DifferenceListing reads by its arms")

