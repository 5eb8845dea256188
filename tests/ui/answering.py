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


@contextmanager
def saving(qtbot, path, *, times_as_shown: bool | None = None, timeout_ms: int = 5_000):
    """Answer the Export to CSV dialog the block opens: ``path`` typed as the file
    name, "Times as shown" ticked or unticked (left as offered when None), Save.
    Fails when no such dialog came within the time. Yields what was offered:
    (the box's text, whether it was ticked, whether it could be ticked).

    ``path`` must not exist yet: Qt's dialog would ask whether to replace it, a
    question this helper does not answer (the test would wait on it forever)."""
    from pathlib import Path

    from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QFileDialog, QLineEdit

    assert not Path(path).exists(), f"{path} exists: Qt would ask whether to replace it; save to a new file"

    offered: list[tuple[str, bool, bool]] = []
    deadline = QDeadlineTimer(timeout_ms)

    def answer():
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QFileDialog) and dialog.objectName() == "exportDialog":
            box = dialog.findChild(QCheckBox, "timesAsShown")
            offered.append((box.text(), box.isChecked(), box.isEnabled()))
            if times_as_shown is not None and box.isEnabled() and box.isChecked() != times_as_shown:
                box.click()
            dialog.findChild(QLineEdit, "fileNameEdit").setText(str(path))
            dialog.findChild(QDialogButtonBox, "buttonBox").button(QDialogButtonBox.StandardButton.Save).click()
        elif not deadline.hasExpired():
            QTimer.singleShot(20, answer)

    QTimer.singleShot(0, answer)
    yield offered
    qtbot.waitUntil(lambda: bool(offered) or deadline.hasExpired(), timeout=timeout_ms + 1_000)
    assert offered, "no Export to CSV dialog was opened"
