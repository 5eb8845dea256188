"""The keyboard as a back-office user meets it: the window opens in the runs
table, Tab walks a row's cells then leaves, Alt+F and Alt+R open their menus,
Ctrl+Tab and Ctrl+Page Down switch a run window's tabs from anywhere."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton

from tests.builders import add_organizations, add_runs, build_run
from .test_help_and_keyboard import open_window as open_main_window
from .test_run_window import open_window as open_run_window


def mnemonic(text: str) -> str | None:
    found = re.search(r"&([^&])", text)
    return found.group(1).lower() if found else None


def test_the_window_opens_with_the_focus_in_the_runs_table(qtbot, sqlite_db, tmp_path):
    add_runs(sqlite_db, add_organizations(sqlite_db), 3)
    window = open_main_window(qtbot, sqlite_db, tmp_path)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.view, timeout=5_000)
    window.close()


def test_tab_walks_the_cells_of_a_row_then_leaves_the_table(qtbot, sqlite_db, tmp_path):
    add_runs(sqlite_db, add_organizations(sqlite_db), 3)
    window = open_main_window(qtbot, sqlite_db, tmp_path)
    view = window.view
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=10_000)
    header = view.horizontalHeader()
    shown = [header.logicalIndex(v) for v in range(header.count()) if not header.isSectionHidden(header.logicalIndex(v))]
    view.setFocus()
    view.setCurrentIndex(window.model.index(1, shown[0]))
    walked = [view.currentIndex().column()]
    for _ in shown[1:]:
        qtbot.keyClick(view, Qt.Key.Key_Tab)
        walked.append(view.currentIndex().column())
    assert walked == shown and view.currentIndex().row() == 1 and view.hasFocus()
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert not view.hasFocus()
    window.close()


def test_the_filter_dock_takes_no_mnemonic_of_a_menu(qtbot, sqlite_db, tmp_path):
    window = open_main_window(qtbot, sqlite_db, tmp_path)
    menus = {mnemonic(action.text()) for action in window.menuBar().actions()}
    assert {"f", "r"} <= menus
    widgets = [*window.filter_dock.findChildren(QLabel), *window.filter_dock.findChildren(QPushButton)]
    dock = {mnemonic(w.text()) for w in widgets} - {None}
    assert dock and not dock & menus
    window.close()


def test_alt_f_and_alt_r_open_the_file_and_runs_menus(qtbot, sqlite_db, tmp_path):
    window = open_main_window(qtbot, sqlite_db, tmp_path)
    bar = window.menuBar()
    for key, title in ((Qt.Key.Key_F, "&File"), (Qt.Key.Key_R, "&Runs")):
        menu = next(action.menu() for action in bar.actions() if action.text() == title)
        qtbot.keyClick(QApplication.focusWidget() or window, key, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(menu.isVisible, timeout=5_000)
        menu.close()
        qtbot.waitUntil(lambda menu=menu: not menu.isVisible(), timeout=5_000)
    window.close()


def test_ctrl_tab_and_ctrl_page_down_switch_the_run_windows_tabs_from_anywhere(qtbot, db):
    window = open_run_window(qtbot, db, build_run(db).run_id)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    tabs = window.tabs
    window.summary_view.setFocus()
    qtbot.keyClick(window.summary_view, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentIndex() == 1
    tabs.setCurrentWidget(window.potentials_tab)
    window.potentials_tab.search.setFocus()
    qtbot.keyClick(window.potentials_tab.search, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentWidget() is window.campaign_customers_tab
    window.campaign_customers_tab.view.setFocus()
    qtbot.keyClick(window.campaign_customers_tab.view, Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier)
    assert tabs.currentWidget() is window.potentials_tab


def test_the_dock_labels_are_wide_enough_for_their_letters_one_by_one(qtbot, sqlite_db, tmp_path):
    """An underlined mnemonic splits a label's text where kerning would have
    tucked the letters together ("To" read "Tc")."""
    window = open_main_window(qtbot, sqlite_db, tmp_path)
    labels = [label for label in window.filter_dock.findChildren(QLabel) if "&" in label.text()]
    assert any(label.text() == "&To" for label in labels)
    for label in labels:
        letters = label.text().replace("&", "")
        assert label.width() >= sum(label.fontMetrics().horizontalAdvance(c) for c in letters), label.text()
    window.close()


def test_the_status_bar_separates_the_database_from_the_run_count(qtbot, sqlite_db, tmp_path):
    add_runs(sqlite_db, add_organizations(sqlite_db), 3)
    window = open_main_window(qtbot, sqlite_db, tmp_path)
    qtbot.waitUntil(lambda: window.count_label.text() == "3 runs", timeout=10_000)
    database, separator, count = window.database_label, window.status_separator, window.count_label
    assert separator.isVisible() and separator.frameShape() == separator.Shape.VLine
    assert database.geometry().right() < separator.geometry().left() <= separator.geometry().right() < count.geometry().left()
    window.close()


def test_column_definitions_say_what_an_organization_and_a_campaign_are(qtbot, sqlite_db, tmp_path):
    from enroller_desktop.ui.help_dialogs import ColumnDefinitionsDialog, column_definitions

    definitions = dict(column_definitions())
    for title in ("Organization", "Campaign"):
        assert definitions[title] != title and len(definitions[title].split()) >= 8
    dialog = ColumnDefinitionsDialog()
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert "the Valid Potentials box" in text and "the Enrolled box" in text


def test_the_casl_check_is_written_as_its_acronym(qtbot, db):
    window = open_run_window(qtbot, db, build_run(db).run_id)
    titles = [column.title for column in window.potentials_model.table.columns]
    assert "CASL" in titles and "Casl" not in titles
    assert any(window.potentials_tab.check_filter.itemText(i).startswith("Failed CASL") for i in range(window.potentials_tab.check_filter.count()))
