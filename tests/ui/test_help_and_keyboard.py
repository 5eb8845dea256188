"""Help ▸ Column definitions and About, and the keyboard: every menu action has a
shortcut or a mnemonic, toolbar actions are in the menus, Tab follows the screen."""

from __future__ import annotations

import platform

import sqlalchemy
from PySide6.QtCore import QSettings, Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox, QToolBar

from enroller_desktop.config import data_dir, log_dir
from enroller_desktop.ui.help_dialogs import ColumnDefinitionsDialog, column_definitions
from enroller_desktop.ui.main_window import MainWindow
from enroller_desktop.run_index import COLUMNS
from enroller_desktop.ui.settings import Settings


def open_window(qtbot, db, tmp_path) -> MainWindow:
    window = MainWindow(db, settings=Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.emptinessKnown, timeout=10_000):
        window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
    return window


def test_column_definitions_are_the_seeds_in_its_order(sqlite_db):
    definitions = column_definitions()
    assert [title for title, _ in definitions] == ["View icon", *[c.title for c in COLUMNS[1:]]]
    assert dict(definitions)["Query Param Customers"] == (
        "count of customers who qualified for the campaign based on the query parameters"
    )


def test_f1_shows_the_column_definitions(qtbot, sqlite_db, tmp_path):
    window = open_window(qtbot, sqlite_db, tmp_path)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.findChild(ColumnDefinitionsDialog)
    assert dialog is not None and dialog.isVisible()
    text = dialog.text.toPlainText()
    for title, definition in column_definitions():
        assert title in text and definition in text
    dialog.close()
    window.close()


def test_about_shows_the_versions_and_where_things_live(qtbot, db, tmp_path):
    window = open_window(qtbot, db, tmp_path)
    box = window.about()
    assert isinstance(box, QMessageBox) and box.isVisible()
    text = box.text()
    server = "SQLite" if db.is_sqlite else "PostgreSQL"
    for expected in (platform.python_version(), qVersion(), sqlalchemy.__version__, server, str(data_dir()), str(log_dir())):
        assert expected in text
    box.close()
    window.close()


def menu_actions(window: MainWindow) -> list[tuple[str, QAction]]:
    found = []
    for top in window.menuBar().actions():
        for action in top.menu().actions():
            if not action.isSeparator():
                found.append((top.text(), action))
    return found


def test_every_menu_action_has_a_shortcut_or_a_mnemonic_unique_in_its_menu(qtbot, sqlite_db, tmp_path):
    window = open_window(qtbot, sqlite_db, tmp_path)
    mnemonics: dict[str, set[str]] = {}
    for menu, action in menu_actions(window):
        text = action.text()
        assert "&" in text or not action.shortcut().isEmpty(), f"{menu} ▸ {text} cannot be reached from the keyboard"
        if "&" in text:
            key = text[text.index("&") + 1].lower()
            assert key not in mnemonics.setdefault(menu, set()), f"{menu} ▸ {text}: mnemonic &{key} used twice"
            mnemonics[menu].add(key)
    window.close()


def test_every_toolbar_action_is_also_in_a_menu(qtbot, sqlite_db, tmp_path):
    window = open_window(qtbot, sqlite_db, tmp_path)
    in_menus = {action for _menu, action in menu_actions(window)}
    for toolbar in window.findChildren(QToolBar):
        for action in toolbar.actions():
            assert action.isSeparator() or action in in_menus, action.text()
    window.close()


def test_every_toolbar_button_has_an_icon_of_ours(qtbot, sqlite_db, tmp_path):
    """A button without an icon reads as text beside the icon row (Find Customer did)."""
    window = open_window(qtbot, sqlite_db, tmp_path)
    for toolbar in window.findChildren(QToolBar):
        for action in toolbar.actions():
            assert action.isSeparator() or not action.icon().isNull(), action.text()
    window.close()


def test_shortcuts_are_shown_in_the_menus(qtbot, sqlite_db, tmp_path):
    window = open_window(qtbot, sqlite_db, tmp_path)
    shortcuts = {action.text(): action.shortcut() for _menu, action in menu_actions(window)}
    assert shortcuts["&New Run…"] == QKeySequence(QKeySequence.StandardKey.New)
    assert shortcuts["Column &Definitions"] == QKeySequence(QKeySequence.StandardKey.HelpContents)
    assert shortcuts["&Trends"] == QKeySequence("Ctrl+T")
    window.close()


def test_tab_walks_the_filters_then_the_table(qtbot, sqlite_db, tmp_path):
    from tests.builders import add_organizations, add_runs

    add_runs(sqlite_db, add_organizations(sqlite_db), 3)
    window = open_window(qtbot, sqlite_db, tmp_path)
    dock = window.filter_dock
    expected = [
        dock.preset, dock.created_from, dock.created_to, dock.organization, dock.campaign,
        *dock.purposes.values(), *dock.statuses.values(), dock.reset_button, window.view,
    ]
    dock.preset.setFocus()
    visited = [QApplication.focusWidget()]
    for _ in range(2 * len(expected)):  # bounded: a widget that keeps Tab would trap the keyboard
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        if QApplication.focusWidget() is not visited[-1]:
            visited.append(QApplication.focusWidget())
        if len(visited) == len(expected):
            break
    assert visited == expected
    window.close()


def test_controls_have_accessible_names(qtbot, sqlite_db, tmp_path):
    window = open_window(qtbot, sqlite_db, tmp_path)
    for widget in (window.view, window.count_label, window.database_label, window.welcome.demo_button,
                   window.welcome.connect_button, window.welcome.progress):
        assert widget.accessibleName(), type(widget).__name__
    window.close()
