"""``python -m enroller_desktop`` is the same program as ``enroller-desktop``.

This is also the frozen program's entry point (``enroller_desktop.spec``).
Contact verdicts are judged in spawned worker processes; a frozen program
starts those by running itself again, and ``freeze_support`` must be the first
thing it does so that such a start becomes the worker, not a second window.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()

    import sys

    from enroller_desktop.cli import main

    sys.exit(main())
