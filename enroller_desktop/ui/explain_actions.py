"""The main window's ways into the explanations: Compare Runs (two runs of one
campaign selected; Ctrl+D) and Find Customer (Ctrl+F). Installed by the main
window with one call, so that its own module only names them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

COMPARE_SHORTCUT = "Ctrl+D"


def install(window: QMainWindow, runs_menu: QMenu, toolbar: QToolBar) -> None:
    """Add the actions to the Runs menu and the toolbar; ``window.compare_action``
    is enabled while exactly two runs of one campaign are selected."""
    compare = QAction("Co&mpare Runs", window)
    compare.setShortcut(QKeySequence(COMPARE_SHORTCUT))
    compare.setStatusTip("What changed between the two selected runs of one campaign")
    compare.setToolTip(f"Compare the two selected runs ({COMPARE_SHORTCUT})")
    compare.triggered.connect(lambda: compare_selected(window))
    window.compare_action = compare
    runs_menu.addAction(compare)
    find = QAction("&Find Customer…", window)
    find.setShortcut(QKeySequence.StandardKey.Find)
    find.setStatusTip("Find a customer and see why they were or were not enrolled, campaign by campaign")
    find.setToolTip("Find a customer by name, email, phone or id (Ctrl+F)")
    find.triggered.connect(lambda: find_customer(window))
    window.find_customer_action = find
    runs_menu.addAction(find)
    toolbar.addAction(find)
    window.view.selectionModel().selectionChanged.connect(lambda *_: _enable(window))
    window.model.modelReset.connect(lambda: _enable(window))
    _enable(window)


def _selected_runs(window) -> list:
    rows = sorted({i.row() for i in window.view.selectionModel().selectedRows()})
    return [run for run in map(window.model.run_at, rows) if run is not None]


def _enable(window) -> None:
    runs = _selected_runs(window)
    window.compare_action.setEnabled(
        len(runs) == 2 and runs[0].campaign == runs[1].campaign and runs[0].organization == runs[1].organization)


def compare_selected(window):
    from enroller_desktop.ui.compare_window import show_compare_window

    runs = _selected_runs(window)
    if len(runs) != 2:
        window.statusBar().showMessage("Select two runs of one campaign to compare them", 5000)
        return None
    return show_compare_window(window.db, runs[0].id, runs[1].id, window)


def find_customer(window):
    from enroller_desktop.ui.customer_window import CustomerSearch

    dialog = CustomerSearch(window.db, window, settings=window.settings)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
