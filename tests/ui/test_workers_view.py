"""The Workers dock, driven as an administrator would: View → Workers shows each
worker with its state, current run, last heartbeat and runs today; a double-click
on a running worker opens its run."""

from __future__ import annotations

import datetime as dt
import os

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from enroller_desktop.db.enums import RunStatus
from enroller_desktop.engine.worker_registry import WORKERS, Registration
from enroller_desktop.ui.main_window import MainWindow
from enroller_desktop.ui.run_window import RunWindow
from enroller_desktop.ui.settings import Settings
from enroller_desktop.ui.workers_view import WORKER_COLUMNS, RUN_COLUMN, STATE_COLUMN, WorkersModel

from .answering import answering
from tests.builders import add_organizations, add_run

TITLES = [title for title, _ in WORKER_COLUMNS]


@pytest.fixture
def workers(db):
    """Four workers, registered as real workers register: north executing a run
    (after one done today), south idle, east silent for two minutes (lost), west stopped."""
    ids = add_organizations(db)
    run_id = add_run(db, ids, status=RunStatus.IN_PROGRESS)
    with Registration(db, "west"), Registration(db, "east"):
        pass
    with db.write() as conn:  # east's process died: no stop recorded, no heartbeat since
        conn.execute(sa.update(WORKERS).where(WORKERS.c.name == "east")
                     .values(stopped_at=None, heartbeat_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=2)))
    with Registration(db, "north") as north, Registration(db, "south"):
        north.running(run_id)
        north.finished()
        north.running(run_id)
        yield run_id


@pytest.fixture
def window(qtbot, db, workers, tmp_path):
    window = MainWindow(db, settings=Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    yield window
    window.close()


def show_workers(qtbot, window: MainWindow):
    dock = window.workers_dock
    [action] = [a for a in window.menuBar().actions() if a.text() == "&View"]
    [toggle] = [a for a in action.menu().actions() if a.text() == "&Workers"]
    with qtbot.waitSignal(dock.refreshed, timeout=10_000):
        toggle.trigger()
    return dock


def shown(model: WorkersModel) -> dict[str, dict[str, str]]:
    return {model.index(row, 0).data(): {title: model.index(row, column).data() for column, title in enumerate(TITLES)}
            for row in range(model.rowCount())}


def test_view_workers_lists_each_worker_with_its_state(qtbot, window):
    rows = shown(show_workers(qtbot, window).model)
    assert {name: row["State"] for name, row in rows.items()} == {
        "north": "Running", "south": "Idle", "east": "Lost", "west": "Stopped"}
    assert rows["north"]["Host"] and rows["north"]["Pid"] == str(os.getpid())


def test_a_running_worker_shows_its_run_and_its_runs_today(qtbot, window, workers):
    rows = shown(show_workers(qtbot, window).model)
    assert (rows["north"]["Current Run"], rows["north"]["Runs Today"], rows["south"]["Current Run"]) == (str(workers), "1", "")


def test_the_last_heartbeat_says_how_long_ago(qtbot, window):
    rows = shown(show_workers(qtbot, window).model)
    assert rows["east"]["Last Heartbeat"].endswith("(2 min ago)")
    assert rows["north"]["Last Heartbeat"].endswith("s ago)")


def test_the_status_line_counts_alive_lost_and_stopped(qtbot, window):
    dock = show_workers(qtbot, window)
    assert dock.status.text() == "2 alive, 1 lost (no heartbeat for a minute), 1 stopped"


def test_lost_is_painted_in_the_error_colours(qtbot, window):
    model = show_workers(qtbot, window).model
    [east] = [row for row in range(model.rowCount()) if model.index(row, 0).data() == "east"]
    assert model.index(east, STATE_COLUMN).data(Qt.ItemDataRole.BackgroundRole).name() == "#fee2e2"


def test_double_click_on_a_running_worker_opens_its_run(qtbot, window, workers):
    dock = show_workers(qtbot, window)
    [north] = [row for row in range(dock.model.rowCount()) if dock.model.index(row, 0).data() == "north"]
    rect = dock.view.visualRect(dock.model.index(north, RUN_COLUMN))
    qtbot.mouseClick(dock.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(dock.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: any(isinstance(w, RunWindow) and w.isVisible() and w.run_id == workers
                                for w in QApplication.topLevelWidgets()), timeout=10_000)


def test_the_dock_reads_again_while_shown_and_not_while_hidden(qtbot, window, db):
    dock = show_workers(qtbot, window)
    assert dock.timer.isActive()
    run_after = Registration(db, "late").__enter__()
    try:
        with qtbot.waitSignal(dock.refreshed, timeout=10_000):
            dock.timer.timeout.emit()
        assert "late" in shown(dock.model)
        dock.toggleViewAction().trigger()
        assert not dock.timer.isActive()
    finally:
        run_after.__exit__(None, None, None)


def test_the_model_answers_as_qt_expects(qtbot, qtmodeltester, window):
    qtmodeltester.check(show_workers(qtbot, window).model)


# -- closing the window while a worker is alive -------------------------------------------

def _window_executing_due_runs(qtbot, db, tmp_path) -> MainWindow:
    settings = Settings(QSettings(str(tmp_path / "due.ini"), QSettings.Format.IniFormat))
    settings.set("runs/execute_due", True)
    window = MainWindow(db, settings=settings)
    qtbot.addWidget(window)
    window.show()
    return window


def _close_with_one_run_waiting(qtbot, db, tmp_path, ids) -> tuple[list, list]:
    add_run(db, ids, scheduled_for=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
    window = _window_executing_due_runs(qtbot, db, tmp_path)
    qtbot.waitUntil(lambda: window.launcher.backlog is not None and window.launcher.backlog.scheduled == 1, timeout=10_000)
    informative: list[str] = []
    with answering(qtbot, QMessageBox.StandardButton.Yes, informative=informative) as asked:
        window.close()
    assert not window.isVisible()
    return asked, informative


def test_closing_with_runs_waiting_names_the_live_workers_that_will_execute_them(qtbot, db, workers, tmp_path):
    """north (running) and south (idle) heartbeat; east is lost, west stopped: only
    the live ones are named, and Close is the default (nothing waits on the window)."""
    asked, informative = _close_with_one_run_waiting(qtbot, db, tmp_path, add_organizations(db))
    [(question, default)] = asked
    assert question.startswith("1 scheduled run is waiting, the first due")
    assert default == "Close"
    assert informative[0].startswith("The workers north and south will execute it as it falls due: "
                                     "this window need not stay open")


def test_closing_with_runs_waiting_and_only_a_lost_worker_asks_to_keep_the_window_open(qtbot, db, tmp_path):
    with Registration(db, "east"):
        pass
    with db.write() as conn:  # east's process died a while ago
        conn.execute(sa.update(WORKERS).values(stopped_at=None,
                                               heartbeat_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=2)))
    asked, informative = _close_with_one_run_waiting(qtbot, db, tmp_path, add_organizations(db))
    [(question, default)] = asked
    assert question.startswith("1 scheduled run is waiting") and default == "Keep open"
    assert "only if a worker (enroller-desktop worker) or another Enroller Desktop window is open" in informative[0]
