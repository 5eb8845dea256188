"""The runs table's default columns fit a 1366-pixel laptop screen beside the
filters, in the old help page's order, with narrow columns elided and their text whole in
a tooltip; counts go to CSV as plain digits."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from enroller_desktop.ui.main_window import MainWindow
from enroller_desktop.run_index import COLUMN_OF_KEY, COLUMNS
from enroller_desktop.ui.index_model import HEADER_TEXTS, HIDDEN_BY_DEFAULT
from enroller_desktop.ui.settings import Settings

from tests.builders import add_organizations, add_runs


def open_at(qtbot, db, tmp_path, width: int, height: int) -> MainWindow:
    window = MainWindow(db, settings=Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    window.resize(width, height)
    with qtbot.waitSignal(window.emptinessKnown, timeout=10_000):
        window.show()
    qtbot.waitExposed(window)
    return window


def test_the_default_columns_fit_a_1366_pixel_window_beside_the_filters(qtbot, sqlite_db, tmp_path):
    add_runs(sqlite_db, add_organizations(sqlite_db), 5)
    window = open_at(qtbot, sqlite_db, tmp_path, 1366, 768)
    assert window.filter_dock.isVisible()
    qtbot.waitUntil(lambda: window.model.rowCount() == 5, timeout=10_000)
    view, header = window.view, window.view.horizontalHeader()
    shown = [header.logicalIndex(v) for v in range(header.count()) if not header.isSectionHidden(header.logicalIndex(v))]
    assert shown == sorted(shown)  # the old help page's order
    assert {COLUMNS[c].key for c in shown} >= {"created_at", "organization", "campaign", "purpose", "status",
                                               "query_param_customers", "potential_customers", "potential_events",
                                               "eligible", "success", "duration"}
    assert sum(header.sectionSize(c) for c in shown) <= view.viewport().width()
    assert not view.horizontalScrollBar().isVisible() or view.horizontalScrollBar().maximum() == 0
    window.close()


def test_the_columns_left_out_by_default_are_in_the_columns_menu(qtbot, sqlite_db, tmp_path):
    window = open_at(qtbot, sqlite_db, tmp_path, 1366, 768)
    assert {COLUMNS[c].key for c in HIDDEN_BY_DEFAULT} == {"in_progress_at", "completed_at", "run_id", "scheduled_for"}
    window._fill_columns_menu(window.columns_menu)
    titles = {action.text(): action.isChecked() for action in window.columns_menu.actions() if action.isCheckable()}
    assert titles.get("In Progress At") is False and titles.get("Completed At") is False
    window.close()


def test_narrow_columns_give_their_whole_text_in_a_tooltip(qtbot, sqlite_db, tmp_path):
    add_runs(sqlite_db, add_organizations(sqlite_db), 5)
    window = open_at(qtbot, sqlite_db, tmp_path, 1366, 768)
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() == 5, timeout=10_000)
    for key in ("organization", "campaign", "purpose"):
        index = model.index(0, COLUMN_OF_KEY[key])
        assert index.data(Qt.ItemDataRole.ToolTipRole) == index.data()
    assert window.view.textElideMode() == Qt.TextElideMode.ElideRight
    window.close()


def test_long_count_titles_take_two_lines_and_keep_their_words(qtbot):
    column = COLUMN_OF_KEY["query_param_customers"]
    assert HEADER_TEXTS[column] == "Query Param\nCustomers"
    assert HEADER_TEXTS[COLUMN_OF_KEY["success"]] == "Success"
    assert [text.replace("\n", " ") for text in HEADER_TEXTS] == [c.title for c in COLUMNS]
