"""The first minutes with the program: an empty database opens on the welcome
view, the demo loads from it with progress and shows its runs, Connect opens the
connect dialog, and a second start finds the window as it was left."""

from __future__ import annotations

import sqlalchemy as sa
from PySide6.QtCore import QSettings, QSize, Qt, QTimer
from PySide6.QtWidgets import QApplication

from enroller_desktop.db.models import Organization
from enroller_desktop.ui.databases import ConnectDialog
from enroller_desktop.ui.main_window import MainWindow
from enroller_desktop.ui.settings import Settings

from tests.builders import RUNS, add_organizations, add_runs

DEMO_CUSTOMERS = 300


def make_settings(tmp_path) -> Settings:
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def start(qtbot, db, tmp_path) -> tuple[MainWindow, bool]:
    """A window as a person starts it; waits until it knows whether the database is empty."""
    window = MainWindow(db, settings=make_settings(tmp_path))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.emptinessKnown, timeout=10_000) as known:
        window.show()
    return window, known.args[0]


def count(db, table) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_an_empty_database_opens_on_the_welcome_view(qtbot, db, tmp_path):
    window, empty = start(qtbot, db, tmp_path)
    assert empty
    assert window.welcome_shown
    assert window.welcome.isVisible() and not window.view.isVisible()
    assert db.display_url in window.welcome.database_label.text()
    assert not window.new_run_action.isEnabled()
    assert not window.filter_dock.widget().isEnabled()
    window.close()


def test_a_database_with_organizations_opens_on_the_runs_table(qtbot, db, tmp_path):
    add_runs(db, add_organizations(db), 5)
    window, empty = start(qtbot, db, tmp_path)
    assert not empty
    assert window.view.isVisible() and not window.welcome.isVisible()
    assert window.new_run_action.isEnabled()
    window.close()


def test_load_demo_data_shows_progress_then_the_demo_runs(qtbot, db, tmp_path):
    window, _empty = start(qtbot, db, tmp_path)
    welcome = window.welcome
    welcome.demo_customers = DEMO_CUSTOMERS
    progress: list[int] = []
    welcome.progress.valueChanged.connect(progress.append)

    with qtbot.waitSignal(welcome.demoLoaded, timeout=120_000):
        qtbot.mouseClick(welcome.demo_button, Qt.MouseButton.LeftButton)
        assert welcome.progress.isVisible() and not welcome.demo_button.isEnabled()

    runs = count(db, RUNS)
    assert count(db, Organization.__table__) == 5
    assert runs > 0
    qtbot.waitUntil(lambda: window.model.rowCount() == runs and not window.model.busy, timeout=10_000)
    assert not window.welcome_shown and window.view.isVisible()
    assert progress == sorted(progress) and progress[-1] == 1000
    assert window.filter_dock.widget().isEnabled()
    qtbot.waitUntil(lambda: window.filter_dock.organization.count() == 1 + 5, timeout=10_000)
    window.close()


def test_connect_to_a_database_opens_the_connect_dialog(qtbot, db, tmp_path):
    window, _empty = start(qtbot, db, tmp_path)
    shown: list[QApplication] = []

    def answer_the_dialog():
        dialog = QApplication.activeModalWidget()
        shown.append(dialog)
        dialog.reject()

    QTimer.singleShot(0, answer_the_dialog)  # runs inside the dialog's own event loop
    qtbot.mouseClick(window.welcome.connect_button, Qt.MouseButton.LeftButton)
    assert len(shown) == 1 and isinstance(shown[0], ConnectDialog)
    assert window.welcome_shown  # canceled: still the same empty database
    window.close()


def test_connecting_to_a_database_with_runs_leaves_the_welcome_view(qtbot, db, sqlite_db, tmp_path):
    add_runs(sqlite_db, add_organizations(sqlite_db), 7)
    window, _empty = start(qtbot, db, tmp_path)

    def connect_to_the_other():
        dialog = QApplication.activeModalWidget()
        dialog.url_edit.setText(sqlite_db.url)
        dialog.accept()

    QTimer.singleShot(0, connect_to_the_other)
    with qtbot.waitSignal(window.emptinessKnown, timeout=10_000) as known:
        qtbot.mouseClick(window.welcome.connect_button, Qt.MouseButton.LeftButton)
    assert known.args == [False]
    qtbot.waitUntil(lambda: window.model.rowCount() == 7, timeout=10_000)
    assert window.view.isVisible()
    window.close()


def test_the_window_size_comes_back_on_a_second_start(qtbot, db, tmp_path):
    add_runs(db, add_organizations(db), 5)
    first, _empty = start(qtbot, db, tmp_path)
    qtbot.waitUntil(lambda: first.filter_dock.organization.count() == 3, timeout=10_000)  # the dock's width depends on them
    # Within the screen, and no smaller than the window can be: restoring would correct either.
    screen, smallest = first.screen().availableGeometry(), first.minimumSizeHint()
    wanted = QSize(max(smallest.width(), screen.width() - 50), max(smallest.height(), screen.height() - 50))
    first.resize(wanted)
    first.close()

    second, _empty = start(qtbot, db, tmp_path)
    assert second.size() == wanted
    second.close()


def test_the_dock_layout_comes_back_on_a_second_start(qtbot, db, tmp_path):
    add_runs(db, add_organizations(db), 5)
    first, _empty = start(qtbot, db, tmp_path)
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, first.filter_dock)
    first.trends_dock.show()
    first.close()

    second, _empty = start(qtbot, db, tmp_path)
    assert second.dockWidgetArea(second.filter_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert second.trends_dock.isVisible()
    second.close()
