"""The first launch (``enroller-desktop --demo-if-empty``, which ``make run`` uses):
the window opens at once and, when its database turns out to be empty, loads the
demo itself, on the thread pool, with the welcome view's progress bar showing.

Only when asked on the command line: a person who opens the program on the
dealership's own (still empty) database must not find demo data put into it.
Only the database the window opened on: one connected to later is never filled.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def load_demo_when_empty(window) -> None:
    """Once the window knows whether its first database is empty, load the demo into it if so."""

    def known(empty: bool) -> None:
        window.emptinessKnown.disconnect(known)
        if empty and not window.welcome.loading:
            log.info("first launch on an empty database: loading the demo")
            window.welcome.load_demo()

    window.emptinessKnown.connect(known)
