"""Preview equals a Campaign Simulation at the same as-of and leaves every table
byte-for-byte as it was, on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from enroller_desktop import demo
from enroller_desktop.db import explain_queries as eq
from enroller_desktop.db.models import Base
from enroller_desktop.engine.preview import PreviewCanceled, preview_run
from enroller_desktop.engine.runs import create_run, execute_run
from enroller_desktop.db.enums import RunPurpose
from tests.pictures import area_of, assert_not_blank, assert_text_whole, shoot

AS_OF = dt.datetime(2026, 3, 16, 15, tzinfo=dt.timezone.utc)


def every_row(db) -> dict[str, list[tuple]]:
    with db.read() as conn:
        return {t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr) for t in Base.metadata.sorted_tables}


@pytest.fixture
def demo_data(db):
    demo.load_data(db, customers=300, seed=5, today=AS_OF.date())
    return db


def test_preview_equals_a_campaign_simulation_and_writes_nothing(demo_data):
    db = demo_data
    with db.read() as conn:
        campaigns = conn.execute(sa.text("SELECT id FROM campaigns WHERE active ORDER BY id")).scalars().all()
    for campaign_id in campaigns:
        before = every_row(db)
        preview = preview_run(db, campaign_id, as_of=AS_OF)
        assert every_row(db) == before, f"campaign {campaign_id} left rows"
        run_id = create_run(db, campaign_id=campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=AS_OF)
        outcome = execute_run(db, run_id)
        if preview.not_applicable:
            assert outcome.status.value == "not_applicable"
            continue
        assert preview.counts == {k: outcome.counts[k] for k in preview.counts}
        with db.read() as conn:
            assert preview.sole_blockers == eq.sole_blockers(conn, run_id).alone


def test_a_preview_judges_in_worker_processes_as_a_run_does_and_writes_nothing(demo_data, monkeypatch):
    """The preview takes the engine's own path to the contact verdicts: past the
    pool threshold (lowered here so 300 customers pass it) they are judged in
    worker processes, and still none is stored."""
    from enroller_desktop.engine import contacts

    monkeypatch.setattr(contacts, "POOL_THRESHOLD", 0)
    monkeypatch.setattr(contacts, "CHUNK_SIZE", 50)
    db = demo_data
    with db.read() as conn:
        campaign_id = conn.execute(sa.text(
            "SELECT id FROM campaigns WHERE active AND (uses_email OR uses_phone OR uses_sms) ORDER BY id")).scalars().first()
    before = every_row(db)
    messages = []
    preview = preview_run(db, campaign_id, as_of=AS_OF, progress=lambda fraction, message: messages.append(message))
    assert every_row(db) == before
    assert any("processes" in message for message in messages), messages
    outcome = execute_run(db, create_run(db, campaign_id=campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=AS_OF))
    assert preview.counts == {k: outcome.counts[k] for k in preview.counts}


def test_a_canceled_preview_writes_nothing(demo_data):
    class Cancel:
        cancelled = True

    before = every_row(demo_data)
    with pytest.raises(PreviewCanceled):
        preview_run(demo_data, 1, as_of=AS_OF, cancel=Cancel())
    assert every_row(demo_data) == before


def test_the_preview_button_of_new_run_shows_what_a_simulation_counts(qtbot, demo_data, shots):
    from PySide6.QtCore import QDateTime, Qt, QTimeZone

    from enroller_desktop.ui.new_run_dialog import NewRunDialog

    db = demo_data
    dialog = NewRunDialog(db)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.campaign.count() > 0, timeout=10_000)
    assert dialog.preview.isVisible() and dialog.preview.button.isEnabled()
    campaign_id = dialog.campaign.currentData()
    dialog.as_of_given.setChecked(True)
    dialog.as_of.setDateTime(QDateTime.fromSecsSinceEpoch(int(AS_OF.timestamp()), QTimeZone.utc()))
    before = every_row(db)
    with qtbot.waitSignal(dialog.preview.shown, timeout=30_000) as shown:
        qtbot.mouseClick(dialog.preview.button, Qt.MouseButton.LeftButton)
    assert every_row(db) == before
    preview = shown.args[0]
    run_id = create_run(db, campaign_id=campaign_id, purpose=RunPurpose.CAMPAIGN_SIMULATION, as_of=preview.as_of)
    outcome = execute_run(db, run_id)
    if not preview.not_applicable:
        assert preview.counts == {k: outcome.counts[k] for k in preview.counts}
        assert "A run now: Query Param Customers" in dialog.preview.result.text()
    qtbot.waitUntil(lambda: not dialog.preview.progress.isVisible())  # the preview's job has finished
    picture = shoot(dialog, shots / "new-run-preview.png")
    assert_not_blank(picture, area_of(dialog.preview.result, dialog), what="the preview's counts")
    assert_text_whole(dialog.preview.result)
    dialog.purpose.setCurrentIndex(dialog.purpose.findData(RunPurpose.CRITERION_STATS.value))
    assert not dialog.preview.isVisible()
