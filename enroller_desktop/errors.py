"""Errors that reach a user as one line, never as a traceback."""

from __future__ import annotations


class UserError(Exception):
    """Something the user asked for cannot be done as asked (exit status 2)."""

    exit_status = 2


class DatabaseError(UserError):
    """The database cannot be opened or used: unreachable, locked, not a database,
    or newer than this program."""


def scrub(message: str, secret: str | None) -> str:
    """``message`` with every occurrence of ``secret`` (a password) masked."""
    if secret:
        message = message.replace(secret, "***")
    return message
