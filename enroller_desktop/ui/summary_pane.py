"""The left pane of a run's Summary tab, sized to read at a glance.

The Summary's fields take the width of their longest line and no more, so the
funnel beside them gets the rest of the window; the Events sub-tab, whose
messages need room, widens the pane while it is shown (and gives the width back
when the Summary sub-tab returns). An event's message is never cut without a
way to read it: its tooltip is the whole message, and the detail line under the
events shows the selected event's message whole, wrapped.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtWidgets import QFrame, QLabel, QSplitter, QTableView, QTabWidget, QTreeView, QWidget

from enroller_desktop.ui.table_models import EventTreeModel

#: The share of the window the Events sub-tab takes, at least.
EVENTS_SHARE = 0.55
#: The narrowest the Summary's pane gets: its header line and Export button.
MIN_SUMMARY_WIDTH = 300
PLACEHOLDER = "Select an event to read its whole message here."


class EventDetail(QLabel):
    """The current event's time, level and whole message, wrapped and selectable."""

    def __init__(self, view: QTreeView, parent: QWidget | None = None) -> None:
        super().__init__(PLACEHOLDER, parent)
        self.setObjectName("eventDetail")
        self.setAccessibleName("Event message")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMargin(6)
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._view = view
        view.selectionModel().currentChanged.connect(self.show_event)
        view.model().modelReset.connect(lambda: self.show_event(view.currentIndex()))

    def show_event(self, index: QModelIndex) -> None:
        model = self._view.model()
        if not index.isValid() or not index.parent().isValid():  # nothing, or a stage's row
            self.setText(PLACEHOLDER)
            return
        columns = [column.key for column in EventTreeModel.COLUMNS]

        def text(key: str) -> str:
            return model.index(index.row(), columns.index(key), index.parent()).data() or ""

        self.setText(f"{text('created_at')} · {text('level')}\n{text('message')}")


class SummaryPane(QObject):
    """Keeps the splitter's left pane as wide as the shown sub-tab needs."""

    def __init__(self, splitter: QSplitter, tabs: QTabWidget, fields: QTableView, events: QWidget) -> None:
        super().__init__(splitter)
        self._splitter = splitter
        self._tabs = tabs
        self._fields = fields
        self._events = events
        self._content_width = 0
        # A bigger or smaller window changes the funnel's room, not the fields'.
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        tabs.currentChanged.connect(lambda _index: self.fit())

    def fields_changed(self) -> None:
        """The fields were shown anew: fit again only when their width changed
        (a poll of a running run must not undo the user's dragging)."""
        view = self._fields
        view.resizeColumnToContents(0)
        width = view.columnWidth(0) + view.sizeHintForColumn(1) + 2 * view.frameWidth() + view.verticalScrollBar().sizeHint().width() + 12
        if width != self._content_width:
            self._content_width = width
            self.fit()

    def left_width(self) -> int:
        total = sum(self._splitter.sizes()) or self._splitter.width()
        fields = max(self._content_width, MIN_SUMMARY_WIDTH)
        if self._tabs.currentWidget() is self._events:
            return max(fields, int(total * EVENTS_SHARE))
        return min(fields, int(total * EVENTS_SHARE))

    def fit(self) -> None:
        total = sum(self._splitter.sizes())
        if total <= 0:
            return
        left = self.left_width()
        self._splitter.setSizes([left, total - left])
