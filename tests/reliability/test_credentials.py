"""A database password never shows: not on stdout or stderr of any command (good,
bad or unreachable URL), not in the log folder, the settings, exported files, the
run's stored messages, nor the main window's title.

The test server trusts local connections, so a URL with any password opens it:
the password is real to every code path that could leak it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QSettings

from enroller_desktop.db import models as m
from enroller_desktop.db.engine import open_database
from tests.reliability.conftest import run_cli
from tests.builders import AS_OF, insert_campaign, insert_customer, insert_organization, insert_query_param

PASSWORD = "Pw-Never-Shown-5521"
BAD_URLS = (
    f"postgresql://enroller:{PASSWORD}@127.0.0.1:1/nowhere",
    f"postgresql://enroller:{PASSWORD}@no-such-host.invalid/db",
    f"postgresql://postgres:{PASSWORD}@127.0.0.1:5432/no_such_database_for_credentials",
    f"mysql://enroller:{PASSWORD}@127.0.0.1/db",
    f"postgresql+nosuchdriver://enroller:{PASSWORD}@127.0.0.1/db",
    f"enroller:{PASSWORD}@127.0.0.1/db",
    f"postgresql://enroller:{PASSWORD}@[::1/db",
)


@pytest.fixture
def secret_url(own_pg):
    """A PostgreSQL database of our own with a campaign whose second query param is
    invalid, reached through a URL that carries ``PASSWORD``."""
    url = own_pg.url(own_pg.create("credentials"), password=PASSWORD)
    db = open_database(url)
    with db.write() as conn:
        org = insert_organization(conn)
        good = insert_campaign(conn, org, name="Good", channels="E")
        insert_query_param(conn, good, {"field": "customer.last_name", "op": "not_null"})
        insert_customer(conn, org, last_name="Lee", email="lee@example.com", last_purchase_at=AS_OF)
        bad = insert_campaign(conn, org, name="Bad", channels="E")
        insert_query_param(conn, bad, {"field": "customer.password", "op": "eq", "value": "hunter2"})
    db.dispose()
    return url, good, bad


def _files_holding(folder: Path, secret: str) -> list[str]:
    return [str(path) for path in folder.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]


@pytest.mark.slow
def test_no_command_shows_or_logs_the_password(secret_url, tmp_path, cli_env):
    url, good, bad = secret_url
    outputs = []
    commands = [
        ["init-db"], ["runs"], ["runs", "--json"],
        ["run", "--campaign", str(good), "--as-of", AS_OF.isoformat(), "--json"],
        ["run", "--campaign", str(bad), "--as-of", AS_OF.isoformat()],
        ["run", "--campaign", "999"], ["cancel", "1"], ["cancel", "999"],
        ["run", "--campaign", str(good), "--at", "2020-01-01T00:00:00Z"], ["worker", "--once"],
    ]
    for args in commands:
        outputs.append(run_cli(["--db", url, *args], cli_env))
    for tab, run_id in (("summary", 2), ("events", 2), ("query-params", 1), ("potentials", 1), ("campaign-customers", 1)):
        outputs.append(run_cli(["--db", url, "export", str(run_id), "--tab", tab,
                                "--out", str(tmp_path / "exports" / f"{run_id}-{tab}.csv")], cli_env))
    bad_commands = [(bad_url, ["runs"]) for bad_url in BAD_URLS]
    bad_commands += [(BAD_URLS[0], ["run", "--campaign", "1"]), (BAD_URLS[0], ["worker", "--once"])]
    for bad_url, args in bad_commands:
        result = run_cli(["--db", bad_url, *args], cli_env)
        assert result.returncode == 2, (bad_url, result.stderr)
        outputs.append(result)
    env_url = dict(cli_env, ENROLLER_DB_URL=BAD_URLS[0])
    outputs.append(run_cli(["runs"], env_url))

    assert [o.stderr for o in outputs if "Traceback" in o.stderr] == []
    assert [o.args for o in outputs if PASSWORD in o.stdout + o.stderr] == []
    assert json.loads(outputs[3].stdout)["status"] == "completed"
    assert "invalid criterion" in outputs[4].stdout
    assert _files_holding(tmp_path, PASSWORD) == []
    assert any((tmp_path / "home").rglob("*.log")), "the commands should have logged somewhere"


@pytest.mark.slow
def test_stored_run_messages_never_hold_the_password(secret_url, cli_env):
    url, good, bad = secret_url
    run_cli(["--db", url, "run", "--campaign", str(bad), "--as-of", AS_OF.isoformat()], cli_env)
    db = open_database(url)
    with db.read() as conn:
        texts = [*conn.execute(sa.select(m.EnrollerRun.error_message)).scalars(),
                 *conn.execute(sa.select(m.EnrollerRunEvent.message)).scalars()]
    db.dispose()
    assert any("customer.password" in (text or "") for text in texts)
    assert [text for text in texts if text and PASSWORD in text] == []


def test_the_main_window_title_shows_the_database_without_its_password(secret_url, qtbot, tmp_path):
    from enroller_desktop.ui.main_window import MainWindow
    from enroller_desktop.ui.settings import Settings

    url, _, _ = secret_url
    db = open_database(url)
    store = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(db, settings=Settings(store))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)

    assert db.display_url in window.windowTitle()
    assert PASSWORD not in window.windowTitle()
    window.close()
    store.sync()
    assert _files_holding(tmp_path, PASSWORD) == []
    db.dispose()
