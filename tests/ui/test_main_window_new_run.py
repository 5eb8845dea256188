"""New Run from the main window, end to end with the real engine."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from enroller_desktop import demo
from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.ui.main_window import MainWindow
from enroller_desktop.ui.new_run_dialog import NewRunDialog
from enroller_desktop.run_index import COLUMN_OF_KEY, STATUS_COLUMN
from enroller_desktop.ui.settings import Settings

from .answering import answering
from tests.builders import RUNS


@pytest.fixture
def demo_db(db):
    demo.load_demo(db, customers=400, seed=3, runs=False)  # the tests launch their own runs
    return db


@pytest.fixture
def window(qtbot, demo_db, tmp_path):
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.set("runs/poll_interval_ms", 50)
    settings.set("runs/execute_due", True)
    w = MainWindow(demo_db, settings=settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: not w.model.busy, timeout=10_000)
    yield w
    w.launcher.pool.waitForDone()
    w.close()


def open_new_run(qtbot, window: MainWindow) -> NewRunDialog:
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(NewRunDialog)
    qtbot.waitUntil(lambda: dialog.campaign.count() > 0, timeout=10_000)
    return dialog


def first_campaign_with_query_params(db) -> tuple[int, str]:
    with db.read() as conn:
        return tuple(conn.execute(sa.text(
            "SELECT c.id, c.name FROM campaigns c WHERE c.active AND EXISTS "
            "(SELECT 1 FROM query_params q WHERE q.campaign_id = c.id AND q.active) ORDER BY c.id LIMIT 1"
        )).one())


def test_a_run_from_new_run_goes_scheduled_in_progress_completed_with_its_counts(qtbot, window, demo_db):
    campaign_id, _name = first_campaign_with_query_params(demo_db)
    dialog = open_new_run(qtbot, window)
    with demo_db.read() as conn:
        org_id = conn.execute(sa.text("SELECT organization_id FROM campaigns WHERE id = :id"), {"id": campaign_id}).scalar_one()
    dialog.organization.setCurrentIndex(dialog.organization.findData(org_id))
    dialog.campaign.setCurrentIndex(dialog.campaign.findData(campaign_id))
    seen: list[tuple[str, object]] = []

    def record(*_args):
        for row in range(min(3, window.model.rowCount())):
            run = window.model.run_at(row)
            if run is not None and run.campaign and run.id == dialog.run_id:
                state = (run.status.value, window.model.index(row, STATUS_COLUMN).data(Qt.ItemDataRole.UserRole + 3))
                if not seen or seen[-1] != state:
                    seen.append(state)

    window.model.dataChanged.connect(record)
    window.model.rowsInserted.connect(record)
    dialog.later_button.setChecked(True)  # due at once: seen scheduled, then executed by the window
    dialog.scheduled_for.setDateTime(dialog.scheduled_for.dateTime().currentDateTimeUtc().addSecs(1))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dialog.run_id is not None, timeout=10_000)
    run_id = dialog.run_id
    qtbot.waitUntil(lambda: window.model.row_of_run(run_id) == 0 and window.model.run_at(0).status is RunStatus.COMPLETED, timeout=30_000)
    statuses = [s for s, _p in seen]
    assert statuses[0] == "scheduled" and statuses[-1] == "completed"
    assert "in_progress" in statuses or any(p is not None for _s, p in seen)  # the row showed it running
    with demo_db.read() as conn:
        counts = conn.execute(sa.select(RUNS.c.query_param_customers, RUNS.c.success).where(RUNS.c.id == run_id)).one()
    assert window.model.index(0, COLUMN_OF_KEY["query_param_customers"]).data() == f"{counts[0]:,}"
    assert window.model.index(0, COLUMN_OF_KEY["success"]).data() == f"{counts[1]:,}"


def test_customer_evaluation_finds_the_customer_as_you_type(qtbot, window, demo_db):
    with demo_db.read() as conn:
        customer_id, org_id, last_name = conn.execute(sa.text(
            "SELECT id, organization_id, last_name FROM customers WHERE last_name IS NOT NULL AND length(last_name) > 3 ORDER BY id LIMIT 1"
        )).one()
    dialog = open_new_run(qtbot, window)
    dialog.organization.setCurrentIndex(dialog.organization.findData(org_id))
    dialog.purpose.setCurrentIndex(dialog.purpose.findData(RunPurpose.CUSTOMER_EVALUATION))
    qtbot.keyClicks(dialog.customer_search, last_name)
    qtbot.waitUntil(lambda: dialog.customers.count() > 0, timeout=10_000)
    ids = [dialog.customers.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dialog.customers.count())]
    assert customer_id in ids
    dialog.reject()


def test_customer_evaluation_without_a_customer_says_so_and_keeps_the_dialog(qtbot, window, demo_db):
    dialog = open_new_run(qtbot, window)
    dialog.purpose.setCurrentIndex(dialog.purpose.findData(RunPurpose.CUSTOMER_EVALUATION))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible()
    assert "needs a customer" in dialog.message.text()
    dialog.reject()


def test_a_queued_run_launched_here_can_be_canceled_before_it_starts(qtbot, window, demo_db):
    from enroller_desktop.engine import runs

    campaign_id, _name = first_campaign_with_query_params(demo_db)
    window.launcher.pool.setMaxThreadCount(1)
    blocker = runs.create_run(demo_db, campaign_id=campaign_id)
    queued = runs.create_run(demo_db, campaign_id=campaign_id, scheduled_for=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
    window.launcher.cancel([queued])  # canceled while it waits
    qtbot.waitUntil(lambda: not window.launcher.busy, timeout=10_000)
    window.launcher.execute(blocker)
    window.launcher.execute(queued)
    qtbot.waitUntil(lambda: not window.launcher.executing, timeout=30_000)
    with demo_db.read() as conn:
        statuses = dict(conn.execute(sa.select(RUNS.c.id, RUNS.c.status).where(RUNS.c.id.in_([blocker, queued]))).all())
    assert statuses == {blocker: "completed", queued: "canceled"}


def test_a_run_scheduled_in_one_window_is_executed_by_a_window_opened_after_it_closed(qtbot, window, demo_db, tmp_path):
    campaign_id, _name = first_campaign_with_query_params(demo_db)
    dialog = open_new_run(qtbot, window)
    with demo_db.read() as conn:
        org_id = conn.execute(sa.text("SELECT organization_id FROM campaigns WHERE id = :id"), {"id": campaign_id}).scalar_one()
    dialog.organization.setCurrentIndex(dialog.organization.findData(org_id))
    dialog.campaign.setCurrentIndex(dialog.campaign.findData(campaign_id))
    dialog.later_button.setChecked(True)
    dialog.scheduled_for.setDateTime(dialog.scheduled_for.dateTime().currentDateTimeUtc().addSecs(4))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dialog.run_id is not None, timeout=10_000)
    run_id = dialog.run_id
    qtbot.waitUntil(lambda: window.launcher.backlog is not None and window.launcher.backlog.scheduled == 1, timeout=10_000)

    with answering(qtbot, QMessageBox.StandardButton.Yes) as asked:
        window.close()
    assert not window.isVisible()
    [(question, default)] = asked
    assert question.startswith("1 scheduled run is waiting") and default == "Keep open"
    qtbot.wait(5_000)  # past its time, and nobody executes it
    assert status_of(demo_db, run_id) is RunStatus.SCHEDULED

    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    second = MainWindow(demo_db, settings=settings)
    qtbot.addWidget(second)
    second.show()
    qtbot.waitUntil(lambda: status_of(demo_db, run_id) is RunStatus.COMPLETED, timeout=30_000)
    qtbot.waitUntil(lambda: not second.launcher.executing, timeout=10_000)
    second.close()


def test_closing_while_a_run_executes_here_asks_and_keep_open_keeps_it(qtbot, window, demo_db):
    from enroller_desktop.engine import runs
    from tests.builders import slow_campaign

    run_id = runs.create_run(demo_db, campaign_id=slow_campaign(demo_db))
    window.launcher.execute(run_id)
    qtbot.waitUntil(lambda: status_of(demo_db, run_id) is RunStatus.IN_PROGRESS, timeout=30_000)
    with answering(qtbot, QMessageBox.StandardButton.No) as asked:
        window.close()
    assert asked == [("1 run is executing in this window.", "Keep open")]
    assert window.isVisible()
    window.launcher.cancel([run_id])
    qtbot.waitUntil(lambda: not window.launcher.executing, timeout=30_000)
    assert status_of(demo_db, run_id) is RunStatus.CANCELED


def status_of(db, run_id: int) -> RunStatus:
    with db.read() as conn:
        return RunStatus(conn.execute(sa.select(RUNS.c.status).where(RUNS.c.id == run_id)).scalar_one())


def leave_nothing_waiting(qtbot, window, db, run_id: int) -> None:
    """Cancel a run left scheduled, so that closing the window has nothing to ask."""
    from enroller_desktop.engine import runs

    runs.cancel_run(db, run_id)
    window.launcher.backlog = None  # what a look after the cancel finds, not one before
    qtbot.waitUntil(lambda: window.launcher.backlog is not None and window.launcher.backlog.scheduled == 0, timeout=10_000)


def runs_count(db) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(RUNS)).scalar_one()


def test_new_run_starts_on_the_selected_run_s_organization_and_campaign(qtbot, window, demo_db):
    from enroller_desktop.engine import runs

    with demo_db.read() as conn:
        campaign_id, org_id = conn.execute(sa.text(
            "SELECT id, organization_id FROM campaigns ORDER BY organization_id DESC, id DESC LIMIT 1")).one()
    run_id = runs.create_run(demo_db, campaign_id=campaign_id, scheduled_for=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    window.refresh()
    qtbot.waitUntil(lambda: window.model.row_of_run(run_id) is not None, timeout=10_000)
    row = window.model.row_of_run(run_id)
    qtbot.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.view.visualRect(window.model.index(row, 2)).center())
    dialog = open_new_run(qtbot, window)
    qtbot.waitUntil(lambda: dialog.campaign.currentData() == campaign_id, timeout=10_000)
    assert dialog.organization.currentData() == org_id
    dialog.reject()
    leave_nothing_waiting(qtbot, window, demo_db, run_id)


def test_the_customer_search_shows_only_for_a_customer_evaluation(qtbot, window):
    dialog = open_new_run(qtbot, window)
    assert not dialog.customer_search.isVisible() and not dialog.customers.isVisible()
    dialog.purpose.setCurrentIndex(dialog.purpose.findData(RunPurpose.CUSTOMER_EVALUATION))
    assert dialog.customer_search.isVisible() and dialog.customers.isVisible()
    dialog.purpose.setCurrentIndex(dialog.purpose.findData(RunPurpose.DEFAULT))
    assert not dialog.customer_search.isVisible()
    dialog.reject()


def test_a_run_on_an_ended_campaign_is_created_only_after_saying_why_it_would_be_not_applicable(qtbot, window, demo_db):
    campaign_id, _name = first_campaign_with_query_params(demo_db)
    ended = dt.date.today() - dt.timedelta(days=2)
    with demo_db.write() as conn:
        conn.execute(sa.text("UPDATE campaigns SET ends_on = :ended WHERE id = :id"), {"ended": ended, "id": campaign_id})
    window.refresh()
    before = runs_count(demo_db)
    dialog = open_new_run(qtbot, window)
    with demo_db.read() as conn:
        org_id = conn.execute(sa.text("SELECT organization_id FROM campaigns WHERE id = :id"), {"id": campaign_id}).scalar_one()
    dialog.organization.setCurrentIndex(dialog.organization.findData(org_id))
    dialog.campaign.setCurrentIndex(dialog.campaign.findData(campaign_id))
    dialog.later_button.setChecked(True)  # not executed at once: the test reads what was created

    with answering(qtbot, QMessageBox.StandardButton.No) as asked:
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    [(question, default)] = asked
    assert question.startswith("This run would end Not Applicable: the as-of date ")
    assert f"after the campaign ended ({ended.isoformat()})" in question and default == "Go back"
    qtbot.waitUntil(lambda: dialog.buttons.isEnabled(), timeout=10_000)
    assert dialog.isVisible() and runs_count(demo_db) == before

    with answering(qtbot, QMessageBox.StandardButton.Yes):
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: dialog.run_id is not None, timeout=10_000)
    assert runs_count(demo_db) == before + 1
    leave_nothing_waiting(qtbot, window, demo_db, dialog.run_id)


@pytest.mark.parametrize("appearance", ["dark", "light"])
def test_the_dialogs_message_is_drawn_whole_in_the_red_that_reads_on_its_palette(qtbot, qapp, sqlite_db, tmp_path, appearance):
    from enroller_desktop.ui import theme
    from tests.builders import campaign, organization
    from tests.pictures import area_of, assert_colour_drawn, assert_text_whole, share_of, shoot

    campaign(sqlite_db, organization(sqlite_db))
    chosen = theme.Appearance(qapp, "light")
    try:
        dialog = NewRunDialog(sqlite_db)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.campaign.count() > 0, timeout=10_000)
        chosen.set_choice(appearance)  # View ▸ Appearance, switched while the dialog is open
        qtbot.waitUntil(lambda: theme.is_dark(dialog.palette()) == (appearance == "dark"))
        dialog.purpose.setCurrentIndex(dialog.purpose.findData(RunPurpose.CUSTOMER_EVALUATION))
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        assert "needs a customer" in dialog.message.text()
        picture = shoot(dialog, tmp_path / f"new-run-message-{appearance}.png")
        message = area_of(dialog.message, dialog)
        red, other = (theme.ALARM_DARK, theme.ALARM) if appearance == "dark" else (theme.ALARM, theme.ALARM_DARK)
        assert_colour_drawn(picture, message, red, least=0.01, what="the message")
        assert share_of(picture, message, other, tolerance=8) == 0
        assert_text_whole(dialog.message)
        dialog.reject()
    finally:
        chosen.set_choice("system")
        chosen.setParent(None)
