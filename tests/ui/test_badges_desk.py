"""The status badges follow the palette: dark tints with light text on a dark
palette, pale tints with dark text on a light one, readable on both."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor

from enroller_desktop.db.enums import RunStatus
from enroller_desktop.ui import theme
from enroller_desktop.run_index import STATUS_COLUMN
from enroller_desktop.ui.theme import status_colours

from tests.builders import add_organizations, add_runs
from .test_index_columns_fit import open_at


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(QColor(a)), _luminance(QColor(b))), reverse=True)
    return (la + 0.05) / (lb + 0.05)


@pytest.fixture(params=["light", "dark"])
def palette(request, qapp):
    appearance = theme.Appearance(qapp, request.param)
    yield request.param
    appearance.set_choice("system")
    appearance.setParent(None)


def test_each_badge_reads_on_its_palette(palette, qapp):
    colours = status_colours(qapp.palette())
    base = qapp.palette().color(qapp.palette().ColorRole.Base).name()
    for status in RunStatus:
        background, text = colours[status]
        assert contrast(background, text) >= 4.5, status
        # A badge is a tint of the table's own ground, not a light patch on a dark table.
        assert (QColor(background).lightness() < 128) == (palette == "dark"), status
        assert contrast(background, base) < 4.5, status


def test_the_runs_table_paints_the_palettes_badges(qtbot, palette, sqlite_db, tmp_path):
    add_runs(sqlite_db, add_organizations(sqlite_db), 6)
    window = open_at(qtbot, sqlite_db, tmp_path, 1366, 768)
    qtbot.waitUntil(lambda: window.model.rowCount() == 6, timeout=10_000)
    view = window.view
    rect = view.visualRect(window.model.index(0, STATUS_COLUMN))
    image = view.viewport().grab().toImage()
    status = window.model.run_at(0).status
    background = QColor(status_colours(view.palette())[status][0])
    badge = QColor(image.pixel(QPoint(rect.left() + 8, rect.center().y())))
    assert abs(badge.lightness() - background.lightness()) < 25
    window.close()
