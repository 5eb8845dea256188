"""A demo database with its run history, made once per backend for this folder's
tests, which only read it (those that write make their own database)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import sqlalchemy as sa

from enroller_desktop import demo
from enroller_desktop.db.engine import open_database
from tests.conftest import BACKENDS, make_db_url

TODAY = dt.date(2026, 3, 16)
DEMO_CUSTOMERS = 300


def _own_pg_database(pg_server, name: str) -> tuple[str, sa.Engine]:
    """A PostgreSQL database of this folder's own, so that the tests elsewhere that
    empty the session's database never empty this one."""
    admin = sa.create_engine(sa.make_url(pg_server.get()).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return sa.make_url(pg_server.get()).set(database=name).render_as_string(hide_password=False), admin


@pytest.fixture(scope="session", params=BACKENDS)
def demo_db(request, tmp_path_factory, sqlite_template, pg_server):
    """The demo with its runs, read-only for the tests that use it."""
    admin = None
    if request.param == "sqlite":
        url = make_db_url("sqlite", tmp_path_factory.mktemp("demo"), sqlite_template, pg_server)
    else:
        name = f"enroller_explain_{os.getpid()}"
        url, admin = _own_pg_database(pg_server, name)
    database = open_database(url)
    demo.load_demo(database, customers=DEMO_CUSTOMERS, seed=3, today=TODAY)
    yield database
    database.dispose()
    if admin is not None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def potentials_of(db, run_id: int) -> list[dict]:
    with db.read() as conn:
        return [dict(row) for row in conn.execute(
            sa.text("SELECT * FROM enroller_run_customers WHERE run_id = :run ORDER BY id"), {"run": run_id}).mappings()]


def run_ids(db, *, with_potentials: bool = True) -> list[int]:
    query = "SELECT id FROM enroller_runs r"
    if with_potentials:
        query += " WHERE EXISTS (SELECT 1 FROM enroller_run_customers p WHERE p.run_id = r.id)"
    with db.read() as conn:
        return conn.execute(sa.text(query + " ORDER BY id")).scalars().all()
