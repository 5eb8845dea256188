"""Fixtures of the reliability suite: databases of its own, populations copied from
a template per trial, and the command line as a separate process.

PostgreSQL databases are created beside the shared test server's others (never
stopping or reconfiguring the server itself: other people use it) and dropped at
the end of the session.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from enroller_desktop.db.engine import normalize_url, open_database
from tests.conftest import IN_CI, PG_URL
from tests.builders import Population, load_population

#: Size of the population the kill trials run over: a run lasts a second or more.
KILL_CUSTOMERS = {"sqlite": 30_000, "postgresql": 12_000}


class OwnDatabases:
    """PostgreSQL databases this session creates (from a template when asked) and drops."""

    def __init__(self) -> None:
        self.admin_url = normalize_url(PG_URL)
        self.names: list[str] = []
        self._admin: sa.Engine | None = None
        self.error: str | None = None

    def _engine(self) -> sa.Engine:
        if self._admin is None and self.error is None:
            try:
                engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
                with engine.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
                self._admin = engine
            except Exception as exc:  # noqa: BLE001 - any failure means "no server"
                self.error = f"PostgreSQL at {PG_URL} unavailable: {str(exc).splitlines()[0]}"
        if self.error:
            if IN_CI:
                pytest.fail(self.error)
            pytest.skip(self.error)
        return self._admin

    def execute(self, sql: str, **params):
        with self._engine().connect() as conn:
            return conn.execute(sa.text(sql), params).all() if sql.lstrip().upper().startswith("SELECT") else conn.execute(sa.text(sql), params)

    def create(self, prefix: str, *, template: str | None = None) -> str:
        name = f"rel_{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        self.execute(f'CREATE DATABASE "{name}"{clause}')
        self.names.append(name)
        return name

    def url(self, name: str, *, password: str | None = None) -> str:
        return self.admin_url.set(database=name, password=password).render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.names.remove(name)

    def drop_all(self) -> None:
        for name in list(self.names):
            self.drop(name)
        if self._admin is not None:
            self._admin.dispose()


@pytest.fixture(scope="session")
def own_pg():
    databases = OwnDatabases()
    yield databases
    databases.drop_all()


@dataclass
class Template:
    """A loaded population that each trial copies, so that every trial starts equal."""

    backend: str
    population: Population
    source: str  # a file path (SQLite) or a database name (PostgreSQL)
    copy: Callable[[str], str]  # tag -> URL of a fresh copy
    discard: Callable[[str], None]  # URL of a copy -> gone


@pytest.fixture(scope="session")
def population_template(tmp_path_factory, own_pg):
    """``population_template(backend)``: the kill trials' population, loaded once."""
    templates: dict[str, Template] = {}

    def get(backend: str) -> Template:
        if backend not in templates:
            templates[backend] = _load_template(backend, tmp_path_factory, own_pg)
        return templates[backend]
    return get


def _load_template(backend: str, tmp_path_factory, own_pg: OwnDatabases) -> Template:
    customers = KILL_CUSTOMERS[backend]
    if backend == "sqlite":
        folder = tmp_path_factory.mktemp("population")
        path = folder / "template.sqlite3"
        db = open_database(f"sqlite:///{path}")
        population = load_population(db, customers=customers, seed=7)
        db.dispose()  # the last connection's close folds the WAL into the file

        def copy(tag: str) -> str:
            target = tmp_path_factory.mktemp(tag) / "enroller.sqlite3"
            shutil.copy(path, target)
            return f"sqlite:///{target}"

        def discard(url: str) -> None:
            shutil.rmtree(Path(sa.engine.make_url(url).database).parent)
        return Template(backend, population, str(path), copy, discard)

    name = own_pg.create("template")
    db = open_database(own_pg.url(name))
    population = load_population(db, customers=customers, seed=7)
    # The shared server runs without autovacuum; a dealership's server analyzes
    # loaded tables on its own, and the clones inherit the statistics.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()

    def copy(tag: str) -> str:
        return own_pg.url(own_pg.create(tag, template=name))

    def discard(url: str) -> None:
        own_pg.drop(sa.engine.make_url(url).database)
    return Template(backend, population, name, copy, discard)


# -- the command line as a separate process ---------------------------------------

def _program() -> list[str]:
    script = Path(sys.executable).with_name("enroller-desktop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "enroller_desktop"]


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    """The environment of a command: its data, state (logs), config and cache
    folders inside the test's own folder, no database URL inherited."""
    env = {key: value for key, value in os.environ.items() if key != "ENROLLER_DB_URL"}
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        folder = tmp_path / "home" / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([*_program(), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_cli(args: list[str], env: dict[str, str], *, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*_program(), *args], env=env, capture_output=True, text=True, timeout=timeout)


def stop(process: subprocess.Popen, sig: int = signal.SIGKILL, timeout: float = 30) -> tuple[str, str]:
    if process.poll() is None:
        process.send_signal(sig)
    return process.communicate(timeout=timeout)


