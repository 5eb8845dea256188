"""Fixtures: a fresh database for each test, on SQLite and on PostgreSQL.

PostgreSQL comes from ENROLLER_TEST_PG_URL (default: the local server). The test
session creates a database of its own there and drops it at the end. Without a
server the PostgreSQL cases skip with the reason shown, except under CI=true,
where they must run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from enroller_desktop.db.engine import Database, normalize_url, open_database  # noqa: E402

PG_URL = os.environ.get("ENROLLER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ("sqlite", "postgresql")


class _PgServer:
    """The session's own PostgreSQL database, created on first use."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.error: str | None = None
        self._admin: sa.Engine | None = None
        self._name = f"enroller_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    def get(self) -> str:
        if self.url is None and self.error is None:
            try:
                admin_url = normalize_url(PG_URL)
                self._admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
                with self._admin.connect() as conn:
                    conn.exec_driver_sql(f'CREATE DATABASE "{self._name}"')
                self.url = admin_url.set(database=self._name).render_as_string(hide_password=False)
            except Exception as exc:  # noqa: BLE001 - any failure means "no server"
                self.error = f"PostgreSQL at {PG_URL} unavailable: {str(exc).splitlines()[0]}"
        if self.error:
            if IN_CI:
                pytest.fail(self.error)
            pytest.skip(self.error)
        return self.url

    def drop(self) -> None:
        if self._admin is not None and self.url is not None:
            with self._admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)')
            self._admin.dispose()


@pytest.fixture(scope="session")
def pg_server():
    server = _PgServer()
    yield server
    server.drop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    return path


def _empty_all(db: Database) -> None:
    """Delete every row and restart every id. DELETE of small tables and a
    sequence restart cost milliseconds; TRUNCATE costs a file swap per table."""
    from enroller_desktop.db.models import Base

    with db.engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        for sequence in conn.exec_driver_sql(
            "SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public'"
        ).scalars():
            conn.exec_driver_sql(f'ALTER SEQUENCE "{sequence}" RESTART WITH 1')


def make_db_url(backend: str, tmp_path: Path, sqlite_template: Path, pg_server: _PgServer) -> str:
    if backend == "sqlite":
        path = tmp_path / "enroller.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = pg_server.get()
    db = open_database(url)
    _empty_all(db)
    db.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path, sqlite_template, pg_server) -> str:
    """The URL of a fresh, migrated, empty database (both backends)."""
    return make_db_url(request.param, tmp_path, sqlite_template, pg_server)


@pytest.fixture
def db(db_url):
    """A fresh, migrated, empty database (both backends)."""
    database = open_database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path, sqlite_template, pg_server):
    database = open_database(make_db_url("sqlite", tmp_path, sqlite_template, pg_server))
    yield database
    database.dispose()


@pytest.fixture
def pg_db(tmp_path, sqlite_template, pg_server):
    database = open_database(make_db_url("postgresql", tmp_path, sqlite_template, pg_server))
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def _windows_leave_due_runs_alone(monkeypatch):
    """Windows under test execute due scheduled runs only when a test asks for it:
    the rows most tests write are a picture of a database (scheduled runs long
    overdue among them, a demo loaded for a fixed day), not work to do.
    ``tests/ui/test_launcher.py`` and the New Run tests turn it on."""
    from enroller_desktop.ui import settings

    monkeypatch.setitem(settings.DEFAULTS, "runs/execute_due", False)


@pytest.fixture
def shots(tmp_path):
    """Where a test keeps the screenshots it takes to be looked at: the test's own
    temporary folder, or ``$ENROLLER_SHOTS`` when set."""
    folder = Path(os.environ.get("ENROLLER_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
