"""The run window's finish: a stage of 0 in the funnel, the Export buttons' icon,
and a size and place remembered between windows and launches."""

from __future__ import annotations


import sqlalchemy as sa
from PySide6.QtCore import QPointF, QRect
from PySide6.QtGui import QColor

from enroller_desktop.db import models as m
from enroller_desktop.db.stages import FunnelBox
from enroller_desktop.ui import theme
from enroller_desktop.ui.main_window import MainWindow
from enroller_desktop.ui.run_window import RunWindow
from tests.builders import build_run

from .test_main_window import make_settings
from .test_run_window import open_window


def run_enrolling_nobody(db) -> int:
    run_id = build_run(db).run_id
    with db.write() as conn:
        conn.execute(sa.update(m.EnrollerRun).where(m.EnrollerRun.id == run_id).values(eligible=0, success=0))
    return run_id


def test_a_stage_of_zero_draws_no_bar_across_its_text(qtbot, db, shots):
    window = open_window(qtbot, db, run_enrolling_nobody(db))
    window.show()
    qtbot.waitExposed(window)
    enrolled = window.funnel_scene.boxes[FunnelBox.ENROLLED]
    assert enrolled.count == 0 and enrolled.bar_width == 0
    assert enrolled.lines[:2] == ("Enrolled", "0 (— of Valid Potentials)")

    view = window.funnel_view
    image = view.viewport().grab().toImage()
    box = enrolled.boundingRect()
    # Where a sliver would stand (the start of the bar's track) looks like the box's empty left part.
    middle = view.mapFromScene(QPointF(enrolled.track_rect.left() + 2, box.top() + 5))
    left = view.mapFromScene(QPointF(box.left() + 20, box.top() + 5))
    assert QColor(image.pixel(middle)) == QColor(image.pixel(left))
    assert window.grab().save(str(shots / "run_window_funnel_zero.png"))


def test_the_export_buttons_show_the_export_icon(qtbot, db):
    window = open_window(qtbot, db, build_run(db).run_id)
    expected = theme.icon("export").cacheKey()
    assert window._export_buttons and all(button.icon().cacheKey() == expected for button in window._export_buttons)


def test_the_events_rows_are_as_tall_as_the_tables_rows(qtbot, db):
    window = open_window(qtbot, db, build_run(db).run_id)
    window.show()
    window.summary_tabs.setCurrentWidget(window.event_view)
    qtbot.waitUntil(lambda: window.event_model.rowCount() > 0, timeout=10_000)
    table_row = window.summary_view.rowHeight(0)
    stage = window.event_model.index(0, 0)
    first_event = window.event_model.index(0, 0, stage)
    assert table_row > window.fontMetrics().height()
    assert window.event_view.visualRect(stage).height() == window.event_view.visualRect(first_event).height() == table_row


def open_from_main_window(qtbot, main: MainWindow, run_id: int) -> RunWindow:
    main.open_run(run_id)
    window = next(w for w in main.findChildren(RunWindow) if w.run_id == run_id and w.isVisible())
    qtbot.waitExposed(window)
    return window


def place_within_the_screen(window: RunWindow) -> QRect:
    """Somewhere else than where it opened, inside the screen and no smaller than
    the window can be: restoring would correct either."""
    screen, smallest = window.screen().availableGeometry(), window.minimumSizeHint()
    width = max(smallest.width(), screen.width() - 8)
    return QRect(screen.right() + 1 - width, screen.top() + 40, width, max(smallest.height(), screen.height() - 200))


def test_the_run_window_opens_at_the_size_and_place_it_was_closed_at(qtbot, db, tmp_path):
    run_id = build_run(db).run_id
    settings = make_settings(tmp_path)
    main = MainWindow(db, settings=settings)
    qtbot.addWidget(main)
    main.show()
    window = open_from_main_window(qtbot, main, run_id)
    placed = place_within_the_screen(window)
    window.setGeometry(placed)
    qtbot.waitUntil(lambda: window.geometry() == placed, timeout=10_000)
    window.close()

    again = open_from_main_window(qtbot, main, run_id)
    assert again.geometry() == placed
    again.close()
    main.close()


def test_the_run_windows_place_is_remembered_across_launches(qtbot, db, tmp_path):
    run_id = build_run(db).run_id
    first = MainWindow(db, settings=make_settings(tmp_path))
    qtbot.addWidget(first)
    window = open_from_main_window(qtbot, first, run_id)
    placed = place_within_the_screen(window)
    window.setGeometry(placed)
    qtbot.waitUntil(lambda: window.geometry() == placed, timeout=10_000)
    window.close()
    first.close()

    second = MainWindow(db, settings=make_settings(tmp_path))  # the same settings file, read anew
    qtbot.addWidget(second)
    again = open_from_main_window(qtbot, second, run_id)
    assert again.geometry() == placed
    again.close()
    second.close()
