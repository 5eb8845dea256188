"""Regression: PySide6 6.12.0 on Python 3.11 aborted ("none_dealloc") after data()
returned None a few hundred times. Repaint a large table whose empty cells are
None, many times over, and the process must still be standing."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QTableView


class SparseModel(QAbstractTableModel):
    def rowCount(self, parent=QModelIndex()):  # noqa: B008
        return 0 if parent.isValid() else 100_000

    def columnCount(self, parent=QModelIndex()):  # noqa: B008
        return 0 if parent.isValid() else 14

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and (index.row() + index.column()) % 3 == 0:
            return f"{index.row():,}"
        return None  # most cells, most roles: nothing


def test_repainting_a_large_table_of_mostly_none_many_times_does_not_crash(qtbot):
    view = QTableView()
    qtbot.addWidget(view)
    model = SparseModel()
    view.setModel(model)
    view.verticalHeader().setDefaultSectionSize(22)
    view.resize(1200, 800)
    view.show()
    bar = view.verticalScrollBar()
    for step in range(300):
        bar.setValue((step * 7919) % max(1, bar.maximum()))
        view.viewport().repaint()
    image = view.grab()
    assert not image.isNull()
    assert model.data(model.index(0, 0)) == "0"
