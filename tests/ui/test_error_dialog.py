"""An unexpected exception: a dialog with the traceback and Copy, a line in the log,
and a program that carries on. pytest-qt's own exception capture is switched
off here, so that the program's hook is the one that sees them."""

from __future__ import annotations

import logging
import sys
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton

from enroller_desktop.ui.error_dialog import ErrorReporter

pytestmark = pytest.mark.qt_no_exception_capture


@pytest.fixture
def reporter(qapp):
    hooks = sys.excepthook, threading.excepthook
    reporter = ErrorReporter(qapp, log_file="/var/log/example.log")
    reporter.install()
    yield reporter
    sys.excepthook, threading.excepthook = hooks
    if reporter.dialog is not None:
        reporter.dialog.close()
    reporter.setParent(None)


def failing_button(qtbot) -> QPushButton:
    button = QPushButton("Fail")
    qtbot.addWidget(button)

    def refresh_the_runs():
        raise ValueError("the runs could not be counted")

    button.clicked.connect(refresh_the_runs)
    button.show()
    return button


def test_an_exception_in_a_slot_shows_its_traceback(qtbot, reporter):
    qtbot.mouseClick(failing_button(qtbot), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=10_000)
    details = reporter.dialog.details.toPlainText()
    assert "ValueError: the runs could not be counted" in details
    assert "in refresh_the_runs" in details
    assert details.startswith("Enroller Desktop ")  # the versions come first, for the report


def test_copy_puts_the_details_on_the_clipboard(qtbot, reporter):
    qtbot.mouseClick(failing_button(qtbot), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=10_000)
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(reporter.dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == reporter.dialog.details.toPlainText()
    assert "ValueError: the runs could not be counted" in QGuiApplication.clipboard().text()


def test_the_exception_is_logged_with_its_traceback(qtbot, reporter, caplog):
    with caplog.at_level(logging.ERROR, logger="enroller_desktop.ui.error_dialog"):
        qtbot.mouseClick(failing_button(qtbot), Qt.MouseButton.LeftButton)
    [record] = [r for r in caplog.records if r.name == "enroller_desktop.ui.error_dialog"]
    assert record.exc_info[0] is ValueError


def test_the_program_carries_on_after_the_exception(qtbot, reporter):
    button = failing_button(qtbot)
    clicks: list[bool] = []
    button.clicked.connect(lambda: clicks.append(True))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=10_000)
    reporter.dialog.close()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert clicks == [True, True]
    assert reporter.caught_count == 2


def test_a_second_exception_is_added_to_the_open_dialog(qtbot, reporter):
    button = failing_button(qtbot)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=10_000)
    first = reporter.dialog
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: first.details.toPlainText().count("ValueError: the runs could not be counted") == 2, timeout=10_000)
    assert reporter.dialog is first


def test_an_exception_on_another_thread_is_shown_on_the_interface_thread(qtbot, reporter):
    def export_in_background():
        raise OSError("disk full")

    thread = threading.Thread(target=export_in_background)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: reporter.dialog is not None and reporter.dialog.isVisible(), timeout=10_000)
    assert "OSError: disk full" in reporter.dialog.details.toPlainText()
    assert reporter.dialog.thread() is QGuiApplication.instance().thread()

