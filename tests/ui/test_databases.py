"""Choosing a database as a person does: File ▸ Open Database (a SQLite file),
Connect (a URL, Test connection), Recent Databases, and a password kept in the
system keyring, never in the settings."""

from __future__ import annotations

import shutil
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog
from sqlalchemy.engine import make_url

from enroller_desktop.db.engine import open_database
from enroller_desktop.ui import databases
from enroller_desktop.ui.app import startup_database
from enroller_desktop.ui.databases import ConnectDialog
from enroller_desktop.ui.main_window import MainWindow

from tests.builders import add_organizations, add_runs
from .test_main_window import make_settings

PASSWORD = "s3cret-Pässwörd"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A real keyring backend that keeps its passwords in a dict."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.passwords[(service, username)]


@pytest.fixture
def memory_keyring():
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def fail_keyring():
    """The keyring of a machine that has none (keyring's own "fail" backend), on
    every machine, so the test never depends on the one it runs on."""
    before = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(before)


def start(qtbot, db, tmp_path) -> MainWindow:
    window = MainWindow(db, settings=make_settings(tmp_path))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.emptinessKnown, timeout=10_000):
        window.show()
    return window


def answer_modal(handle) -> list:
    """Call ``handle(dialog)`` on the next modal dialog, inside its own event loop."""
    seen = []

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(10, answer)
            return
        seen.append(dialog)
        handle(dialog)

    QTimer.singleShot(0, answer)
    return seen


def switched_to(qtbot, window: MainWindow, url: str, runs: int) -> None:
    qtbot.waitUntil(lambda: window.db.url == url, timeout=10_000)
    qtbot.waitUntil(lambda: window.model.rowCount() == runs and not window.model.busy, timeout=10_000)


@pytest.fixture
def other_sqlite(tmp_path, sqlite_template):
    """A SQLite file with 7 runs, apart from the ``db`` the window starts on."""
    path = tmp_path / "other.sqlite3"
    shutil.copy(sqlite_template, path)
    other = open_database(f"sqlite:///{path}")
    add_runs(other, add_organizations(other), 7)
    yield other
    other.dispose()


# -- File ▸ Open Database ------------------------------------------------------------


def test_ctrl_o_opens_a_sqlite_file_chosen_in_the_file_dialog(qtbot, db, other_sqlite, tmp_path):
    window = start(qtbot, db, tmp_path)
    path = make_url(other_sqlite.url).database

    def choose(dialog: QFileDialog) -> None:
        dialog.selectFile(path)
        dialog.accept()

    seen = answer_modal(choose)
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(seen[0], QFileDialog)
    switched_to(qtbot, window, f"sqlite:///{Path(path).resolve()}", 7)
    assert window.windowTitle().endswith(Path(path).name)
    window.close()


def test_canceling_the_file_dialog_keeps_the_database(qtbot, db, tmp_path):
    window = start(qtbot, db, tmp_path)
    answer_modal(lambda dialog: dialog.reject())
    window.open_db_action.trigger()
    assert window.db.url == db.url
    window.close()


# -- Connect ---------------------------------------------------------------------------


def test_test_connection_says_a_good_url_answers(qtbot, db):
    dialog = ConnectDialog(url=db.url)
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=10_000)
    assert dialog.result_label.text() == "Connected: the database answers."


def test_test_connection_says_what_is_wrong_with_a_bad_url(qtbot):
    dialog = ConnectDialog()
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.url_edit, "not a database url")
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.result_label.text() == "Not a database URL: expected e.g. postgresql://user@host/db or sqlite:///path/file.sqlite3"


def test_test_connection_says_an_unreachable_server_does_not_answer(qtbot):
    dialog = ConnectDialog(url="postgresql+psycopg://clerk@127.0.0.1:1/enroller")
    qtbot.addWidget(dialog)
    dialog.password_edit.setText(PASSWORD)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=20_000)
    message = dialog.result_label.text()
    assert message.startswith("Cannot connect: ") and "\n" not in message
    assert "127.0.0.1" in message and "refused" in message.lower()
    assert PASSWORD not in message


def test_open_in_the_connect_dialog_switches_to_that_database(qtbot, db, other_sqlite, tmp_path):
    window = start(qtbot, db, tmp_path)

    def connect(dialog: ConnectDialog) -> None:
        dialog.url_edit.setText(other_sqlite.url)
        dialog.accept()

    seen = answer_modal(connect)
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert isinstance(seen[0], ConnectDialog)
    switched_to(qtbot, window, other_sqlite.url, 7)
    window.close()


def test_a_failed_open_comes_back_to_the_connect_dialog_with_the_url_typed(qtbot, db, tmp_path):
    window = start(qtbot, db, tmp_path)
    unreachable = "postgresql+psycopg://clerk@127.0.0.1:1/enroller"

    def connect(dialog: ConnectDialog) -> None:
        dialog.url_edit.setText(unreachable)
        dialog.remember.setChecked(False)
        dialog.password_edit.setText("typed once")
        dialog.accept()

    seen = answer_modal(connect)
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    again = answer_modal(lambda dialog: dialog.reject())
    qtbot.waitUntil(lambda: len(again) == 1, timeout=20_000)
    [first], [second] = seen, again
    assert first is not second and isinstance(second, ConnectDialog)
    assert (second.url_edit.text(), second.password_edit.text()) == (unreachable, "typed once")
    assert second.result_label.text().startswith("Cannot open: ")
    assert window.db.url == db.url
    window.close()


