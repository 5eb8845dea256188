"""The one way a test waits for what another thread or process does, where no Qt
signal can be awaited (qtbot.waitSignal / waitUntil are for those): poll a
condition, seen only through the database or the process, until it holds."""

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
