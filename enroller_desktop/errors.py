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


def one_line(exc: BaseException, *, with_type: bool = False) -> str:
    """The first line of an exception's message (its type's name when it has none),
    as a status bar, a dialog or stderr shows it; ``with_type`` prefixes the type."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if with_type:
        return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return first or type(exc).__name__
