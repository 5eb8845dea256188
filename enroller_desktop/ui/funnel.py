"""The summary's funnel flowchart: Query Param Customers → Potential Customers →
Valid Potentials → Enrolled, drawn in a :class:`QGraphicsScene`.

Each box's bar is as wide as its count's share of the widest (never thinner than
a sliver, so a small stage still shows; none at all for a stage of 0, whose box
outline and "0" say it, rather than a sliver drawn across its text); its text
gives the count and the share of the box before. Each arrow says how many fell out between two boxes. Clicking a box or an
arrow emits the :class:`FunnelSlice` of the potentials it stands for.

The scene has a fixed logical size and the view fits it to the window, so the
chart scales with it. Items compute their geometry when their numbers change,
never in ``paint()``, and take their colours from the palette when painting, so
they read on light and dark palettes alike.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPainterPathStroker, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsScene, QGraphicsView, QStyleOptionGraphicsItem, QWidget

from enroller_desktop.db.detail_queries import FunnelBox, FunnelSlice
from enroller_desktop.db.enums import RunPurpose, RunStatus

SCENE_WIDTH = 420.0
BOX_HEIGHT = 64.0
ARROW_HEIGHT = 46.0
MARGIN = 10.0
MIN_BAR_WIDTH = 6.0
ARROW_HEAD = 9.0

_TITLE_FONT = QFont()
_TITLE_FONT.setPointSizeF(9.5)
_TITLE_FONT.setBold(True)
_BODY_FONT = QFont()
_BODY_FONT.setPointSizeF(9.0)


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
    """A funnel item that lights up under the mouse and, clicked, asks its scene
    to show its slice of the potentials (``self.slice``)."""

    def hoverEnterEvent(self, event) -> None:
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self._hovered = False
        self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            scene = self.scene()
            if isinstance(scene, FunnelScene):
                scene.slice_clicked.emit(self.slice)
            event.accept()


class BoxItem(_SliceItem):
    """One box of the funnel: a full-width row with a bar proportional to its count."""

    def __init__(self, box: FunnelBox, top: float) -> None:
        super().__init__()
        self.box = box
        self.slice = FunnelSlice(box)
        self.selected_slice = False
        self._rect = QRectF(MARGIN, top, SCENE_WIDTH - 2 * MARGIN, BOX_HEIGHT)
        self._bar = QRectF(self._rect)
        self.count: int | None = None
        self.lines = ("", "")
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._hovered = False

    def set_numbers(self, count: int | None, widest: int | None, previous: int | None, note: str = "", why_none: str = "") -> None:
        self.prepareGeometryChange()
        self.count = count
        full = self._rect.width()
        if count is None or not widest:
            width = full
        elif count == 0:
            width = 0.0
        else:
            width = max(MIN_BAR_WIDTH, full * count / widest)
        self._bar = QRectF(self._rect.center().x() - width / 2, self._rect.top(), width, BOX_HEIGHT)
        if count is None and (why_none or self.box.previous is not None):
            detail = why_none or "not reached yet"
        elif self.box.previous is None:
            detail = "the candidates of the query params"
        else:
            detail = f"{_share(count, previous)} of {self.box.previous.label}"
        title = f"{self.box.label}: {_number(count)}"
        self.lines = (title, f"{detail}{note}")
        self.setToolTip(f"Show in Potentials the {_number(count)} candidates that reached {self.box.label}")

    @property
    def bar_width(self) -> float:
        return self._bar.width()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        palette = _palette(widget)
        highlight = QColor(palette.color(QPalette.ColorRole.Highlight))
        fill = QColor(highlight)
        fill.setAlpha(150 if self._hovered or self.selected_slice else 95)
        outline = QPen(highlight if self.count is not None else palette.color(QPalette.ColorRole.Mid), 2.5 if self.selected_slice else 1.2)
        if self.count is None:
            outline.setStyle(Qt.PenStyle.DashLine)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        empty = self._bar.width() == 0
        # The whole (the widest box's width); a stage of 0 shows its selection on it.
        painter.setPen(outline if empty and self.selected_slice else QPen(palette.color(QPalette.ColorRole.Mid), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(self._rect, 6, 6)
        if not empty:
            painter.setPen(outline)
            painter.setBrush(QBrush(fill) if self.count is not None else Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(self._bar, 6, 6)
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        title_rect = QRectF(self._rect.left(), self._rect.top() + 8, self._rect.width(), 24)
        detail_rect = QRectF(self._rect.left(), self._rect.top() + 32, self._rect.width(), 22)
        painter.setFont(_TITLE_FONT)
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignCenter, self.lines[0])
        painter.setFont(_BODY_FONT)
        painter.drawText(detail_rect, Qt.AlignmentFlag.AlignCenter, self.lines[1])



class ArrowItem(_SliceItem):
    """The arrow between two boxes, labelled with how many fell out; its arrowhead
    and its label are part of its shape, so either can be clicked."""

    def __init__(self, into: FunnelBox, top: float) -> None:
        super().__init__()
        self.slice = FunnelSlice(into, fell_out=True)
        self.selected_slice = False
        x = SCENE_WIDTH / 2
        self._start = QPointF(x, top + 4)
        self._end = QPointF(x, top + ARROW_HEIGHT - 4)
        self._label_rect = QRectF(x + 14, top + ARROW_HEIGHT / 2 - 11, SCENE_WIDTH / 2 - 14 - MARGIN, 22)
        self._path = self._arrow_path()
        self._shape = self._clickable_shape()
        self.fell_out: int | None = None
        self.label = ""
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._hovered = False

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
        return self._shape.boundingRect().adjusted(-2, -2, 2, 2)

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



class FunnelScene(QGraphicsScene):
    slice_clicked = Signal(object)  # FunnelSlice

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.boxes: dict[FunnelBox, BoxItem] = {}
        self.arrows: dict[FunnelBox, ArrowItem] = {}
        top = MARGIN
        for box in FunnelBox:
            if box.previous is not None:
                arrow = ArrowItem(box, top)
                self.arrows[box] = arrow
                self.addItem(arrow)
                top += ARROW_HEIGHT
            item = BoxItem(box, top)
            self.boxes[box] = item
            self.addItem(item)
            top += BOX_HEIGHT
        self.setSceneRect(0, 0, SCENE_WIDTH, top + MARGIN)

    def set_counts(self, counts: dict[FunnelBox, int | None], purpose: RunPurpose, status: RunStatus | None = None) -> None:
        """The run's counts of each box (None: the stage was not reached, or the run was not applicable)."""
        why_none = "not applicable: nobody was checked" if status is RunStatus.NOT_APPLICABLE else ""
        widest = max((count for count in counts.values() if count is not None), default=None)
        for box, item in self.boxes.items():
            previous = counts.get(box.previous) if box.previous is not None else None
            note = " (would be enrolled: simulation)" if box is FunnelBox.ENROLLED and purpose is RunPurpose.CAMPAIGN_SIMULATION else ""
            item.set_numbers(counts.get(box), widest, previous, note, why_none)
        for box, arrow in self.arrows.items():
            before, after = counts.get(box.previous), counts.get(box)
            arrow.set_numbers(None if before is None or after is None else before - after)

    def show_selected(self, selected: FunnelSlice | None) -> None:
        """Outline the box or arrow whose potentials the Potentials tab shows."""
        for item in (*self.boxes.values(), *self.arrows.values()):
            item.selected_slice = item.slice == selected
            item.update()


class FunnelView(QGraphicsView):
    """The funnel, fitted to the view whatever its size."""

    def __init__(self, scene: FunnelScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setMinimumSize(240, 260)
        self.setBackgroundRole(QPalette.ColorRole.Window)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
