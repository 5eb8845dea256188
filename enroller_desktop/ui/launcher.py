"""The runs a window executes: those launched from it and every due scheduled run
of its database, on a thread pool of its own, at most ``max_concurrent`` at once.

A window open on a database is one more worker of it: on a timer it claims the
next due scheduled run exactly as ``worker`` does (:func:`engine.worker.claim_next_due`,
a conditional update only one client wins), so several windows and workers share
the due runs and none executes one twice. A run scheduled from a window that was
closed is executed by the next window opened on the database, or by a worker.

Canceling says what happened to each run, in the words of its last status: a run
this window was executing stops at once (its token), and its status is read back
after the stop rather than guessed, so "canceled" is never reported as a failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.errors import UserError
from enroller_desktop.ui.jobs import Job, JobState, start


@dataclass(frozen=True)
class CancelResult:
    run_id: int
    status: RunStatus  # the run's status after the cancel was asked (in progress: asked to stop)
    ended_before: bool = False  # it had finished before the cancel reached it

    @property
    def message(self) -> str:
        if self.status is RunStatus.CANCELED and not self.ended_before:
            return f"Run {self.run_id} canceled"
        if self.status is RunStatus.IN_PROGRESS:
            return f"Run {self.run_id} asked to stop: it stops at its next step"
        return f"Run {self.run_id} had already ended ({self.status.label}): nothing to cancel"


class _Claims(QObject):
    claimed = Signal(object, int)  # the job, the run it claimed


class RunLauncher(QObject):
    """Executes runs for a window; emits what its table needs to show."""

    progressed = Signal(int, float)  # run id, fraction done
    runFinished = Signal(int)  # run id; its row should be read again
    runFailed = Signal(int, str)  # run id, one-line message
    canceled = Signal(list)  # [CancelResult], once per cancel asked
    failed = Signal(str)  # the database did not answer

    def __init__(self, db: Database, parent: QObject | None = None, *, max_concurrent: int = 2,
                 due_interval_ms: int = 2_000) -> None:
        super().__init__(parent)
        self.db = db
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(1, max_concurrent))
        self.executing: dict[int, Job] = {}  # run id -> its job, once claimed or asked for
        self._jobs: set[Job] = set()  # every run's job until its finished arrives
        self._cancels: set[Job] = set()
        # Cancels have a thread of their own: the run pool may be full of the very runs to cancel.
        self._cancel_pool = QThreadPool(self)
        self._cancel_pool.setMaxThreadCount(1)
        self._looking = False  # a claim of the next due run is on its way
        self.backlog = None  # the scheduled runs left when nothing was due, last looked
        self._claims = _Claims(self)
        self._claims.claimed.connect(self._claimed)
        self.due_timer = QTimer(self, interval=due_interval_ms)
        self.due_timer.timeout.connect(self.launch_due)

    # -- executing --------------------------------------------------------------

    def start(self) -> None:
        """Begin executing due runs (at once, then on the timer)."""
        self.due_timer.start()
        self.launch_due()

    @property
    def busy(self) -> bool:
        return bool(self._jobs or self._cancels)

    def execute(self, run_id: int) -> Job:
        """Execute the scheduled run ``run_id`` now (it waits for a free slot). A run
        another client claimed first is not an error here: it is being executed."""
        from enroller_desktop.engine import runs

        db = self.db

        def execute(state: JobState):
            if not runs.claim(db, run_id):
                return None
            return runs.execute_claimed(db, run_id, progress=state.progress, cancel=state.token)

        job = self._job(execute, f"run {run_id}")
        self.executing[run_id] = job
        job.signals.progress.connect(lambda fraction, _m: self.progressed.emit(run_id, fraction))
        return start(job, self.pool)

    def launch_due(self) -> None:
        """Claim and execute the next due scheduled run of the database, if a slot is
        free; as each ends the next is looked for, so a backlog drains at once."""
        if not self.due_timer.isActive() or self._looking or len(self._jobs) >= self.pool.maxThreadCount():
            return
        from enroller_desktop.engine import runs, worker

        db, claims = self.db, self._claims
        job: Job

        def claim_and_execute(state: JobState):
            run_id = worker.claim_next_due(db)
            if run_id is None:
                return worker.backlog(db)
            claims.claimed.emit(job, run_id)
            return runs.execute_claimed(db, run_id, progress=state.progress, cancel=state.token)

        job = self._job(claim_and_execute, "next due run")
        self._looking = True
        job.signals.succeeded.connect(self._note_backlog)
        job.signals.failed.connect(lambda message, _d: self.failed.emit(message))
        start(job, self.pool)

    def _note_backlog(self, result) -> None:
        from enroller_desktop.engine.worker import Backlog

        if isinstance(result, Backlog):
            self.backlog = result

    def _claimed(self, job: Job, run_id: int) -> None:
        self._looking = False
        self.executing[run_id] = job
        job.signals.progress.connect(lambda fraction, _m: self.progressed.emit(run_id, fraction))
        self.launch_due()

    def _job(self, fn, name: str) -> Job:
        job = Job(fn, name=name)
        self._jobs.add(job)
        job.signals.failed.connect(lambda message, _d: self._job_failed(job, message))
        job.signals.finished.connect(lambda: self._job_finished(job))
        return job

    def _run_of(self, job: Job) -> int | None:
        return next((run_id for run_id, j in self.executing.items() if j is job), None)

    def _job_failed(self, job: Job, message: str) -> None:
        run_id = self._run_of(job)
        if run_id is not None:
            self.runFailed.emit(run_id, message)

    def _job_finished(self, job: Job) -> None:
        self._jobs.discard(job)
        run_id = self._run_of(job)
        if run_id is None:
            self._looking = False  # nothing was due (or the database did not answer)
            return
        del self.executing[run_id]
        self.runFinished.emit(run_id)
        self.launch_due()

    # -- canceling --------------------------------------------------------------

    def cancel(self, run_ids: list[int]) -> None:
        """Cancel each run: one waiting or executing here stops at once; any other
        is canceled (scheduled) or asked to stop (in progress elsewhere)."""
        from enroller_desktop.engine import runs

        db = self.db
        stopped_here = {run_id: job for run_id in run_ids if (job := self.executing.get(run_id)) is not None}
        for job in stopped_here.values():
            job.cancel()

        def cancel(_state: JobState) -> list[CancelResult]:
            results = []
            for run_id in run_ids:
                ended_before = False
                try:
                    status = runs.cancel_run(db, run_id)
                except UserError:
                    # Finished: most often because the token stopped it here first.
                    # Its status, read now, says what really happened.
                    status = runs.status_of(db, run_id)
                    ended_before = not (run_id in stopped_here and status is RunStatus.CANCELED)
                results.append(CancelResult(run_id, status, ended_before))
            return results

        job = Job(cancel, name="cancel runs")
        self._cancels.add(job)
        job.signals.finished.connect(lambda: self._cancels.discard(job))
        job.signals.succeeded.connect(self.canceled.emit)
        job.signals.failed.connect(lambda message, _d: self.failed.emit(message))
        start(job, self._cancel_pool)

    # -- lifetime ---------------------------------------------------------------

    def set_database(self, db: Database) -> None:
        """Due runs are looked for on ``db`` from now on; runs executing keep the
        database they started on."""
        self.db = db
        self._looking = False
        self.backlog = None

    def shutdown(self, *, cancel: bool) -> None:
        """Stop looking for due runs; with ``cancel``, stop the runs executing here.
        Waits for every job to end."""
        self.due_timer.stop()
        if cancel:
            for job in self.executing.values():
                job.cancel()
        self.pool.waitForDone()
        self._cancel_pool.waitForDone()
