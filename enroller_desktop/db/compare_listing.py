"""The potentials whose outcome differs between two runs, as a lazy
:class:`~enroller_desktop.db.detail_queries.Listing` (keyset pages in potential id
order, counted and filtered in SQL), for the Compare window and its export."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from enroller_desktop.db import explain_queries
from enroller_desktop.db.detail_queries import Listing, vehicles


@dataclass(frozen=True)
class DifferenceListing(Listing):
    """``run_id`` is run B (the newer); ``run_a`` the older; ``kind`` a kind of
    change (see :func:`explain_queries.differences`), None for any."""

    run_a: int = 0
    kind: str | None = None

    SORT_KEYS: ClassVar[dict[str, Any]] = {}

    def _differences(self) -> sa.Subquery:
        # Built once per listing: the same subquery object for select, where and count.
        cached = self.__dict__.get("_subquery")
        if cached is None:
            cached = explain_queries.differences(self.run_a, self.run_id, self.kind)
            object.__setattr__(self, "_subquery", cached)
        return cached

    def _select(self) -> sa.Select:
        d = self._differences()
        return sa.select(d, vehicles.c.year, vehicles.c.make, vehicles.c.model).select_from(
            d.outerjoin(vehicles, vehicles.c.id == d.c.vehicle_id))

    def _where(self) -> list[ColumnElement[bool]]:
        return []

    def _id_column(self):
        return self._differences().c.id
