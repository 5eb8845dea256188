"""An unexpected exception: logged, shown with its details and a Copy button, and
the program carries on.

:class:`ErrorReporter` takes ``sys.excepthook`` (which PySide calls for an
exception escaping a slot or an overridden Qt method) and
``threading.excepthook``. An exception raised on another thread crosses to the
interface thread through a queued signal before any widget is made. While one
dialog is open, later exceptions are added to it rather than stacking windows
a person must close one by one.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from html import escape
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QStyle,
    QHBoxLayout,
    QVBoxLayout,
    QWidget,
)

from enroller_desktop.ui.help_dialogs import version_lines
from enroller_desktop.errors import one_line

log = logging.getLogger(__name__)


class ErrorDialog(QDialog):
    def __init__(self, summary: str, details: str, *, log_file: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unexpected error")
        self.setObjectName("errorDialog")
        self.resize(720, 420)
        where = f"It is also written to the log:<br><code>{log_file}</code>" if log_file else "The log could not be written."
        message = QLabel(
            f"<b>Something went wrong: {escape(summary)}</b><br>"
            "What you were doing may not have finished; the program carries on. "
            f"Copy the details below into your report to the support team. {where}"
        )
        message.setWordWrap(True)
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addWidget(message, 1)

        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setAccessibleName("Error details")
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setPlainText("\n".join(version_lines()) + "\n\n" + details)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("&Copy", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip("Copy the details to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)
        buttons.button(QDialogButtonBox.StandardButton.Close).setFocus()

    def add(self, details: str) -> None:
        self.details.appendPlainText("\n" + details)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.details.toPlainText())
        self.copy_button.setText("Copied")


class ErrorReporter(QObject):
    """Installs the hooks; shows :class:`ErrorDialog` on the interface thread."""

    caught = Signal(str, str)  # one-line summary, the traceback

    def __init__(self, app: QApplication, *, log_file: str | None = None) -> None:
        super().__init__(app)
        self.log_file = log_file
        self.dialog: ErrorDialog | None = None
        self.caught_count = 0
        self._showing = False
        self.caught.connect(self.show, Qt.ConnectionType.QueuedConnection)

    def install(self) -> None:
        sys.excepthook = self.excepthook
        threading.excepthook = lambda args: self.excepthook(args.exc_type, args.exc_value, args.exc_traceback)

    def excepthook(self, exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.caught_count += 1
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        summary = one_line(exc, with_type=True) if exc is not None else exc_type.__name__
        self.caught.emit(summary, "".join(traceback.format_exception(exc_type, exc, tb)))

    def show(self, summary: str, details: str) -> None:
        if self._showing:
            return  # an exception while building the dialog: logged above, not looped
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.add(details)
            return
        self._showing = True
        try:
            self.dialog = ErrorDialog(summary, details, log_file=self.log_file, parent=QApplication.activeWindow())
            self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.dialog.destroyed.connect(self._forget)
            self.dialog.show()
            self.dialog.raise_()
        finally:
            self._showing = False

    def _forget(self) -> None:
        self.dialog = None

