"""Short database reads for a widget, off the interface thread.

A widget hands a function (it receives the :class:`~enroller_desktop.ui.jobs.JobState`)
and what to do with its result; :class:`Tasks` keeps each job alive until its
``finished`` arrives, and drops the results of a widget already gone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThreadPool

from enroller_desktop.ui.jobs import Job, JobState, start


class Tasks(QObject):
    def __init__(self, parent: QObject, *, threads: int = 2) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._jobs: set[Job] = set()

    def run(
        self,
        fn: Callable[[JobState], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[str], None] | None = None,
        *,
        name: str = "query",
    ) -> Job:
        job = Job(fn, name=name)
        self._jobs.add(job)
        # A result may arrive after the widget that asked is gone (a dialog closed
        # while its count ran): it is dropped rather than handed to a deleted widget.
        job.signals.succeeded.connect(lambda result: self._alive() and on_success(result))
        if on_failure is not None:
            job.signals.failed.connect(lambda message, _details: self._alive() and on_failure(message))
        job.signals.finished.connect(lambda: self._jobs.discard(job))
        return start(job, self.pool)

    def _alive(self) -> bool:
        """Whether this object and the widget it works for still exist."""
        return shiboken6.isValid(self) and shiboken6.isValid(self.parent())

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def wait(self) -> None:
        self.pool.waitForDone()
