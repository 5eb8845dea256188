"""The Potentials tab's Check filter: "Failed …" choices that say how many.

Each choice shows how many of the run's potentials failed that check under the
tab's other filters (status, funnel, name): the rows choosing it would show. The
counts come from one SQL aggregate on the thread pool, recounted each time the
other filters change; an answer that arrives after a newer question is dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox

from enroller_desktop.db import detail_queries
from enroller_desktop.db.detail_queries import PotentialListing
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import Check
from enroller_desktop.ui.jobs import Job, keep_until_finished, start


class CheckFilter(QComboBox):
    counted = Signal()  # the choices show the counts of the latest filter

    def __init__(self, titles: dict[Check, str], more: Sequence[tuple[str, str]] = (), parent=None) -> None:
        """``titles``: the checks to count; ``more``: (text, data) choices after
        them that are not counted (the "Failed only" conditions)."""
        super().__init__(parent)
        self._titles = titles
        self.addItem("Any checks", None)
        for check, title in titles.items():
            self.addItem(f"Failed {title}", check)
        for text, data in more:
            self.addItem(text, data)
        self._asked: PotentialListing | None = None
        self.counts: dict[Check, int] | None = None

    def recount(self, db: Database, listing: PotentialListing, *, again: bool = False) -> None:
        """Count the choices for ``listing`` (its own failed check is ignored);
        ``again``: even if they were counted for it (the run is still writing)."""
        question = dataclasses.replace(listing, filter=dataclasses.replace(listing.filter, failed_check=None, failed_only=None),
                                       sort=None)
        if question == self._asked and not again:
            return
        self._asked = question

        def count(state, db=db, question=question):
            with db.read() as conn:
                return question, detail_queries.failed_check_counts(conn, question)

        job = Job(count, name="check filter counts")
        keep_until_finished(job)
        job.signals.succeeded.connect(self._show_counts)
        start(job)

    def _show_counts(self, answer) -> None:
        question, counts = answer
        if question != self._asked:
            return
        self.counts = counts
        for index, check in enumerate(self._titles, start=1):
            self.setItemText(index, f"Failed {self._titles[check]} ({counts[check]:,})")
        self.counted.emit()
