"""Keyboard conventions shared by the windows.

- **Tab in a table** walks the cells of the current row, left to right as they
  are shown (Shift+Tab back); from the row's last cell it leaves the table for the
  next control, as Tab leaves any other widget. Qt's own convention (Tab moves to
  the next cell, row after row) would keep a keyboard user inside a table of a
  million rows; leaving after one row lets them read a row cell by cell and still
  reach the filters and buttons. The arrow keys, Page Up/Down and Home/End walk
  the rows and cells as usual.
- **Ctrl+Tab / Ctrl+Page Down** (and Ctrl+Shift+Tab / Ctrl+Page Up) switch the
  tabs of a window's main tab widget from anywhere in it, wherever the focus is.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QTabWidget, QWidget


class _RowCellWalker(QObject):
    def eventFilter(self, view: QAbstractItemView, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            return False
        if event.key() == Qt.Key.Key_Tab:
            return _step(view, 1)
        if event.key() == Qt.Key.Key_Backtab:
            return _step(view, -1)
        return False


def _step(view: QAbstractItemView, step: int) -> bool:
    """Move the current cell ``step`` shown columns along its row; False (let the
    Tab leave the table) when there is no such cell."""
    current = view.currentIndex()
    if not current.isValid():
        return False
    header = view.horizontalHeader()
    visual = header.visualIndex(current.column()) + step
    while 0 <= visual < header.count():
        column = header.logicalIndex(visual)
        if not header.isSectionHidden(column):
            view.setCurrentIndex(current.siblingAtColumn(column))
            return True
        visual += step
    return False


_walker: _RowCellWalker | None = None


def walk_row_cells_with_tab(view: QAbstractItemView) -> None:
    """Give ``view`` the Tab convention of this module."""
    global _walker
    if _walker is None:
        _walker = _RowCellWalker()
    view.setTabKeyNavigation(False)  # what the filter does not take, Qt treats as leaving
    view.installEventFilter(_walker)


def switch_tabs_by_keyboard(window: QWidget, tabs: QTabWidget) -> list[QAction]:
    """Ctrl+Tab / Ctrl+Page Down and back switch ``tabs`` from anywhere in ``window``."""

    def step(by: int) -> None:
        tabs.setCurrentIndex((tabs.currentIndex() + by) % tabs.count())

    actions = []
    for by, keys in ((1, ("Ctrl+Tab", "Ctrl+PgDown")), (-1, ("Ctrl+Shift+Tab", "Ctrl+Backtab", "Ctrl+PgUp"))):
        action = QAction("Next tab" if by > 0 else "Previous tab", window)
        action.setShortcuts([QKeySequence(key) for key in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda checked=False, by=by: step(by))
        window.addAction(action)
        actions.append(action)
    return actions
