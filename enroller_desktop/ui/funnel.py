"""The summary's funnel flowchart: Query Param Customers → Potential Customers →
Potential Events → Valid Potentials → Enrolled, drawn in a :class:`QGraphicsScene`.

Each box is a row: its words on the left (the name, the count and its share of
the box before, and for Valid Potentials and Enrolled the runs index's name for
the same count), and on the right a track holding a bar as wide as the count's
share of the widest box. The bar never runs under the words: they have their own
part of the row. A stage of 0, and a funnel that is all zeros, draw no bar; a
stage not reached draws a dashed outline. Each arrow says how many fell out
between two boxes.

A box or an arrow, clicked, or focused and activated with Enter or Space, emits
the :class:`FunnelSlice` of the potentials it counts (see ``db.stages``). The view
takes keyboard focus like any other widget (Tab); inside it the arrow keys walk
the boxes and arrows in order. An item whose count is unknown (not reached), or
of a run that writes no potentials (Criterion Stats), is disabled: it has no
list to show.

The scene has a fixed logical size and the view fits it to the window, so the
chart scales with it. Items compute their geometry when their numbers change,
never in ``paint()``, and take their colours from the palette when painting, so
they read on light and dark palettes alike.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsScene, QGraphicsView, QStyleOptionGraphicsItem, QWidget

from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.db.stages import FunnelBox, FunnelSlice, arrow_count, box_count, lists_potentials

SCENE_WIDTH = 520.0
BOX_HEIGHT = 64.0
ARROW_HEIGHT = 40.0
MARGIN = 10.0
TEXT_WIDTH = 290.0  # the part of a box that holds its words; the bar track is the rest
TRACK_GAP = 10.0
PADDING = 8.0
MIN_BAR_WIDTH = 6.0
ARROW_HEAD = 9.0

_TITLE_FONT = QFont()
_TITLE_FONT.setPointSizeF(9.5)
_TITLE_FONT.setBold(True)
_BODY_FONT = QFont()
_BODY_FONT.setPointSizeF(8.5)


def _palette(widget: QWidget | None) -> QPalette:
    return widget.palette() if widget is not None else QApplication.palette()


def _number(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _share(part: int | None, whole: int | None) -> str:
    if part is None or whole is None:
        return ""
    if whole == 0:
        return "—"
    return f"{part / whole:.1%}"


class _SliceItem(QGraphicsItem):
    """A funnel item that lights up under the mouse or with keyboard focus and,
    clicked or activated, asks its scene to show its slice of the potentials
    (``self.slice``)."""

    def _init_item(self) -> None:
        self.selected_slice = False
        self._hovered = False
        self.setAcceptHoverEvents(True)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsFocusable)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set_listable(self, listable: bool) -> None:
        self.setEnabled(listable)
        self.setCursor(Qt.CursorShape.PointingHandCursor if listable else Qt.CursorShape.ArrowCursor)

    def activate(self) -> None:
        scene = self.scene()
        if self.isEnabled() and isinstance(scene, FunnelScene):
            scene.slice_clicked.emit(self.slice)

    def hoverEnterEvent(self, event) -> None:
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self._hovered = False
        self.update()

    def focusInEvent(self, event) -> None:
        self.update()

    def focusOutEvent(self, event) -> None:
        self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self.activate()
            event.accept()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.activate()
            event.accept()
        else:
            event.ignore()

    def _focus_pen(self, palette: QPalette) -> QPen:
        return QPen(palette.color(QPalette.ColorRole.Highlight), 1.5, Qt.PenStyle.DotLine)


class BoxItem(_SliceItem):
    """One box of the funnel: its words on the left, its proportional bar on the right."""

    def __init__(self, box: FunnelBox, top: float) -> None:
        super().__init__()
        self.box = box
        self.slice = FunnelSlice(box)
        self._rect = QRectF(MARGIN, top, SCENE_WIDTH - 2 * MARGIN, BOX_HEIGHT)
        left = self._rect.left() + TEXT_WIDTH + TRACK_GAP
        self.track_rect = QRectF(left, top + PADDING, self._rect.right() - PADDING - left, BOX_HEIGHT - 2 * PADDING)
        self.bar_rect = QRectF(self.track_rect.left(), self.track_rect.top(), 0, self.track_rect.height())
        self.count: int | None = None
        self.lines: tuple[str, ...] = ("", "")
        self.text_rects: list[QRectF] = []
        self._drawn_lines: list[tuple[str, QFont]] = []
        self._init_item()

    def set_numbers(self, count: int | None, widest: int | None, previous: int | None, note: str = "",
                    missing: str = "not reached yet") -> None:
        self.prepareGeometryChange()
        self.count = count
        track = self.track_rect
        if count is None or not widest or count == 0:
            width = 0.0
        else:
            width = max(MIN_BAR_WIDTH, track.width() * count / widest)
        self.bar_rect = QRectF(track.left(), track.top(), width, track.height())
        if count is None:
            numbers = missing
        elif self.box.previous is None:
            numbers = _number(count)
        else:
            numbers = f"{_number(count)} ({_share(count, previous)} of {self.box.previous.label})"
        lines = [self.box.label, numbers]
        if note:
            lines.append(note)
        elif self.box.previous is None:
            lines.append("the candidates of the query params")
        elif self.box.index_label:
            lines.append(f"the runs index's {self.box.index_label}")
        self.lines = tuple(lines)
        self._layout_text()
        self.setToolTip(f"Show in Potentials the {_number(count)} candidates that reached {self.box.label}")
        self.update()

    def _layout_text(self) -> None:
        """Each line's rectangle, as wide as its text (elided to the words' part of the box)."""
        self.text_rects = []
        self._drawn_lines = []
        fonts = [_TITLE_FONT] + [_BODY_FONT] * (len(self.lines) - 1)
        heights = [QFontMetricsF(font).height() for font in fonts]
        y = self._rect.top() + (BOX_HEIGHT - sum(heights)) / 2
        x = self._rect.left() + PADDING
        room = TEXT_WIDTH - PADDING
        for line, font, height in zip(self.lines, fonts, heights):
            metrics = QFontMetricsF(font)
            shown = metrics.elidedText(line, Qt.TextElideMode.ElideRight, room)
            self.text_rects.append(QRectF(x, y, min(room, metrics.horizontalAdvance(shown) + 1), height))
            self._drawn_lines.append((shown, font))
            y += height

    @property
    def bar_width(self) -> float:
        return self.bar_rect.width()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-3, -3, 3, 3)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        palette = _palette(widget)
        highlight = QColor(palette.color(QPalette.ColorRole.Highlight))
        mid = palette.color(QPalette.ColorRole.Mid)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QPen(highlight if self.selected_slice else mid, 2.5 if self.selected_slice else 1.0)
        if self.count is None:
            frame.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(frame)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self._rect, 6, 6)
        if self.bar_rect.width() > 0:
            fill = QColor(highlight)
            fill.setAlpha(170 if self._hovered or self.selected_slice else 110)
            painter.setPen(QPen(highlight, 1.2))
            painter.setBrush(QBrush(fill))
            painter.drawRoundedRect(self.bar_rect, 4, 4)
        painter.setPen(palette.color(QPalette.ColorRole.Text if self.isEnabled() or self.count is not None else QPalette.ColorRole.PlaceholderText))
        for (text, font), rect in zip(self._drawn_lines, self.text_rects):
            painter.setFont(font)
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        if self.hasFocus():
            painter.setPen(self._focus_pen(palette))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(self._rect.adjusted(-2, -2, 2, 2), 7, 7)


class ArrowItem(_SliceItem):
    """The arrow between two boxes, labelled with how many fell out; its arrowhead
    and its label are part of its shape, so either can be clicked."""

    def __init__(self, into: FunnelBox, top: float) -> None:
        super().__init__()
        self.slice = FunnelSlice(into, fell_out=True)
        x = MARGIN + TEXT_WIDTH / 2
        self._start = QPointF(x, top + 4)
        self._end = QPointF(x, top + ARROW_HEIGHT - 4)
        self._label_rect = QRectF(x + 14, top + ARROW_HEIGHT / 2 - 11, SCENE_WIDTH - MARGIN - x - 14, 22)
        self._path = self._arrow_path()
        self._shape = self._clickable_shape()
        self.fell_out: int | None = None
        self.label = ""
        self._init_item()

    def _arrow_path(self) -> QPainterPath:
        path = QPainterPath(self._start)
        shaft_end = QPointF(self._end.x(), self._end.y() - ARROW_HEAD)
        path.lineTo(shaft_end)
        head = QPolygonF([QPointF(self._end.x() - ARROW_HEAD / 1.6, shaft_end.y()), self._end, QPointF(self._end.x() + ARROW_HEAD / 1.6, shaft_end.y())])
        path.addPolygon(head)
        path.closeSubpath()
        return path

    def _clickable_shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(14)
        shape = stroker.createStroke(self._path)
        shape.addRect(self._label_rect)
        return shape.simplified()

    def set_numbers(self, fell_out: int | None) -> None:
        self.fell_out = fell_out
        if fell_out is None:
            self.label = ""
        elif fell_out == 0:
            self.label = "none fell out"
        else:
            self.label = f"−{fell_out:,} fell out"
        self.setToolTip(f"Show in Potentials the {_number(fell_out)} candidates that fell out before {self.slice.box.label}")
        self.update()

    def boundingRect(self) -> QRectF:
        return self._shape.boundingRect().adjusted(-3, -3, 3, 3)

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        palette = _palette(widget)
        colour = palette.color(QPalette.ColorRole.Highlight if self._hovered or self.selected_slice else QPalette.ColorRole.Text)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, 2.5 if self.selected_slice else 1.6))
        painter.setBrush(colour)
        painter.drawPath(self._path)
        if self.label:
            painter.setFont(_BODY_FONT)
            painter.setPen(colour)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.label)
        if self.hasFocus():
            painter.setPen(self._focus_pen(palette))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self._shape.boundingRect().adjusted(-2, -2, 2, 2))


class FunnelScene(QGraphicsScene):
    slice_clicked = Signal(object)  # FunnelSlice

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.boxes: dict[FunnelBox, BoxItem] = {}
        self.arrows: dict[FunnelBox, ArrowItem] = {}
        self.items_in_order: list[_SliceItem] = []
        top = MARGIN
        for box in FunnelBox:
            if box.previous is not None:
                arrow = ArrowItem(box, top)
                self.arrows[box] = arrow
                self.addItem(arrow)
                self.items_in_order.append(arrow)
                top += ARROW_HEIGHT
            item = BoxItem(box, top)
            self.boxes[box] = item
            self.addItem(item)
            self.items_in_order.append(item)
            top += BOX_HEIGHT
        self.setSceneRect(0, 0, SCENE_WIDTH, top + MARGIN)

    def set_run(self, run) -> None:
        """Show the counts of ``run`` (an ``enroller_runs`` row): None is a stage not reached."""
        counts = {box: box_count(run, box) for box in FunnelBox}
        listable = lists_potentials(run.purpose)
        widest = max((count for count in counts.values() if count is not None), default=None)
        for box, item in self.boxes.items():
            previous = counts.get(box.previous) if box.previous is not None else None
            note = "would be enrolled: the index's Success" if box is FunnelBox.ENROLLED and run.purpose is RunPurpose.CAMPAIGN_SIMULATION else ""
            if run.status is RunStatus.NOT_APPLICABLE:
                missing = "not applicable: nobody was checked"
            else:
                missing = "not reached yet" if listable else "not counted by Criterion Stats"
            item.set_numbers(counts[box], widest, previous, note, missing=missing)
            item.set_listable(listable and counts[box] is not None)
            if not listable:
                item.setToolTip("Criterion Stats counts the candidates without writing them: there is no list to show")
        for box, arrow in self.arrows.items():
            fell_out = arrow_count(run, box)
            arrow.set_numbers(fell_out)
            arrow.set_listable(listable and fell_out is not None)

    def show_selected(self, selected: FunnelSlice | None) -> None:
        """Outline the box or arrow whose potentials the Potentials tab shows."""
        for item in self.items_in_order:
            item.selected_slice = item.slice == selected
            item.update()

    def move_focus(self, step: int) -> None:
        """Focus the next (``step`` 1) or previous (-1) enabled box or arrow."""
        enabled = [item for item in self.items_in_order if item.isEnabled()]
        if not enabled:
            return
        current = self.focusItem()
        if current in enabled:
            index = min(max(enabled.index(current) + step, 0), len(enabled) - 1)
        else:
            index = 0 if step > 0 else len(enabled) - 1
        enabled[index].setFocus(Qt.FocusReason.OtherFocusReason)


class FunnelView(QGraphicsView):
    """The funnel, fitted to the view whatever its size; one stop of the window's
    Tab order, whose arrow keys walk the boxes and arrows."""

    def __init__(self, scene: FunnelScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setMinimumSize(240, 260)
        self.setBackgroundRole(QPalette.ColorRole.Window)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Funnel: arrow keys choose a box or an arrow, Enter lists its potentials")

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        scene = self.scene()
        if scene.focusItem() is None or not scene.focusItem().isEnabled():
            scene.move_focus(1)

    def keyPressEvent(self, event) -> None:
        step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_Left: -1}.get(event.key())
        if step is not None:
            self.scene().move_focus(step)
            event.accept()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
