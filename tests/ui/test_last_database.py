"""A launch that names no database opens the one the window last showed; one that
cannot be opened any more gives way to the default with a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from enroller_desktop.config import default_db_url
from enroller_desktop.ui import databases
from enroller_desktop.ui.app import open_main_window, startup_database
from enroller_desktop.ui.main_window import MainWindow

from tests.builders import add_organizations, add_runs
from .test_main_window import make_settings


@pytest.fixture(autouse=True)
def own_data_folder(tmp_path, monkeypatch):
    """The default database lives in this test's folder, not the user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


def close_on(qtbot, db, settings) -> None:
    window = MainWindow(db, settings=settings)
    qtbot.addWidget(window)
    window.close()


def test_closing_the_window_remembers_its_database_without_a_password(qtbot, db, tmp_path):
    settings = make_settings(tmp_path)
    close_on(qtbot, db, settings)
    assert settings.get("databases/last") == databases.without_password(db.url)


def test_a_launch_naming_no_database_opens_the_last_one(qtbot, db, tmp_path):
    add_runs(db, add_organizations(db), 3)
    settings = make_settings(tmp_path)
    close_on(qtbot, db, settings)

    window = open_main_window(None, make_settings(tmp_path))
    qtbot.addWidget(window)
    assert window.db.url == db.url
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=10_000)
    window.close()
    window.db.dispose()


def test_a_database_named_for_the_launch_wins_over_the_last_one(sqlite_db, tmp_path):
    settings = make_settings(tmp_path)
    settings.set("databases/last", sqlite_db.url)
    named = f"sqlite:///{tmp_path / 'named.sqlite3'}"
    opened, problem = startup_database(named, settings)
    assert (opened.url, problem) == (named, None)
    opened.dispose()


def test_a_last_file_that_is_gone_opens_the_default_with_a_message_and_is_not_recreated(qtbot, tmp_path):
    gone = tmp_path / "moved-away.sqlite3"
    settings = make_settings(tmp_path)
    settings.set("databases/last", f"sqlite:///{gone}")

    window = open_main_window(None, settings)
    qtbot.addWidget(window)
    assert window.db.url == default_db_url()
    assert Path(default_db_url().removeprefix("sqlite:///")).is_relative_to(tmp_path)
    assert not gone.exists()
    box = next(w for w in window.findChildren(QMessageBox) if w.isVisible())
    assert box.text() == f"The last database used could not be opened, so the default one is shown. The file {gone} no longer exists."
    window.close()
    window.db.dispose()


def test_a_last_server_that_does_not_answer_opens_the_default_with_a_message(tmp_path):
    settings = make_settings(tmp_path)
    settings.set("databases/last", "postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    opened, problem = startup_database(None, settings)
    assert opened.url == default_db_url()
    assert problem.startswith("The last database used could not be opened, so the default one is shown. Cannot use the database postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    opened.dispose()


@pytest.mark.parametrize("url", ["sqlite:////proc/no-such-folder/enroller.sqlite3",
                                 "postgresql+psycopg://clerk:s3cret@127.0.0.1:1/enroller"])
def test_a_launch_naming_a_database_that_cannot_open_says_so_in_a_message_box(qtbot, tmp_path, url):
    """Started from a desktop launcher, nobody reads the terminal: the box says it
    (without the password), and the command line's line and exit status follow."""
    from enroller_desktop.errors import DatabaseError

    from .answering import answering

    with answering(qtbot, QMessageBox.StandardButton.Ok) as asked, pytest.raises(DatabaseError):
        open_main_window(url, make_settings(tmp_path))
    [(text, _default)] = asked
    assert "s3cret" not in text
    assert "/proc/no-such-folder" in text or "127.0.0.1:1" in text
