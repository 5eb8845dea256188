"""A CSV export as a window shows it: written on the thread pool, with what is
being written, a progress bar and Cancel in the window's status bar, while the
window stays usable. The writing itself is :mod:`enroller_desktop.export`'s; a
canceled or failed export leaves no file (RULES §8). A finished one says how many
rows went to which file, with a link that opens its folder.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar, QPushButton, QWidget

from enroller_desktop import export
from enroller_desktop.ui.jobs import Job, JobState, keep_until_finished, start


DONE_SHOWN_MS = 30_000


def exported_words(rows: int, path: Path) -> str:
    """What the status bar says after an export: "Exported 1 row to FILE"."""
    return f"Exported {rows:,} row{'' if rows == 1 else 's'} to {path}"


def add_export_and_close_shortcuts(window: QWidget, export_shown: Callable[[], None]) -> None:
    """Ctrl+E exports what the window shows; the platform's Close key closes it
    (the shortcuts of every window that has no menu bar of its own)."""
    export_action = QAction("Export to CSV", window)
    export_action.setShortcut(QKeySequence("Ctrl+E"))
    export_action.triggered.connect(export_shown)
    window.addAction(export_action)
    close_action = QAction("Close", window)
    close_action.setShortcut(QKeySequence.StandardKey.Close)
    close_action.triggered.connect(window.close)
    window.addAction(close_action)


def choose_export_path(parent: QWidget, suggested: Path) -> str | None:
    """Ask where to write a CSV; None when the user cancels."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export to CSV", str(suggested), "CSV files (*.csv);;All files (*)")
    return path or None


class ExportProgress(QObject):
    """One export at a time for a window, shown in its status bar."""

    finished = Signal(object)  # rows written, or None when canceled
    failed = Signal(str)  # a one-line message, also shown in a message box
    runningChanged = Signal(bool)

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._job: Job | None = None
        self.label = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(220)
        self.progress.setAccessibleName("Export progress")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the export; no file is written")
        self.cancel_button.clicked.connect(self.cancel)
        for widget in (self.label, self.progress, self.cancel_button):
            window.statusBar().addPermanentWidget(widget)
            widget.hide()
        # After an export: where the file went, with a link that opens its folder.
        self.done_label = QLabel()
        self.done_label.setTextFormat(Qt.TextFormat.RichText)
        self.done_label.setAccessibleName("Export result")
        self.done_label.linkActivated.connect(self.open_folder)
        window.statusBar().addPermanentWidget(self.done_label)
        self.done_label.hide()
        self._hide_done = QTimer(self, singleShot=True, interval=DONE_SHOWN_MS)
        self._hide_done.timeout.connect(self.done_label.hide)
        self.path: Path | None = None

    @property
    def running(self) -> bool:
        return self._job is not None

    def refused(self) -> bool:
        """True, saying why in the status bar, while an export is running: a window
        asks before it asks the user where to write."""
        if self._job is not None:
            self._window.statusBar().showMessage("An export is already running; cancel it or wait for it to finish", 5000)
        return self._job is not None

    def start(self, write: Callable[[JobState], int], title: str, path: str) -> bool:
        """Run ``write(state)`` (an :mod:`~enroller_desktop.export` function given
        ``progress=state.progress, cancel=state``) on the thread pool; False when
        an export is already running."""
        if self.refused():
            return False

        def written(state: JobState):
            try:
                return write(state)
            except export.ExportCanceled:
                return None

        job = Job(written, name=f"export {Path(path).name}")
        self._job = job
        keep_until_finished(job)
        job.signals.progress.connect(self._progressed)
        job.signals.succeeded.connect(self._done)
        job.signals.failed.connect(self._error)
        job.signals.finished.connect(self._ended)
        self.path = Path(path)
        self.done_label.hide()
        self.label.setText(f"Exporting {title} to {Path(path).name}")
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        for widget in (self.label, self.progress, self.cancel_button):
            widget.show()
        self.runningChanged.emit(True)
        start(job)
        return True

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self.label.setText("Canceling the export…")

    def _progressed(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 1000))
        self.progress.setFormat(message)

    def _done(self, written) -> None:
        if written is None:
            self._window.statusBar().showMessage("Export canceled; no file was written", 8000)
        else:
            self.done_label.setText(
                f"{escape(exported_words(written, self.path))} — <a href='folder'>Open folder</a>")
            self.done_label.setToolTip(f"Open {self.path.parent} in the file manager")
            self.done_label.show()
            self._hide_done.start()
        self.finished.emit(written)

    def open_folder(self, _link: str = "") -> None:
        if self.path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path.parent)))

    def _error(self, message: str, _details: str) -> None:
        self.failed.emit(message)
        QMessageBox.warning(self._window, "Export failed", message)

    def _ended(self) -> None:
        self._job = None
        for widget in (self.label, self.progress, self.cancel_button):
            widget.hide()
        self.runningChanged.emit(False)
