"""The one way a test waits for what another thread or process does, where no Qt
signal can be awaited (qtbot.waitSignal / waitUntil are for those): poll a
condition, seen only through the database or the process, until it holds.

Beside it, the one wait for a lazy runs index model: read it to the end as
painting would, through qtbot.waitUntil."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], *, timeout: float = 60.0, interval: float = 0.01, what: str = "condition"):
    """Poll ``condition`` until it returns something true; its value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def read_to_the_end(qtbot, model) -> None:
    """Wait until every row of a lazy runs index model is read, asking for each page
    as painting the rows would (what a user scrolling to the bottom gets)."""

    def all_there() -> bool:
        for row in range(model.rowCount()):
            if model.run_at(row) is None:
                model.data(model.index(row, 1))
                return False
        return True

    qtbot.waitUntil(all_there, timeout=20_000)
