"""A screenshot read back: what a test asserts about the picture it saved, so that a
picture a regression would change (a blank pane, a badge or bar in the wrong
colour, a chart without its marks, text cut at its edge) fails the test instead
of waiting for a person to look at it. Pixels are sampled on a grid, which is
enough to find any mark a few pixels wide."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget


def shoot(widget: QWidget, path: Path) -> QImage:
    """Save what ``widget`` draws to ``path``, and give the picture back to read."""
    image = widget.grab().toImage()
    assert image.save(str(path)), path
    return image


def area_of(widget: QWidget, window: QWidget) -> QRect:
    """Where ``widget`` stands in a picture of ``window``."""
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def cell_area(view, index, window: QWidget) -> QRect:
    """Where the cell at ``index`` of a table ``view`` stands in a picture of ``window``."""
    return view.visualRect(index).translated(view.viewport().mapTo(window, QPoint(0, 0)))


def scene_area(view, scene_rect, window: QWidget) -> QRect:
    """Where ``scene_rect`` of a graphics ``view``'s scene stands in a picture of ``window``."""
    return view.mapFromScene(scene_rect).boundingRect().translated(view.viewport().mapTo(window, QPoint(0, 0)))


def assert_durations_drawn(picture: QImage, window, dock) -> None:
    """The trends dock's median durations are drawn as a line of the accent colour
    inside their plot."""
    from enroller_desktop.ui.theme import ACCENT

    box = scene_area(dock.charts, dock.duration_plot.getViewBox().sceneBoundingRect(), window)
    assert_colour_drawn(picture, box, ACCENT, least=0.0005, what="the median durations")


def _sampled(image: QImage, rect: QRect, step: int) -> list[QColor]:
    rect = rect.intersected(image.rect())
    return [image.pixelColor(x, y) for x in range(rect.left(), rect.right() + 1, step)
            for y in range(rect.top(), rect.bottom() + 1, step)]


def _near(a: QColor, b: QColor, tolerance: int) -> bool:
    return max(abs(a.red() - b.red()), abs(a.green() - b.green()), abs(a.blue() - b.blue())) <= tolerance


def share_of(image: QImage, rect: QRect, colour: QColor | str, *, tolerance: int = 24, step: int = 2) -> float:
    """The share of the pixels of ``rect`` that are ``colour`` (within ``tolerance`` a channel)."""
    colour = QColor(colour)
    pixels = _sampled(image, rect, step)
    return sum(_near(pixel, colour, tolerance) for pixel in pixels) / max(1, len(pixels))


def assert_colour_drawn(image: QImage, rect: QRect, colour: QColor | str, *, least: float = 0.002, what: str = "") -> None:
    """Some of ``rect`` is painted in ``colour``: a bar, a curve, a badge, a message."""
    share = share_of(image, rect, colour)
    assert share >= least, f"{what or rect}: {QColor(colour).name()} covers {share:.4f} of it, below {least}"


def _distance(a: QColor, b: QColor) -> int:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())


