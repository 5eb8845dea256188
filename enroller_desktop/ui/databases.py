"""Choosing a database: a SQLite file, or a server URL with Test connection.

Passwords are never written to the settings: the recent list holds URLs without
them, and a password the user asks to remember goes to the system keyring. Where
the machine has no keyring backend, nothing is stored and the dialog says so:
the password is asked again next time.
"""

from __future__ import annotations

import logging

import keyring
import keyring.errors
from keyring.backends import fail
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from enroller_desktop.config import APP_NAME
from enroller_desktop.db.engine import check_connection
from enroller_desktop.ui.background import Tasks
from enroller_desktop.ui.settings import Settings

log = logging.getLogger(__name__)

KEYRING_SERVICE = APP_NAME
RECENT_LIMIT = 8


def without_password(url: str) -> str:
    """The URL as the recent list and the keyring key hold it."""
    try:
        # Not URL.set(password=None): set() takes None for "leave as it is".
        return make_url(url)._replace(password=None).render_as_string(hide_password=False)
    except ArgumentError:
        return url


def with_password(url: str, password: str | None) -> str:
    if not password:
        return url
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def keyring_available() -> bool:
    return not isinstance(keyring.get_keyring(), fail.Keyring)


def stored_password(url: str) -> str | None:
    if not keyring_available():
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, without_password(url))
    except keyring.errors.KeyringError as exc:
        log.warning("keyring unreadable: %s", exc)
        return None


def store_password(url: str, password: str) -> bool:
    """Keep the password in the system keyring; False when there is none."""
    if not keyring_available():
        return False
    try:
        keyring.set_password(KEYRING_SERVICE, without_password(url), password)
    except keyring.errors.KeyringError as exc:
        log.warning("keyring refused the password: %s", exc)
        return False
    return True


def needs_password(url: str) -> bool:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    return parsed.get_backend_name() != "sqlite" and bool(parsed.username) and not parsed.password


def remember_recent(settings: Settings, url: str) -> list[str]:
    plain = without_password(url)
    recent = [plain] + [u for u in settings.get("databases/recent") if u != plain]
    settings.set("databases/recent", recent[:RECENT_LIMIT])
    return recent[:RECENT_LIMIT]


class ConnectDialog(QDialog):
    """A URL and a password; Test connection answers without leaving the dialog."""

    def __init__(self, parent: QWidget | None = None, *, url: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to a database")
        self._tasks = Tasks(self, threads=1)
        self.url_edit = QLineEdit(without_password(url))
        self.url_edit.setPlaceholderText("postgresql://user@host:5432/database")
        self.url_edit.setMinimumWidth(420)
        self.password_edit = QLineEdit(stored_password(url) or (make_url(url).password or "" if url else ""))
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("Remember the password in the system keyring")
        if keyring_available():
            self.remember.setChecked(True)
        else:
            self.remember.setEnabled(False)
            self.remember.setToolTip("This computer has no system keyring: the password will not be stored")
        self.keyring_note = QLabel("" if keyring_available() else "No system keyring here: the password is not stored anywhere and will be asked again.")
        self.keyring_note.setWordWrap(True)
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.test_button = QPushButton("&Test connection")
        form = QFormLayout()
        form.addRow("&URL", self.url_edit)
        form.addRow("&Password", self.password_edit)
        form.addRow("", self.remember)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.test_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.test_button.clicked.connect(self.test)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.keyring_note)
        layout.addWidget(self.result_label)
        layout.addWidget(buttons)

    def url(self) -> str:
        """The URL typed, with the password typed."""
        return with_password(self.url_edit.text().strip(), self.password_edit.text())

    def _check_url(self) -> bool:
        text = self.url_edit.text().strip()
        try:
            make_url(text)
        except ArgumentError:
            self.result_label.setText("Not a database URL: expected e.g. postgresql://user@host/db or sqlite:///path/file.sqlite3")
            return False
        return True

    def test(self) -> None:
        if not self._check_url():
            return
        self.test_button.setEnabled(False)
        self.result_label.setText("Connecting…")
        url = self.url()
        self._tasks.run(lambda _s: check_connection(url), self._test_passed, self._test_failed, name="test connection")

    def _test_passed(self, _result) -> None:
        self.test_button.setEnabled(True)
        self.result_label.setText("Connected: the database answers.")

    def _test_failed(self, message: str) -> None:
        self.test_button.setEnabled(True)
        self.result_label.setText(f"Cannot connect: {message}")

    def _accept(self) -> None:
        if not self._check_url():
            return
        password = self.password_edit.text()
        if password and self.remember.isChecked() and not store_password(self.url(), password):
            self.result_label.setText("The keyring refused the password: it is not stored.")
        self.accept()
