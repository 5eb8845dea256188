"""``python -m enroller_desktop`` is the same program as ``enroller-desktop``."""

import sys

from enroller_desktop.cli import main

sys.exit(main())
