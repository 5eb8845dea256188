"""Long work off the interface thread: a QRunnable with a QObject signal carrier.

A job's function receives a :class:`JobState`: it reports progress (throttled, so
a fast loop does not flood the event loop), and polls ``state.cancelled`` between
batches. Signals cross to the interface thread through queued connections;
``finished`` is always emitted, whatever happened.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from enroller_desktop.engine.cancel import CancelToken
from enroller_desktop.errors import one_line

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1


class JobSignals(QObject):
    progress = Signal(float, str)  # fraction 0..1, message
    succeeded = Signal(object)  # the function's return value
    failed = Signal(str, str)  # one-line message, details
    finished = Signal()  # after succeeded or failed, always


class JobState:
    """What a running job sees: a progress reporter and the cancel token."""

    def __init__(self, signals: JobSignals, token: CancelToken) -> None:
        self._signals = signals
        self.token = token
        self._last = 0.0

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def progress(self, fraction: float, message: str = "") -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self._signals.progress.emit(float(fraction), message)


class Job(QRunnable):
    """Runs ``fn(state)`` on a thread pool; results come back as signals."""

    def __init__(self, fn: Callable[[JobState], Any], *, name: str = "job") -> None:
        super().__init__()
        self.setAutoDelete(False)  # the owner keeps it while its signals are connected
        self.name = name
        self.signals = JobSignals()
        self.token = CancelToken()
        self._fn = fn

    def cancel(self) -> None:
        self.token.cancel()

    def run(self) -> None:  # on a pool thread
        state = JobState(self.signals, self.token)
        try:
            result = self._fn(state)
        except Exception as exc:  # noqa: BLE001 - every failure reaches the user as a message
            log.exception("job %s failed", self.name)
            message = one_line(exc)
            self.signals.failed.emit(message, traceback.format_exc())
        else:
            self.signals.succeeded.emit(result)
        finally:
            self.signals.finished.emit()


def start(job: Job, pool: QThreadPool | None = None) -> Job:
    (pool or QThreadPool.globalInstance()).start(job)
    return job


_running: set[Job] = set()


def keep_until_finished(job: Job) -> None:
    """Hold a job until it has finished, even if the window that started it closes
    first: the pool runs it with auto-delete off, so Python must keep it alive."""
    _running.add(job)
    job.signals.finished.connect(lambda: _running.discard(job))
