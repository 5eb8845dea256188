"""Opening a database: one engine per URL, upgraded to our schema on open.

SQLite gets WAL (readers never wait for the writer), foreign keys, and a busy
timeout; its write transactions begin IMMEDIATE, so that two writers queue on the
busy timeout instead of one failing when it upgrades a read lock. PostgreSQL goes
through psycopg 3 and waits for row and table locks before failing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from enroller_desktop.config import mask_url
from enroller_desktop.db import folding
from enroller_desktop.errors import DatabaseError, scrub

log = logging.getLogger(__name__)

#: How long a statement waits for a lock before its attempt counts as failed (RULES §3: at least 5 s).
LOCK_WAIT_SECONDS = 10
_WRITE = "enroller_write"


def normalize_url(url: str) -> URL:
    """Parse ``url``; a bare ``postgresql://`` means psycopg 3, the driver we ship."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise DatabaseError(f"Not a database URL: {mask_url(url)!s} (expected e.g. sqlite:///path/file.sqlite3 or postgresql://user@host/db)") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(f"Unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL")
    return parsed


#: How our connections are named in PostgreSQL's ``pg_stat_activity``.
APPLICATION_NAME = "enroller-desktop"


def create_engine(url: str, **kw) -> Engine:
    """``application_name`` names the connections on PostgreSQL (a worker gives its
    own, so an administrator can tell its connections apart); ``pool_size`` and
    ``max_overflow`` bound how many the engine holds."""
    parsed = normalize_url(url)
    application_name = kw.pop("application_name", APPLICATION_NAME)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kw)
    try:
        engine = sa.create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=kw.pop("pool_size", 5),
            max_overflow=kw.pop("max_overflow", 10),
            connect_args={
                # JIT compiles the funnel's wide statements for seconds and saves nothing.
                "options": f"-c lock_timeout={LOCK_WAIT_SECONDS * 1000} -c jit=off",
                "connect_timeout": 5,
                # PostgreSQL keeps 63 bytes of it.
                "application_name": application_name.encode()[:63].decode(errors="ignore"),
            },
            **kw,
        )
    except NoSuchModuleError as exc:
        raise DatabaseError(f"No driver for {parsed.drivername}: use postgresql+psycopg") from exc
    return engine


def _sqlite_engine(parsed: URL, **kw) -> Engine:
    database = parsed.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise DatabaseError(f"The folder of the SQLite database does not exist: {folder}")
    engine = sa.create_engine(parsed, connect_args={"timeout": LOCK_WAIT_SECONDS}, **kw)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {LOCK_WAIT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()
        folding.register_sqlite(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


@dataclass
class Database:
    """One open database: its engine and its masked name."""

    url: str
    engine: Engine

    @property
    def display_url(self) -> str:
        return mask_url(self.url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (IMMEDIATE on SQLite), committed on success."""
        with self.engine.connect().execution_options(**{_WRITE: True}) as conn:
            with conn.begin():
                yield conn

    @contextlib.contextmanager
    def write_on(self, conn: Connection) -> Iterator[Connection]:
        """A write transaction (IMMEDIATE on SQLite) on ``conn``, a connection the
        caller keeps (a run's own connection: ``engine.snapshot``)."""
        conn.execution_options(**{_WRITE: True})
        try:
            with conn.begin():
                yield conn
        finally:
            conn.execution_options(**{_WRITE: False})

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def describe_error(exc: BaseException, url: str) -> str:
    """One line a back-office user understands, never carrying the password."""
    from enroller_desktop.config import password_of

    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return scrub(text, password_of(url))


def check_connection(url: str) -> None:
    """Connect and ask one question, without touching the schema; a
    :class:`DatabaseError` says why not (the Connect dialog's Test connection)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        raise DatabaseError(describe_error(exc, url)) from None
    finally:
        engine.dispose()


def open_database(url: str, *, upgrade: bool = True, **engine_kw) -> Database:
    """Open ``url``, check it answers, and bring its schema to ours.

    Raises :class:`DatabaseError` with a one-line message for an unreachable
    server, a file that is not a database, or a schema newer than this program.
    """
    from enroller_desktop.db import migrations

    engine = create_engine(url, **engine_kw)
    db = Database(url, engine)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        if upgrade:
            migrations.upgrade(db)
        else:
            migrations.check_not_newer(db)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseError(f"Cannot use the database {mask_url(url)}: {describe_error(exc, url)}") from None
    except DatabaseError:
        engine.dispose()
        raise
    return db