# -- Recent Databases ------------------------------------------------------------------


def recent_actions(window: MainWindow) -> dict[str, object]:
    window.recent_menu.aboutToShow.emit()  # what opening the menu does
    return {a.text(): a for a in window.recent_menu.actions()}


def test_a_database_opened_is_offered_again_under_recent_databases(qtbot, db, other_sqlite, tmp_path):
    window = start(qtbot, db, tmp_path)
    assert list(recent_actions(window)) == ["(none yet)"]
    window.open_url(other_sqlite.url)
    switched_to(qtbot, window, other_sqlite.url, 7)
    window.open_url(db.url)
    qtbot.waitUntil(lambda: window.db.url == db.url, timeout=10_000)

    actions = recent_actions(window)
    assert list(actions) == [databases.without_password(db.url), databases.without_password(other_sqlite.url)]
    actions[other_sqlite.url].trigger()
    switched_to(qtbot, window, other_sqlite.url, 7)
    window.close()


# -- the keyring -----------------------------------------------------------------------


def test_open_keeps_a_password_in_the_keyring(qtbot, memory_keyring):
    dialog = ConnectDialog()
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.url_edit, "postgresql+psycopg://clerk@db.example/enroller")
    dialog.password_edit.setText(PASSWORD)  # keyClicks types ASCII only
    assert dialog.remember.isChecked() and dialog.remember.isEnabled()
    open_button = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Open)
    qtbot.mouseClick(open_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == ConnectDialog.DialogCode.Accepted
    assert memory_keyring.passwords == {(databases.KEYRING_SERVICE, "postgresql+psycopg://clerk@db.example/enroller"): PASSWORD}
    assert make_url(dialog.url()).password == PASSWORD


def test_connect_from_the_window_keeps_the_password_in_the_keyring_and_recent_reopens_with_it(
        qtbot, pg_db, sqlite_db, tmp_path, memory_keyring):
    window = start(qtbot, sqlite_db, tmp_path)
    plain = databases.without_password(pg_db.url)  # the server here trusts its user: any password opens

    def connect(dialog: ConnectDialog) -> None:
        dialog.url_edit.setText(plain)
        dialog.password_edit.setText(PASSWORD)
        assert dialog.remember.isChecked()
        qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Open), Qt.MouseButton.LeftButton)

    seen = answer_modal(connect)
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert isinstance(seen[0], ConnectDialog)
    qtbot.waitUntil(lambda: databases.without_password(window.db.url) == plain, timeout=10_000)
    assert memory_keyring.passwords == {(databases.KEYRING_SERVICE, plain): PASSWORD}

    window.open_url(sqlite_db.url)
    qtbot.waitUntil(lambda: window.db.url == sqlite_db.url, timeout=10_000)
    recent_actions(window)[plain].trigger()  # the recent list holds no password: the keyring gives it
    qtbot.waitUntil(lambda: databases.without_password(window.db.url) == plain, timeout=10_000)
    assert make_url(window.db.url).password == PASSWORD
    window.close()


def test_a_password_never_lands_in_the_settings_file(qtbot, pg_db, sqlite_db, tmp_path, memory_keyring):
    window = start(qtbot, sqlite_db, tmp_path)
    with_password = databases.with_password(pg_db.url, PASSWORD)  # the server here trusts its user: any password opens
    window.open_url(with_password)
    qtbot.waitUntil(lambda: window.db.url == with_password, timeout=10_000)
    assert PASSWORD not in window.windowTitle()
    window.close()  # writes every setting, the database last shown among them

    written = (tmp_path / "settings.ini").read_bytes()
    assert databases.without_password(pg_db.url).encode() in written  # the recent list and the last database
    for form in (PASSWORD.encode(), PASSWORD.encode("latin-1"), b"s3cret"):
        assert form not in written


def test_the_last_server_reopens_at_launch_with_the_password_from_the_keyring(pg_db, tmp_path, memory_keyring):
    plain = databases.without_password(pg_db.url)
    databases.store_password(plain, PASSWORD)
    settings = make_settings(tmp_path)
    settings.set("databases/last", plain)
    opened, problem = startup_database(None, settings)
    assert problem is None and make_url(opened.url).password == PASSWORD
    opened.dispose()


def test_without_a_keyring_the_dialog_says_the_password_is_not_stored(qtbot, fail_keyring):
    assert not databases.keyring_available()
    dialog = ConnectDialog(url="postgresql+psycopg://clerk@db.example/enroller")
    qtbot.addWidget(dialog)
    assert not dialog.remember.isEnabled() and not dialog.remember.isChecked()
    assert "not stored anywhere" in dialog.keyring_note.text()
