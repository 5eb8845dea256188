"""New Run's Preview: for a Default run, what a run now would do — the funnel's
five counts and what each check alone holds back — computed on the thread pool
with progress and Cancel, without writing anything (see
:mod:`enroller_desktop.engine.preview`)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from enroller_desktop.db import explain_queries
from enroller_desktop.db.enums import RunPurpose
from enroller_desktop.engine.preview import PreviewCanceled, preview_run
from enroller_desktop.ui.jobs import Job, keep_until_finished, start

COUNT_TITLES = {"query_param_customers": "Query Param Customers", "potential_customers": "Potential Customers",
                "potential_events": "Potential Events", "eligible": "Eligible", "success": "Success"}


class PreviewPanel(QWidget):
    shown = Signal(object)  # the Preview, or None when canceled

    def __init__(self, dialog) -> None:
        super().__init__(dialog)
        self.dialog = dialog
        self.preview = None
        self._job: Job | None = None
        self.button = QPushButton("&Preview")
        self.button.setToolTip("What a Default run now would do, without writing anything")
        self.button.clicked.connect(self.start)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.cancel_button = QPushButton("Cancel preview")
        self.cancel_button.clicked.connect(self.cancel)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.progress, 1)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.result)
        self._idle()
        dialog.purpose.currentIndexChanged.connect(self._purpose_chosen)
        self._purpose_chosen()

    def _purpose_chosen(self) -> None:
        default = self.dialog.chosen_purpose() is RunPurpose.DEFAULT
        self.button.setEnabled(default and self._job is None)
        self.setVisible(default)

    def _idle(self) -> None:
        self._job = None
        self.progress.hide()
        self.cancel_button.hide()
        self.button.setEnabled(self.dialog.chosen_purpose() is RunPurpose.DEFAULT)

    def start(self) -> None:
        campaign_id = self.dialog.campaign.currentData()
        if campaign_id is None or self._job is not None:
            return
        as_of = self.dialog.preview_as_of()
        db = self.dialog.db
        job = Job(lambda state: _previewed(db, campaign_id, as_of, state), name="preview")
        self._job = job
        keep_until_finished(job)
        job.signals.progress.connect(lambda fraction, message: (self.progress.setValue(int(fraction * 1000)), self.progress.setFormat(message)))
        job.signals.succeeded.connect(self._show)
        job.signals.failed.connect(lambda message, _details: self.result.setText(f"Cannot preview: {message}"))
        job.signals.finished.connect(self._idle)
        self.button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.result.setText("Computing what a run now would do…")
        start(job)

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def _show(self, preview) -> None:
        self.preview = preview
        if preview is None:
            self.result.setText("Preview canceled; nothing was written")
        elif preview.not_applicable:
            self.result.setText(f"A run now would be Not Applicable: {preview.not_applicable}")
        else:
            counts = " → ".join(f"{title} {preview.counts[name]:,}" for name, title in COUNT_TITLES.items())
            alone = ", ".join(f"{explain_queries.CONDITION_TITLES[name].split(' (')[0]} {n:,}"
                              for name, n in preview.sole_blockers.items() if n) or "none"
            self.result.setText(f"A run now: {counts}.\nHeld back by one check alone: {alone}.")
        # Room for the result's lines. The dialog's layout keeps this panel's old
        # height until the panel's posted layout request is handled: say now that it
        # changed, or the dialog keeps its height and the lines are drawn over each other.
        self.updateGeometry()
        self.dialog.adjustSize()
        self.shown.emit(preview)


def _previewed(db, campaign_id, as_of, state):
    try:
        return preview_run(db, campaign_id, as_of=as_of, progress=state.progress, cancel=state)
    except PreviewCanceled:
        return None
