"""The command line's foundation (RULES §7): the database it opens, and one line
with the right exit status for every bad argument, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from enroller_desktop.config import mask_url, resolve_db_url

SECRET = "s3cr3t-Pa55"


def cli(*args: str, env: dict | None = None, home: Path | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "ENROLLER_DB_URL"}
    if home is not None:  # the user's data and log folders, per platformdirs
        environment.update(XDG_DATA_HOME=str(home / "data"), XDG_STATE_HOME=str(home / "state"))
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "enroller_desktop", *args], capture_output=True, text=True,
                          env=environment, timeout=120)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_init_db_creates_the_schema_in_a_new_sqlite_file(tmp_path):
    path = tmp_path / "new.sqlite3"
    done = cli("--db", f"sqlite:///{path}", "init-db")
    assert done.returncode == 0, done.stderr
    assert path.exists() and "up to date" in done.stdout


def test_without_db_or_environment_the_database_is_a_file_in_the_users_data_folder(tmp_path):
    done = cli("init-db", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "data" / "enroller-desktop" / "enroller.sqlite3").exists()


def test_the_environment_variable_names_the_database_when_db_is_not_given(tmp_path):
    path = tmp_path / "from-env.sqlite3"
    done = cli("init-db", env={"ENROLLER_DB_URL": f"sqlite:///{path}"}, home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert path.exists()


def test_db_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("ENROLLER_DB_URL", "sqlite:///from-env.sqlite3")
    assert resolve_db_url("sqlite:///given.sqlite3") == "sqlite:///given.sqlite3"
    assert resolve_db_url(None) == "sqlite:///from-env.sqlite3"


@pytest.mark.parametrize("args", [
    ("frobnicate",),
    ("demo", "--customers", "-5"),
    ("run", "--campaign", "x"),
    ("run",),
    ("run", "--campaign", "1", "--as-of", "yesterday"),
    ("export", "1", "--tab", "everything", "--out", "x.csv"),
    ("cancel", "0"),
])
def test_a_bad_argument_is_one_line_and_exit_status_2(args, tmp_path):
    done = cli("--db", f"sqlite:///{tmp_path / 'db.sqlite3'}", *args)
    assert done.returncode == 2
    assert one_line_error(done).startswith("enroller-desktop: ")


def test_an_unreachable_database_is_one_line_exit_2_and_never_shows_the_password():
    done = cli("--db", f"postgresql://clerk:{SECRET}@127.0.0.1:1/enroller", "runs")
    assert done.returncode == 2
    line = one_line_error(done)
    assert "clerk:***@127.0.0.1:1" in line and SECRET not in done.stdout + done.stderr


def test_a_file_that_is_not_a_database_is_refused_in_one_line(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"these are my notes, not a database" * 100)
    done = cli("--db", f"sqlite:///{path}", "runs")
    assert done.returncode == 2
    assert "not a database" in one_line_error(done)


def test_python_m_and_the_console_script_are_the_same_program():
    script = Path(sys.executable).with_name("enroller-desktop")
    by_script = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert by_script.returncode == 0
    assert by_script.stdout == cli("--version").stdout


@pytest.mark.parametrize("url, shown", [
    (f"postgresql://clerk:{SECRET}@db.example/enroller", "postgresql://clerk:***@db.example/enroller"),
    (f"postgresql+psycopg://clerk:{SECRET}@db.example:5432/enroller?sslmode=require",
     "postgresql+psycopg://clerk:***@db.example:5432/enroller?sslmode=require"),
    ("sqlite:////home/clerk/enroller.sqlite3", "sqlite:////home/clerk/enroller.sqlite3"),
    ("postgresql://clerk@db.example/enroller", "postgresql://clerk@db.example/enroller"),
])
def test_a_url_is_shown_with_its_password_masked(url, shown):
    assert mask_url(url) == shown
