"""The Summary tab reads at a glance: the fields' pane is as wide as its longest
line and the funnel has the rest; an event's message is never cut without a
way to read it whole."""

from __future__ import annotations

import sqlalchemy as sa
from PySide6.QtCore import QItemSelectionModel, Qt

from enroller_desktop.db import models as m
from enroller_desktop.db.enums import EventLevel, RunStep
from enroller_desktop.ui.summary_pane import PLACEHOLDER
from tests.builders import T0, build_run

from .test_run_window import open_window

LONG = ("18 new contact verdict(s) computed in 0.1 s; 9 phone numbers were refused by the number plan of their region, "
        "and 3 email addresses named a domain that has no mail server: each is a reason shown in Why Not Enrolled")


def shown_window(qtbot, db):
    built = build_run(db)
    with db.write() as conn:
        conn.execute(sa.insert(m.EnrollerRunEvent).values(run_id=built.run_id, stage=RunStep.ENROLLER_RUN_CUSTOMERS, level=EventLevel.INFO,
                                                          message=LONG, created_at=T0))
    window = open_window(qtbot, db, built.run_id)
    window.resize(1320, 820)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.summary_pane._content_width > 0, timeout=10_000)
    return window


def test_the_fields_pane_is_as_wide_as_its_fields_and_the_funnel_has_the_rest(qtbot, db):
    window = shown_window(qtbot, db)
    view, model = window.summary_view, window.summary_model
    metrics = view.fontMetrics()
    value_room = view.viewport().width() - view.columnWidth(0)  # the value column stretches to the pane's edge
    for row in range(model.rowCount()):
        assert metrics.horizontalAdvance(model.index(row, 0).data()) <= view.columnWidth(0)
        assert metrics.horizontalAdvance(model.index(row, 1).data()) <= value_room
    left, right = window.summary_pane._splitter.sizes()
    assert left < right
    # The rest is the funnel's, beside the sole blockers' table (as wide as its content).
    assert window.funnel_view.width() + window.sole_blockers.run_table.width() > 2 * window.summary_tabs.width()
    assert window.funnel_view.width() > window.summary_tabs.width()


def test_the_events_tab_widens_the_pane_and_gives_the_width_back(qtbot, db):
    window = shown_window(qtbot, db)
    narrow = window.summary_tabs.width()
    window.summary_tabs.setCurrentWidget(window.event_view)
    qtbot.waitUntil(lambda: window.summary_tabs.width() > narrow, timeout=5_000)
    assert window.event_detail.isVisible()
    window.summary_tabs.setCurrentWidget(window.summary_view)
    qtbot.waitUntil(lambda: window.summary_tabs.width() == narrow, timeout=5_000)
    assert not window.event_detail.isVisible()


def event_index(window, message: str):
    model = window.event_model
    message_column = [column.key for column in model.COLUMNS].index("message")
    for stage in range(model.rowCount()):
        parent = model.index(stage, 0)
        for row in range(model.rowCount(parent)):
            if model.index(row, message_column, parent).data() == message:
                return model.index(row, message_column, parent)
    raise AssertionError(f"no event {message!r}")


def test_a_long_message_is_read_whole_in_its_tooltip_and_in_the_detail_line(qtbot, db):
    window = shown_window(qtbot, db)
    window.summary_tabs.setCurrentWidget(window.event_view)
    view = window.event_view
    index = event_index(window, LONG)
    assert view.fontMetrics().horizontalAdvance(LONG) > view.columnWidth(index.column())  # cut on screen...
    assert index.data(Qt.ItemDataRole.ToolTipRole) == LONG  # ...whole in its tooltip
    assert window.event_detail.text() == PLACEHOLDER
    view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    assert window.event_detail.text().endswith("\n" + LONG)  # ...and whole, wrapped, under the events
    assert window.event_detail.wordWrap()
