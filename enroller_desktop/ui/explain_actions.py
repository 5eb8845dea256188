"""The main window's ways into the explanations: Compare Runs (Ctrl+D: two runs
of one campaign selected, or one completed run, compared with the completed run
of its campaign and purpose before it) and Find Customer (Ctrl+F). Installed by the main
window with one call, so that its own module only names them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from enroller_desktop.db.enums import RunStatus
from enroller_desktop.ui.background import Tasks

COMPARE_SHORTCUT = "Ctrl+D"


def install(window: QMainWindow, runs_menu: QMenu, toolbar: QToolBar) -> None:
    """Add the actions to the Runs menu and the toolbar; ``window.compare_action``
    is enabled while exactly two runs of one campaign, or one completed run, are
    selected."""
    compare = QAction("Co&mpare Runs", window)
    compare.setShortcut(QKeySequence(COMPARE_SHORTCUT))
    compare.setStatusTip("What changed between the two selected runs of one campaign, "
                         "or since the run before the selected one")
    compare.setToolTip(f"Compare the two selected runs, or the selected run with the one before it ({COMPARE_SHORTCUT})")
    lookups = Tasks(compare, threads=1)  # the run before the selected one, off the interface thread
    compare.triggered.connect(lambda: compare_selected(window, lookups))
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


def _comparable_alone(run) -> bool:
    """A run compared with the one before it: completed, with potentials to compare."""
    from enroller_desktop import explain

    return run.status is RunStatus.COMPLETED and explain.has_potentials(run.purpose, run.status)


def _enable(window) -> None:
    runs = _selected_runs(window)
    window.compare_action.setEnabled(
        (len(runs) == 1 and _comparable_alone(runs[0]))
        or (len(runs) == 2 and runs[0].campaign_id == runs[1].campaign_id))


def compare_selected(window, lookups: Tasks):
    """Open the comparison of the selected runs. With one run selected, the run
    before it is looked up on the thread pool first; the window opens when it is
    known (or the status bar says there is none). Returns the window when it
    opened at once (two runs), else None."""
    from enroller_desktop import explain
    from enroller_desktop.ui.compare_window import show_compare_window

    runs = _selected_runs(window)
    if len(runs) == 2:
        return show_compare_window(window.db, runs[0].id, runs[1].id, window)
    if len(runs) == 1 and _comparable_alone(runs[0]):
        run, db = runs[0], window.db

        def found(previous: int | None) -> None:
            if previous is None:
                window.statusBar().showMessage(
                    f"Run {run.id} is the first completed {run.purpose.label} run of {run.campaign}: "
                    "there is no earlier one to compare it with", 8000)
            else:
                show_compare_window(db, previous, run.id, window)

        lookups.run(lambda _state: explain.previous_run(db, run.id), found,
                          lambda message: window.statusBar().showMessage(message, 8000), name="previous run")
        return None
    window.statusBar().showMessage("Select two runs of one campaign, or one completed run, to compare them", 5000)
    return None


def find_customer(window):
    from enroller_desktop.ui.customer_window import CustomerSearch

    dialog = CustomerSearch(window.db, window, settings=window.settings)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
