"""Light and dark: the palette can be forced, icons follow its text colour, and
screenshots of the welcome view, the main window and a run's window in both
palettes are saved (to the test's folder) to be looked at, and read back: the
badges, bars and labels a regression would change."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from enroller_desktop.ui import theme
from enroller_desktop.ui.main_window import MainWindow
from enroller_desktop.ui.settings import Settings
from tests.pictures import (
    area_of,
    assert_badges_drawn,
    assert_cells_drawn,
    assert_durations_drawn,
    assert_funnel_bars_drawn,
    assert_labels_whole,
    assert_not_blank,
    shoot,
)


@pytest.fixture(params=["light", "dark"])
def palette(request, qapp):
    appearance = theme.Appearance(qapp, request.param)
    yield request.param
    appearance.set_choice("system")  # gives the platform's palette back
    appearance.setParent(None)


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    from enroller_desktop import demo
    from enroller_desktop.db.engine import open_database

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite3'}"
    db = open_database(url)
    demo.load_demo(db, customers=400, seed=1)
    db.dispose()
    return url


def window_on(qtbot, db, tmp_path, size: tuple[int, int] = (1500, 900)) -> MainWindow:
    window = MainWindow(db, settings=Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    window.resize(*size)
    with qtbot.waitSignal(window.emptinessKnown, timeout=10_000):
        window.show()
    return window


def test_a_forced_palette_is_dark_or_light_as_asked(palette):
    assert theme.is_dark() == (palette == "dark")


def test_action_icons_are_drawn_in_the_text_colour(palette):
    image = theme.icon("refresh").pixmap(24, 24).toImage()
    drawn = [image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())]
    strokes = [c for c in drawn if c.alpha() > 200]
    assert strokes
    text = QGuiApplication.palette().windowText().color()
    assert all(abs(c.lightness() - text.lightness()) < 40 for c in strokes)


def test_a_screenshot_of_the_welcome_view(qtbot, palette, sqlite_db, tmp_path):
    window = window_on(qtbot, sqlite_db, tmp_path)
    assert window.welcome_shown
    picture = shoot(window, tmp_path / f"welcome_{palette}.png")
    assert_not_blank(picture, area_of(window.welcome, window), what="the welcome view")
    assert assert_labels_whole(window.welcome) >= 2
    window.close()


@pytest.mark.parametrize("size", [(1366, 768), (1024, 700), (1920, 1080)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_welcome_view_shows_its_descriptions_whole(qtbot, sqlite_db, tmp_path, size):
    """Each button's description gets the height its wrapped lines need at the
    width it has (at 1366x768 the second line was cut in half)."""
    window = window_on(qtbot, sqlite_db, tmp_path, size)
    welcome = window.welcome
    assert window.welcome_shown
    # A short database name (a test's is a long temporary path) leaves the column narrow.
    welcome.database_label.setText("sqlite:///enroller.sqlite3")
    QApplication.sendPostedEvents()
    window.layout().activate()
    for button in (welcome.demo_button, welcome.connect_button):
        qtbot.waitUntil(lambda: button.height() > 0)
        assert button.height() >= button.heightForWidth(button.width()), button.text()
        assert button.width() <= 560
    shoot(window, tmp_path / f"welcome_{size[0]}x{size[1]}.png")
    assert_labels_whole(welcome)
    window.close()


def test_a_screenshot_of_the_main_window_on_demo_data(qtbot, palette, demo_url, tmp_path):
    from enroller_desktop.db.engine import open_database

    db = open_database(demo_url)
    window = window_on(qtbot, db, tmp_path)
    qtbot.waitUntil(lambda: not window.model.busy and window.model.rowCount() > 0, timeout=10_000)
    window.trends_dock.show()
    with qtbot.waitSignal(window.trends_dock.updated, timeout=10_000):
        window.trends_dock.refresh()
    picture = shoot(window, tmp_path / f"main_window_{palette}.png")
    assert_badges_drawn(picture, window)
    assert_durations_drawn(picture, window, window.trends_dock)
    window.close()
    db.dispose()


def test_a_screenshot_of_a_run_window(qtbot, palette, demo_url, tmp_path):
    from enroller_desktop.db.engine import open_database
    from enroller_desktop.db.enums import RunPurpose, RunStatus
    from enroller_desktop.ui.run_window import show_run_window

    db = open_database(demo_url)
    window = window_on(qtbot, db, tmp_path)
    qtbot.waitUntil(lambda: not window.model.busy and window.model.rowCount() > 0, timeout=10_000)
    completed = next(
        run.id for run in map(window.model.run_at, range(window.model.rowCount()))
        if run is not None and run.status is RunStatus.COMPLETED and run.purpose is RunPurpose.DEFAULT and run.success
    )
    run_window = show_run_window(db, completed, window)
    qtbot.waitSignal(run_window.details_loaded, timeout=10_000).wait()
    run_window.resize(1300, 820)
    blockers = run_window.sole_blockers.run_table  # read on the thread pool after the details
    qtbot.waitUntil(lambda: blockers.item(blockers.rowCount() - 1, 2) is not None, timeout=10_000)
    picture = shoot(run_window, tmp_path / f"run_window_{palette}.png")
    assert assert_funnel_bars_drawn(picture, run_window) >= 3
    counts = blockers.model()
    assert_cells_drawn(picture, run_window, blockers, [counts.index(row, column) for row in range(counts.rowCount()) for column in (1, 2)])
    run_window.close()
    window.close()
    db.dispose()
