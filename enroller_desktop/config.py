"""Where things live: the user's data and log folders, and which database to open.

The database URL is resolved as RULES §7 says: ``--db``, else the
``ENROLLER_DB_URL`` environment variable, else a SQLite file in the user's data
folder. A URL is only ever shown masked (:func:`mask_url`).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

APP_NAME = "enroller-desktop"
APP_AUTHOR = "EnrollerDesktop"
ENV_DB_URL = "ENROLLER_DB_URL"
DB_FILE_NAME = "enroller.sqlite3"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def default_db_url() -> str:
    """The SQLite file in the user's data folder, which is made on first use."""
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / DB_FILE_NAME}"


def given_db_url(cli_value: str | None = None) -> str | None:
    """The URL the user named for this launch: the command line's, else the
    environment's; None when neither names one."""
    if cli_value:
        return cli_value
    return os.environ.get(ENV_DB_URL, "").strip() or None


def resolve_db_url(cli_value: str | None = None) -> str:
    """The URL to open: the command line's, the environment's, or the default file."""
    return given_db_url(cli_value) or default_db_url()


def mask_url(url: str) -> str:
    """The URL with any password replaced by ``***``; safe to print, log and show."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return _mask_unparsed(url)
    return parsed.render_as_string(hide_password=True)


def _mask_unparsed(text: str) -> str:
    # A URL SQLAlchemy cannot parse may still hold "user:secret@", with or without
    # a scheme: hide what sits between the first ':' after '//' (or the start) and
    # the last '@'.
    scheme, sep, rest = text.partition("://") if "://" in text else ("", "", text)
    if "@" not in rest:
        return text
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in creds else text


def password_of(url: str) -> str | None:
    """The password a URL carries, so that error messages can be scrubbed of it."""
    try:
        return make_url(url).password or None
    except (ArgumentError, ValueError):
        return None
