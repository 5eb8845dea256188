"""Retrying a unit of database work that failed for a passing reason.

Transient: SQLite "database is locked" / "busy" (after its busy timeout), and on
PostgreSQL a serialization failure, a deadlock, a lock wait that timed out, or a
dropped connection. Anything else is a real failure and is raised at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 5
FIRST_BACKOFF_S = 0.25

# SQLSTATE classes and codes that a retry can cure.
_PG_TRANSIENT = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"}
_PG_TRANSIENT_CLASSES = ("08",)
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "database is busy")


def is_transient(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    if sqlstate:
        return sqlstate in _PG_TRANSIENT or sqlstate.startswith(_PG_TRANSIENT_CLASSES)
    if isinstance(exc, OperationalError):
        text = str(orig).lower()
        return any(marker in text for marker in _SQLITE_TRANSIENT) or "server closed the connection" in text
    return False


def with_retries(
    work: Callable[[], T],
    *,
    on_attempt: Callable[[int], None] | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``work`` until it succeeds, retrying transient failures with backoff.

    ``on_attempt(n)`` is told of each attempt (1, 2, ...) before it starts, so the
    caller can count attempts in ``query_attempts``.
    """
    attempt = 0
    while True:
        attempt += 1
        if on_attempt is not None:
            on_attempt(attempt)
        try:
            return work()
        except DBAPIError as exc:
            if attempt >= max_attempts or not is_transient(exc):
                raise
            delay = FIRST_BACKOFF_S * 2 ** (attempt - 1)
            log.warning("transient database error (attempt %d of %d), retrying in %.2fs: %s",
                        attempt, max_attempts, delay, str(exc.orig).splitlines()[0] if exc.orig else exc)
            sleep(delay)
