"""``make run``'s first launch (``--demo-if-empty``): the window shows at once, on
the welcome view with the demo's progress bar, and the demo loads behind it; a
database with data, or one connected to later, is never filled."""

from __future__ import annotations

import sqlalchemy as sa
from PySide6.QtCore import QSettings

from enroller_desktop.db.models import EnrollerRun, Organization
from enroller_desktop.ui.app import open_main_window
from enroller_desktop.ui.first_launch import load_demo_when_empty
from enroller_desktop.ui.settings import Settings

from tests.builders import add_organizations, add_runs
from tests.pictures import area_of, assert_labels_whole, assert_not_blank, shoot

DEMO_CUSTOMERS = 300


def first_launch(qtbot, db_url, tmp_path):
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window = open_main_window(db_url, settings)  # as run_app does: shown before the event loop turns
    qtbot.addWidget(window)
    window.welcome.demo_customers = DEMO_CUSTOMERS
    load_demo_when_empty(window)
    return window


def count(db, table) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def test_first_launch_on_an_empty_database_shows_the_window_before_the_demo_finishes(qtbot, db_url, tmp_path, db, shots):
    window = first_launch(qtbot, db_url, tmp_path)
    assert window.isVisible()
    with qtbot.waitSignal(window.emptinessKnown, timeout=10_000) as known:
        pass
    assert known.args == [True]
    # The demo is loading now, and the window already shows what is happening.
    welcome = window.welcome
    assert welcome.loading
    assert window.welcome_shown and welcome.isVisible()
    assert welcome.progress.isVisible() and not welcome.demo_button.isEnabled()
    assert count(window.db, EnrollerRun.__table__) == 0
    window.resize(1366, 768)
    picture = shoot(window, shots / "first-launch.png")
    assert_not_blank(picture, area_of(welcome, window), what="the welcome view")
    assert_not_blank(picture, area_of(welcome.progress, window), what="the demo's progress bar")
    assert assert_labels_whole(welcome) >= 2

    with qtbot.waitSignal(welcome.demoLoaded, timeout=120_000):
        pass
    assert count(window.db, Organization.__table__) == 5
    runs = count(window.db, EnrollerRun.__table__)
    assert runs > 0
    qtbot.waitUntil(lambda: window.model.rowCount() == runs and not window.welcome_shown, timeout=10_000)
    window.close()


def test_first_launch_on_a_database_with_data_loads_nothing(qtbot, db_url, tmp_path, db):
    add_runs(db, add_organizations(db), 3)
    organizations = count(db, Organization.__table__)
    window = first_launch(qtbot, db_url, tmp_path)
    with qtbot.waitSignal(window.emptinessKnown, timeout=10_000) as known:
        pass
    assert known.args == [False]
    assert not window.welcome.loading and not window.welcome_shown
    assert count(db, Organization.__table__) == organizations
    assert count(db, EnrollerRun.__table__) == 3
    window.close()
