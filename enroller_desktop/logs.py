"""Logging to a rotating file in the user's log folder (and stderr for warnings)."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from enroller_desktop.config import log_dir

LOG_FILE_NAME = "enroller-desktop.log"


def setup_logging(folder: Path | None = None, level: int = logging.INFO) -> Path | None:
    """Send the program's log to ``folder`` (default: the user's log folder).

    Returns the log file, or None when the folder cannot be written (the program
    then logs to stderr only: a read-only home must not stop anyone working).
    """
    root = logging.getLogger()
    if any(getattr(h, "_enroller", False) for h in root.handlers):
        return next(Path(h.baseFilename) for h in root.handlers if getattr(h, "_enroller", False))
    root.setLevel(level)
    folder = folder or log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE_NAME, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        return None
    handler._enroller = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    root.addHandler(handler)
    return Path(handler.baseFilename)
