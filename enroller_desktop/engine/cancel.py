"""The cancel token: light enough for the interface to import at start-up."""

from __future__ import annotations

import threading


class CancelToken:
    """Set by whoever wants the work to stop; polled by the worker between statements."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
