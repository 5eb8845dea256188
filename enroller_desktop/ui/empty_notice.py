"""What a table says when nothing matches: a line in the middle of its viewport
("No potentials match these filters"), instead of an empty grid that could as
well be still loading or broken."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel


class EmptyNotice(QObject):
    """Shows ``words()`` over ``view`` while its model says it holds no row.

    ``count_signal`` is the model's signal carrying the number of matching rows
    (known only once the count arrives, so "Counting…" never reads "no rows")."""

    def __init__(self, view: QAbstractItemView, count_signal, words: Callable[[], str]) -> None:
        super().__init__(view)
        self.view = view
        self.words = words
        self.label = QLabel(view.viewport())
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setForegroundRole(self.label.foregroundRole().PlaceholderText)
        self.label.setAccessibleName("No rows")
        self.label.hide()
        count_signal.connect(self._counted)
        view.model().modelReset.connect(self.label.hide)
        view.viewport().installEventFilter(self)

    def _counted(self, count: int) -> None:
        if count:
            self.label.hide()
            return
        self.label.setText(self.words())
        self._place()
        self.label.show()

    def _place(self) -> None:
        self.label.setGeometry(self.view.viewport().rect().adjusted(20, 20, -20, -20))

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False