def filled_share(image: QImage, bar: QRect, colour: QColor | str) -> float:
    """How far across a progress ``bar`` the fill reaches: the share of a row near
    its top (above any text) whose pixels are nearer ``colour`` than the empty
    trough at the bar's right end is."""
    colour = QColor(colour)
    y = bar.top() + max(3, bar.height() // 5)
    xs = range(bar.left() + 3, bar.right() - 2)
    trough = image.pixelColor(bar.right() - 4, y)
    return sum(_distance(image.pixelColor(x, y), colour) < _distance(trough, colour) // 2 for x in xs) / len(xs)


def assert_not_blank(image: QImage, rect: QRect, *, colours: int = 3, marks: int = 12, what: str = "") -> None:
    """``rect`` holds marks (text, lines, fills) and is not one flat ground: more than
    ``colours`` distinct colours, and at least ``marks`` pixels off its commonest one."""
    step = 1 if rect.width() * rect.height() < 40_000 else 2
    pixels = [pixel.rgb() for pixel in _sampled(image, rect, step)]
    assert pixels, f"{what or rect} is outside the picture"
    distinct = set(pixels)
    off_ground = len(pixels) - max(pixels.count(colour) for colour in distinct)
    assert len(distinct) > colours and off_ground >= marks, \
        f"{what or rect} is blank: {len(distinct)} colours, {off_ground} pixels off its ground"


def assert_text_whole(widget) -> None:
    """A label's or button's text is drawn whole: a wrapped label gets the height its
    lines need at its width; any other text fits the width it is drawn in (not cut
    at the right edge)."""
    if getattr(widget, "wordWrap", lambda: False)():
        needed = widget.heightForWidth(widget.width())
        assert needed <= widget.height(), f"{widget.text()!r} needs {needed} px high, has {widget.height()}"
        return
    text = widget.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    room = widget.contentsRect().width()
    if hasattr(widget, "iconSize") and not widget.icon().isNull():
        room -= widget.iconSize().width()
    needed = max((widget.fontMetrics().horizontalAdvance(line) for line in text.splitlines()), default=0)
    assert needed <= room, f"{text!r} needs {needed} px, has {room}"


def assert_badges_drawn(picture: QImage, window) -> int:
    """Every status badge the runs index shows whole in a picture of ``window`` is
    drawn in its status's colour of the palette; how many were looked at."""
    from enroller_desktop.run_index import STATUS_COLUMN
    from enroller_desktop.ui.theme import status_colours

    view, model = window.view, window.model
    colours = status_colours(view.palette())
    seen = 0
    for row in range(model.rowCount()):
        index = model.index(row, STATUS_COLUMN)
        run = model.run_at(row)
        if run is None or not view.viewport().rect().contains(view.visualRect(index)):
            continue
        rect = cell_area(view, index, window)
        pixel = picture.pixelColor(rect.left() + 8, rect.center().y())
        assert _near(pixel, QColor(colours[run.status][0]), 24), (row, run.status, pixel.name())
        seen += 1
    assert seen, "no badge in the picture"
    return seen


def assert_funnel_bars_drawn(picture: QImage, window) -> int:
    """Every funnel box of a run's window with a count draws its bar in the palette's
    highlight, from the start of its track; how many bars were looked at."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QPalette

    view = window.funnel_view
    highlight = view.palette().color(QPalette.ColorRole.Highlight)
    ground = picture.pixelColor(area_of(view.viewport(), window).topLeft() + QPoint(2, 2))
    seen = 0
    for box in window.funnel_scene.boxes.values():
        if box.bar_width <= 0:
            continue
        bar = box.bar_rect
        inside = view.viewport().mapTo(window, view.mapFromScene(QPointF(bar.left() + 3, bar.bottom() - 3)))
        pixel = picture.pixelColor(inside)
        # The bar is the highlight laid over the ground: nearer the highlight than the ground is.
        assert _distance(pixel, highlight) < _distance(ground, highlight) - 30, (box.lines[:1], pixel.name())
        seen += 1
    assert seen, "no funnel bar in the picture"
    return seen


def assert_labels_whole(widget: QWidget) -> int:
    """Every visible one-line plain-text label under ``widget`` shows its text whole;
    how many were looked at."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QLabel

    seen = 0
    for label in widget.findChildren(QLabel):
        text = label.text()
        if (not label.isVisibleTo(widget) or not text or label.wordWrap() or "\n" in text
                or label.textFormat() == Qt.TextFormat.RichText or (label.textFormat() == Qt.TextFormat.AutoText and "<" in text)):
            continue
        assert_text_whole(label)
        seen += 1
    return seen


def assert_cells_drawn(picture: QImage, window: QWidget, view, indexes) -> None:
    """Each cell at ``indexes`` of a table ``view`` shows its text in a picture of
    ``window``: marks in the cell, and every line of the text fits its width."""
    margin = 2 * (view.style().pixelMetric(view.style().PixelMetric.PM_FocusFrameHMargin) + 1)
    for index in indexes:
        text = str(index.data() or "")
        assert text, f"cell {index.row()}, {index.column()} is empty"
        assert_not_blank(picture, cell_area(view, index, window), colours=2, what=repr(text))
        needed = max(view.fontMetrics().horizontalAdvance(line) for line in text.splitlines())
        assert needed + margin <= view.visualRect(index).width(), f"{text!r} needs {needed} px in a cell of {view.visualRect(index).width()}"
