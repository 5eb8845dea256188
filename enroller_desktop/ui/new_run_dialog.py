"""New Run: organization, campaign, purpose, customer, as-of time, now or later.

The dialog creates the run itself (off the interface thread), so that a refused
argument is shown in the dialog with everything the user typed still there. It
closes with the new run's id; the main window then executes it (run now) or
keeps it for its time (schedule).

Times are typed on the clock the window shows times on (View ▸ Time Zone): the
chosen organization's zone by default, this computer's, or UTC; each field names
its zone, and the run stores the instant in UTC.

Before a run is created, the dialog asks whether it would end Not Applicable
(an inactive or ended campaign, one without an active query param…), at the
as-of time it would have (the one given, else its scheduled time, else now), and
says why before creating it. The customer search shows only for a Customer
Evaluation, the one purpose that takes a customer.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDateTime, QEvent, Qt, QTimer, QTimeZone
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from enroller_desktop.db import choice_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunPurpose
from enroller_desktop.db.choice_queries import CampaignChoice
from enroller_desktop.times import TimeFormat, ZoneChoice
from enroller_desktop.ui import questions, theme
from enroller_desktop.ui.background import Tasks
from enroller_desktop.ui.consent_view import ConsentWarning
from enroller_desktop.ui.preview_panel import PreviewPanel

SEARCH_PAUSE_MS = 200
_UTC = QTimeZone.utc()


def _utc_edit() -> QDateTimeEdit:
    edit = QDateTimeEdit()
    edit.setTimeZone(_UTC)
    edit.setDisplayFormat("yyyy-MM-dd HH:mm 'UTC'")
    edit.setCalendarPopup(True)
    edit.setDateTime(QDateTime.currentDateTimeUtc())
    return edit


def _utc_of(edit: QDateTimeEdit) -> dt.datetime:
    return dt.datetime.fromtimestamp(edit.dateTime().toSecsSinceEpoch(), dt.timezone.utc)


class NewRunDialog(QDialog):
    def __init__(self, db: Database, parent: QWidget | None = None, *, organization_id: int | None = None, campaign_id: int | None = None,
                 times: TimeFormat | None = None) -> None:
        super().__init__(parent)
        self.times = times or TimeFormat(ZoneChoice.UTC)
        self._zones: dict[int, str | None] = {}
        self.setWindowTitle("New Run")
        self.db = db
        self.run_id: int | None = None
        self.run_now = True
        self._tasks = Tasks(self, threads=1)
        self._campaigns: list[CampaignChoice] = []
        self._wanted = (organization_id, campaign_id)
        self._search_serial = 0

        self.organization = QComboBox()
        self.campaign = QComboBox()
        self.purpose = QComboBox()
        for p in RunPurpose:
            self.purpose.addItem(p.label, p.value)
        self.customer_search = QLineEdit()
        self.customer_search.setPlaceholderText("Name, email or phone")
        self.customer_search.setClearButtonEnabled(True)
        self.customers = QListWidget()
        self.customers.setMaximumHeight(140)
        self.as_of_given = QCheckBox("As of")
        self.as_of = _utc_edit()
        self.as_of.setEnabled(False)
        as_of_row = QHBoxLayout()
        as_of_row.addWidget(self.as_of_given)
        as_of_row.addWidget(self.as_of, 1)
        self.now_button = QRadioButton("Run &now")
        self.later_button = QRadioButton("&Schedule for")
        self.now_button.setChecked(True)
        when = QButtonGroup(self)
        when.addButton(self.now_button)
        when.addButton(self.later_button)
        self.scheduled_for = _utc_edit()
        self.scheduled_for.setDateTime(QDateTime.currentDateTimeUtc().addSecs(3600))
        self.scheduled_for.setEnabled(False)
        when_row = QHBoxLayout()
        when_row.addWidget(self.now_button)
        when_row.addWidget(self.later_button)
        when_row.addWidget(self.scheduled_for, 1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self._colour_message()

        self.form = form = QFormLayout()
        form.addRow("&Organization", self.organization)
        form.addRow("&Campaign", self.campaign)
        form.addRow("&Purpose", self.purpose)
        form.addRow("C&ustomer", self.customer_search)
        form.addRow("", self.customers)
        form.addRow("", as_of_row)
        form.addRow("When", when_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create run")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        self.consent_warning = ConsentWarning(db, self)
        layout.addWidget(self.consent_warning)
        self.preview = PreviewPanel(self)
        layout.addWidget(self.preview)
        layout.addWidget(self.buttons)

        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_PAUSE_MS)
        self._search_timer.timeout.connect(self._search)
        self.organization.currentIndexChanged.connect(self._fill_campaigns)
        self.organization.currentIndexChanged.connect(self._show_zone)
        self.organization.currentIndexChanged.connect(self._search_timer.start)
        self.purpose.currentIndexChanged.connect(self._purpose_chosen)
        self.customer_search.textEdited.connect(lambda _t: self._search_timer.start())
        self.as_of_given.toggled.connect(self.as_of.setEnabled)
        self.later_button.toggled.connect(self.scheduled_for.setEnabled)
        self.buttons.accepted.connect(self._create)
        for changed in (self.campaign.currentIndexChanged, self.purpose.currentIndexChanged, self.later_button.toggled,
                        self.scheduled_for.dateTimeChanged):
            changed.connect(self._warn_of_lapsing_consent)
        self.buttons.rejected.connect(self.reject)
        self._purpose_chosen()
        self._show_zone()
        self._load_choices()

    # -- choices ------------------------------------------------------------------------

    def _load_choices(self) -> None:
        def read(_state):
            with self.db.read() as conn:
                return choice_queries.organizations(conn), choice_queries.campaign_choices(conn), choice_queries.organization_timezones(conn)

        self._tasks.run(read, self._choices_read, self._show_error, name="new run choices")

    def _choices_read(self, result) -> None:
        organizations, self._campaigns, self._zones = result
        org_wanted, campaign_wanted = self._wanted
        if campaign_wanted and not org_wanted:
            org_wanted = next((c.organization_id for c in self._campaigns if c.id == campaign_wanted), None)
        self.organization.blockSignals(True)
        for org_id, name in organizations:
            self.organization.addItem(name, org_id)
        self.organization.setCurrentIndex(max(0, self.organization.findData(org_wanted)))
        self.organization.blockSignals(False)
        self._fill_campaigns()
        self._show_zone()
        if campaign_wanted:
            self.campaign.setCurrentIndex(max(0, self.campaign.findData(campaign_wanted)))

    def _fill_campaigns(self) -> None:
        org_id = self.organization.currentData()
        self.campaign.clear()
        for c in self._campaigns:
            if c.organization_id == org_id:
                self.campaign.addItem(c.name if c.active else f"{c.name} (inactive)", c.id)
        self.customers.clear()

    def _show_zone(self) -> None:
        """The time fields on the clock of the chosen organization (or the one
        View ▸ Time Zone chooses), each keeping the instant it holds."""
        used = self.times.zone_for(self._zones.get(self.organization.currentData()))
        zone = QTimeZone(used.key.encode()) if used.key != "UTC" else _UTC
        if not zone.isValid():
            zone = _UTC
        owner = "this computer" if self.times.choice is ZoneChoice.COMPUTER else "the organization"
        tip = f"Typed in {used.key}" + (f" ({owner} {used.problem})" if used.problem else "") + "; stored in UTC"
        for edit in (self.as_of, self.scheduled_for):
            instant = edit.dateTime()
            edit.setTimeZone(zone)
            edit.setDateTime(instant.toTimeZone(zone))
            edit.setDisplayFormat(self.times.form.pattern + " t")
            edit.setToolTip(tip)

    def _purpose_chosen(self) -> None:
        wants_customer = self.chosen_purpose() is RunPurpose.CUSTOMER_EVALUATION
        self.customer_search.setEnabled(wants_customer)
        self.customers.setEnabled(wants_customer)
        self.form.setRowVisible(self.customer_search, wants_customer)
        self.form.setRowVisible(self.customers, wants_customer)
        self.adjustSize()
        if wants_customer:
            self.customer_search.setFocus()

    def _search(self) -> None:
        org_id = self.organization.currentData()
        text = self.customer_search.text().strip()
        if org_id is None or not text or not self.customer_search.isEnabled():
            self.customers.clear()
            return
        self._search_serial += 1
        serial = self._search_serial

        def read(_state):
            with self.db.read() as conn:
                return choice_queries.customer_choices(conn, org_id, text)

        def found(choices) -> None:
            if serial != self._search_serial:
                return  # the user typed on: an older answer must not replace a newer one
            self.customers.clear()
            for choice in choices:
                item = QListWidgetItem(choice.label)
                item.setData(Qt.ItemDataRole.UserRole, choice.id)
                self.customers.addItem(item)
            if choices:
                self.customers.setCurrentRow(0)
            else:  # say so, rather than leave an empty list that could still be searching
                notice = QListWidgetItem(f"No customer of this organization matches “{text}”")
                notice.setFlags(Qt.ItemFlag.NoItemFlags)
                self.customers.addItem(notice)

        self._tasks.run(read, found, self._show_error, name="customer search")

    def _warn_of_lapsing_consent(self, *_args) -> None:
        later = _utc_of(self.scheduled_for) if self.later_button.isChecked() else None
        self.consent_warning.update_for(self.campaign.currentData(), self.chosen_purpose() is RunPurpose.DEFAULT, later)

    # -- creating the run ---------------------------------------------------------------

    def chosen_purpose(self) -> RunPurpose:
        return RunPurpose(self.purpose.currentData())

    def chosen_customer(self) -> int | None:
        item = self.customers.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def preview_as_of(self) -> dt.datetime:
        """The as-of time a preview computes at: the one given, else now."""
        return _utc_of(self.as_of) if self.as_of_given.isChecked() else dt.datetime.now(dt.timezone.utc)

    def _create(self) -> None:
        from enroller_desktop.engine import runs

        campaign_id = self.campaign.currentData()
        purpose = self.chosen_purpose()
        customer_id = self.chosen_customer() if purpose is RunPurpose.CUSTOMER_EVALUATION else None
        if campaign_id is None:
            self._show_error("Choose a campaign.")
            return
        if purpose is RunPurpose.CUSTOMER_EVALUATION and customer_id is None:
            self._show_error("A Customer Evaluation needs a customer: search by name, email or phone and pick one.")
            return
        as_of = _utc_of(self.as_of) if self.as_of_given.isChecked() else None
        self.run_now = self.now_button.isChecked()
        scheduled_for = None if self.run_now else _utc_of(self.scheduled_for)
        db = self.db
        self.buttons.setEnabled(False)
        self.message.setText("")

        executes_at = as_of or scheduled_for or dt.datetime.now(dt.timezone.utc)

        def create(_state):
            return runs.create_run(
                db, campaign_id=campaign_id, purpose=purpose, customer_id=customer_id, as_of=as_of, scheduled_for=scheduled_for
            )

        def foreseen(reason: str | None) -> None:
            if reason and not questions.confirm_not_applicable(self, reason):
                self.buttons.setEnabled(True)
                return
            self._tasks.run(create, self._created, self._not_created, name="create run")

        self._tasks.run(lambda _s: runs.foreseen_not_applicable(db, campaign_id, purpose, executes_at, customer_id),
                        foreseen, self._not_created, name="foresee not applicable")

    def _created(self, run_id: int) -> None:
        self.run_id = run_id
        self.accept()

    def _not_created(self, message: str) -> None:
        self.buttons.setEnabled(True)
        self._show_error(message)

    def _show_error(self, message: str) -> None:
        self.message.setText(message)
        # A window's layout does not grow the window for a wrapped label's new lines:
        # grow it here, or the lines are drawn over each other in one line's height.
        needed = self.layout().totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    def _colour_message(self) -> None:
        """The error message in the red that reads on the dialog's palette, light or dark."""
        self.message.setStyleSheet(f"color: {theme.alarm(self.palette())}")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:  # View ▸ Appearance switched while the dialog is open
            self._colour_message()
        super().changeEvent(event)
