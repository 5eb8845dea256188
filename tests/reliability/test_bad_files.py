"""A SQLite file that cannot be used: one clear line, exit status 2, no traceback,
and the file exactly as it was (nothing created beside it either)."""

from __future__ import annotations

import os
import random
import shutil
import stat

import pytest

from enroller_desktop.db.engine import open_database
from enroller_desktop.engine.runs import create_run
from tests.reliability.conftest import run_cli
from tests.builders import AS_OF, insert_campaign, insert_organization, insert_query_param


def _assert_refused(result, *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("enroller-desktop: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def _folder_listing(folder):
    return sorted(os.listdir(folder))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files anyway")
def test_runs_on_a_read_only_database_refuses_and_changes_no_byte(tmp_path, cli_env):
    folder = tmp_path / "db"
    folder.mkdir()
    path = folder / "readonly.sqlite3"
    db = open_database(f"sqlite:///{path}")
    with db.write() as conn:
        org = insert_organization(conn)
        cid = insert_campaign(conn, org)
        insert_query_param(conn, cid, {"field": "vehicle.year", "op": "gt", "value": 2000})
    create_run(db, campaign_id=cid, as_of=AS_OF)
    db.dispose()
    path.chmod(stat.S_IRUSR)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    before, listing = path.read_bytes(), _folder_listing(folder)
    try:
        result = run_cli(["--db", f"sqlite:///{path}", "runs"], cli_env)
    finally:
        folder.chmod(stat.S_IRWXU)
    _assert_refused(result, "read")
    assert path.read_bytes() == before and _folder_listing(folder) == listing


def test_a_read_only_database_file_in_a_writable_folder_is_refused_unchanged(tmp_path, cli_env):
    """Root ignores file modes, so this one makes the file immutable the only way
    every user must respect: by giving SQLite a URL that opens it read-only."""
    path = tmp_path / "readonly.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    before = path.read_bytes()
    result = run_cli(["--db", f"sqlite:///file:{path}?mode=ro&uri=true", "run", "--campaign", "1"], cli_env)
    _assert_refused(result, "readonly")
    assert path.read_bytes() == before


def test_a_database_in_a_missing_folder_is_refused_and_no_folder_is_made(tmp_path, cli_env):
    path = tmp_path / "no" / "such" / "folder" / "enroller.sqlite3"
    result = run_cli(["--db", f"sqlite:///{path}", "runs"], cli_env)
    _assert_refused(result, "folder")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("size", [100, 4096, 65_536])
def test_a_file_of_random_bytes_is_refused_and_left_byte_for_byte(tmp_path, cli_env, size):
    (tmp_path / "db").mkdir()
    path = tmp_path / "db" / "noise.sqlite3"
    path.write_bytes(random.Random(size).randbytes(size))
    before = path.read_bytes()

    result = run_cli(["--db", f"sqlite:///{path}", "runs"], cli_env)

    _assert_refused(result, "not a database")
    assert path.read_bytes() == before
    assert _folder_listing(path.parent) == ["noise.sqlite3"]


def test_a_text_file_given_as_the_database_is_refused_unchanged(tmp_path, cli_env):
    path = tmp_path / "notes.sqlite3"
    shutil.copy(__file__, path)
    before = path.read_bytes()
    result = run_cli(["--db", f"sqlite:///{path}", "run", "--campaign", "1"], cli_env)
    _assert_refused(result, "not a database")
    assert path.read_bytes() == before
