"""Answering the questions a window asks, as a person would, in a test."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QDeadlineTimer, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox


@contextmanager
def answering(qtbot, button: QMessageBox.StandardButton, *, timeout_ms: int = 5_000, informative: list | None = None):
    """Answer the question the block asks with ``button``; fails when no question
    came within the time. Yields what was asked: (text, default button's text);
    ``informative`` receives each question's informative text."""
    asked: list[tuple[str, str]] = []
    deadline = QDeadlineTimer(timeout_ms)

    def answer():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            default = box.defaultButton()
            asked.append((box.text(), default.text() if default else ""))
            if informative is not None:
                informative.append(box.informativeText())
            box.button(button).click()
        elif not deadline.hasExpired():
            QTimer.singleShot(20, answer)

    QTimer.singleShot(0, answer)
    yield asked
    qtbot.waitUntil(lambda: bool(asked) or deadline.hasExpired(), timeout=timeout_ms + 1_000)
    assert asked, "no question was asked"
