"""Child processes that never outlive the process that started them.

Contact values are judged in a pool of spawned processes (``engine.contacts``) and a
large export writes its second half in another (``export``). When their parent is
killed outright (SIGKILL from a user, the out-of-memory killer, a crash), nothing in
``multiprocessing`` ends them: a pool worker waits on its task queue forever, since
it holds both ends of that queue's pipe itself. Each child therefore calls
:func:`bind_to_parent` first thing:

- on Linux it asks the kernel for SIGKILL when its parent goes (``PR_SET_PDEATHSIG``).
  The kernel sends it when the *thread* that spawned the child ends, so a child must
  be spawned by a thread that outlives it: the pool and the export's second process
  are both started, awaited and ended by one and the same call;
- everywhere it watches its parent's pid from a thread, and exits when it changes
  (the parent went and the child was handed to another), for systems without
  ``prctl`` and as a second line should the signal be lost;
- it exits at once if the parent is already gone (it died while the child started).
  A child still starting (a spawned process imports the program's main module
  first: under a second on a quiet machine, several on one loaded many times over)
  thus ends when its start-up does, having done nothing.

Nothing else is left behind: multiprocessing's resource tracker reads a pipe whose
writing ends only the parent and its children hold, and exits when they all have.
Works the same in the frozen program: ``ctypes`` reaches ``prctl`` through the
symbols of the running program, which links the C library.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator

#: From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1
#: How often a child looks whether its parent is still its parent.
WATCH_INTERVAL_S = 0.5
#: Exit status of a child that found itself orphaned.
ORPHANED = 70


def bind_to_parent(parent_pid: int) -> None:
    """Make this (child) process end, within a second at most, when process
    ``parent_pid`` ends; exit at once if it has ended already.

    The child also ignores SIGINT: a Ctrl-C at a terminal reaches the whole process
    group, and it is the parent's to decide (a worker finishes its run first, and a
    pool whose processes died would fail that run). Until here SIGINT was blocked
    (:func:`spawning`); one that came meanwhile is dropped with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _die_with_parent()
    if os.getppid() != parent_pid:
        os._exit(ORPHANED)
    threading.Thread(target=_watch, args=(parent_pid,), name="parent watch", daemon=True).start()


@contextlib.contextmanager
def spawning() -> Iterator[None]:
    """Around the start of children: they begin with SIGINT blocked (a signal mask
    survives the spawn), so a Ctrl-C that comes while one still starts, before
    :func:`bind_to_parent`, cannot kill it. This thread receives SIGINT again after."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl in this program's symbols: the watch alone serves
        pass


def _watch(parent_pid: int) -> None:
    stopped = threading.Event()
    while not stopped.wait(WATCH_INTERVAL_S):
        if os.getppid() != parent_pid:
            os._exit(ORPHANED)
