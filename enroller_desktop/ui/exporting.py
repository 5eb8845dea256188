"""A CSV export as a window shows it: written on the thread pool, with what is
being written, a progress bar and Cancel in the window's status bar, while the
window stays usable. The writing itself is :mod:`enroller_desktop.export`'s; a
canceled or failed export leaves no file (RULES §8). A finished one says how many
rows went to which file, with a link that opens its folder.

Where the user saves, they also choose how the file holds times
(:class:`ExportDialog`): ISO 8601 UTC by default (RULES §8), or as the window
shows them when "Times as shown" is ticked. The choice is remembered for every
export of every window, so it sits in the one dialog each export opens rather
than in a menu the user would have to visit first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

from enroller_desktop import export
from enroller_desktop.ui.jobs import Job, JobState, keep_until_finished, start
from enroller_desktop.ui.settings import Settings
from enroller_desktop.ui.time_format import zone_choice


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


CSV_FILTER = "CSV files (*.csv);;All files (*)"


@dataclass(frozen=True)
class ExportTarget:
    """What the user chose in :class:`ExportDialog`."""

    path: str
    #: The times as the window shows them, instead of ISO 8601 UTC (RULES §8).
    times_as_shown: bool


class ExportDialog(QFileDialog):
    """Export to CSV: where to write, and with a "Times as shown" check box.

    Qt's own file dialog, not the platform's: only Qt's takes a widget of ours,
    and the choice belongs where the user saves. Unticked by default (RULES §8);
    each export starts with the choice of the last one (``settings``), and a
    table without times shows the box disabled and leaves that choice alone.
    """

    def __init__(self, parent: QWidget | None, suggested: Path, settings: Settings | None, *, has_times: bool = True) -> None:
        super().__init__(parent, "Export to CSV", str(suggested), CSV_FILTER)
        self.setObjectName("exportDialog")
        self.setOption(QFileDialog.Option.DontUseNativeDialog)
        self.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        self.setFileMode(QFileDialog.FileMode.AnyFile)
        self.setDefaultSuffix("csv")
        self._settings = settings
        self.has_times = has_times
        self.times_as_shown = QCheckBox()
        self.times_as_shown.setObjectName("timesAsShown")
        if has_times:
            self.times_as_shown.setText(f"Times as shown (in the zone chosen in View: {zone_choice(settings).label})")
            self.times_as_shown.setChecked(settings is not None and settings.get("export/times_as_shown"))
            self.times_as_shown.setToolTip(
                "Unticked: every time in ISO 8601 UTC (2026-11-27T09:30:00Z), which any spreadsheet reads and sorts alike.\n"
                "Ticked: every time as this window shows it, on the clock View ▸ Time Zone chooses, in your locale's form.")
        else:
            self.times_as_shown.setText("Times as shown (this table has no times)")
            self.times_as_shown.setEnabled(False)
        grid = self.layout()
        if isinstance(grid, QGridLayout):  # the widget dialog's layout: the box on a row of its own, below the file type
            grid.addWidget(self.times_as_shown, grid.rowCount(), 0, 1, grid.columnCount())
        else:
            grid.addWidget(self.times_as_shown)

    def target(self) -> ExportTarget:
        return ExportTarget(self.selectedFiles()[0], self.has_times and self.times_as_shown.isChecked())

    def accept(self) -> None:
        super().accept()
        if self.result() == QDialog.DialogCode.Accepted and self.has_times and self._settings is not None:
            self._settings.set("export/times_as_shown", self.times_as_shown.isChecked())


def choose_export_path(parent: QWidget, suggested: Path, settings: Settings | None, *, has_times: bool = True) -> ExportTarget | None:
    """Ask where to write a CSV and how its times are written; None when the user cancels."""
    dialog = ExportDialog(parent, suggested, settings, has_times=has_times)
    if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return dialog.target()


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
