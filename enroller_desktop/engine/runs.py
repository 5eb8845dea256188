"""The run lifecycle (being written; see the package docstring for the API)."""

from __future__ import annotations

import threading
from collections.abc import Callable

ProgressCallback = Callable[[float, str], None]


class CancelToken:
    """Set by whoever wants the run to stop; polled by the engine between statements."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
