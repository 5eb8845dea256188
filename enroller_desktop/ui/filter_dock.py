"""The filter dock of the Enroller Runs index (left of the table, as in the old help page).

Created date range (with presets), organization, campaign (narrowed to the chosen
organization), purpose and status check boxes, Reset. A change is applied after a
short pause (typing a date or ticking several boxes makes one query, not five),
and the dock remembers itself in the settings.

Readings: dates are days in the zone times are shown in (View ▸ Time Zone), so
"Today" is today in that zone; with each organization's own zone, a run's day
is its organization's day and "Today" is this computer's date (see
:mod:`enroller_desktop.times`). A preset is remembered as the preset, not as
the dates it gave: "Last 7 days" tomorrow means the seven days before tomorrow.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDockWidget,
    QFormLayout,
    QGroupBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from enroller_desktop.db import choice_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunPurpose, RunStatus
from enroller_desktop.db.choice_queries import CampaignChoice
from enroller_desktop.db.index_queries import RunFilter
from enroller_desktop.times import TimeFormat, ZoneChoice
from enroller_desktop.ui.background import Tasks
from enroller_desktop.ui.settings import Settings

DEBOUNCE_MS = 250

PRESETS = {
    "today": ("Today", 0),
    "last_7_days": ("Last 7 days", 6),
    "last_30_days": ("Last 30 days", 29),
    "all": ("All", None),
    "custom": ("Custom range", None),
}

_NO_DATE = QDate(2000, 1, 1)  # the date edits' minimum, shown as "Any"


def preset_range(preset: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    days = PRESETS[preset][1]
    if days is None:
        return None, None
    return today - dt.timedelta(days=days), today


class DateEdit(QDateEdit):
    """Tab leaves the field. QDateEdit's own Tab walks its sections instead, and on
    the "Any" text (no sections to walk) never lets go: a trap for the keyboard.
    Left and Right still move between year, month and day."""

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 - Qt's name
        return QWidget.focusNextPrevChild(self, next)


class FilterDock(QDockWidget):
    filterChanged = Signal(object)  # RunFilter, after the pause
    choicesFailed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Filters", parent)
        self.setObjectName("filterDock")
        self.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self._tasks = Tasks(self, threads=1)
        self._campaigns: list[CampaignChoice] = []
        self._restoring = False
        self._wanted_organization = 0
        self._wanted_campaign = 0
        self._times: TimeFormat | None = None
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(lambda: self.filterChanged.emit(self.current_filter()))

        body = QWidget()
        layout = QVBoxLayout(body)
        form = QFormLayout()
        self.preset = QComboBox()
        for key, (label, _days) in PRESETS.items():
            self.preset.addItem(label, key)
        self.created_from = self._date_edit("")
        self.created_to = self._date_edit("")
        self._explain_days()
        self.organization = QComboBox()
        self.organization.setAccessibleName("Organization")
        self.campaign = QComboBox()
        self.campaign.setAccessibleName("Campaign")
        self.organization.setMinimumContentsLength(16)
        self.campaign.setMinimumContentsLength(16)
        form.addRow("&Created", self.preset)
        form.addRow("Fro&m", self.created_from)  # Alt+F is the File menu's
        form.addRow("&To", self.created_to)
        form.addRow("&Organization", self.organization)
        form.addRow("C&ampaign", self.campaign)
        for row in range(form.rowCount()):
            # Drawn with its mnemonic underlined, a label loses the kerning its width
            # was measured with: "To" would lose the right of its "o" and read "Tc".
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole).widget()
            label.setMinimumWidth(label.sizeHint().width() + label.fontMetrics().horizontalAdvance(" "))
        layout.addLayout(form)

        self.purposes = {p: QCheckBox(p.label) for p in RunPurpose}
        self.statuses = {s: QCheckBox(s.label) for s in RunStatus}
        layout.addWidget(self._boxes("&Purpose", self.purposes))
        layout.addWidget(self._boxes("&Status", self.statuses))
        self.reset_button = QPushButton("R&eset filters")  # Alt+R is the Runs menu's
        self.reset_button.setToolTip("Show every run again")
        layout.addWidget(self.reset_button)
        layout.addStretch(1)
        self.setWidget(body)

        self.organization.addItem("All organizations", 0)
        self.campaign.addItem("All campaigns", 0)
        self.preset.setCurrentIndex(self.preset.findData("all"))
        self._show_preset_dates()

        self.preset.currentIndexChanged.connect(self._preset_chosen)
        self.created_from.dateChanged.connect(self._dates_edited)
        self.created_to.dateChanged.connect(self._dates_edited)
        self.organization.currentIndexChanged.connect(self._organization_chosen)
        self.campaign.currentIndexChanged.connect(self._changed)
        for box in (*self.purposes.values(), *self.statuses.values()):
            box.toggled.connect(self._changed)
        self.reset_button.clicked.connect(self.reset)

    def _date_edit(self, tip: str) -> QDateEdit:
        edit = DateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(_NO_DATE)
        edit.setSpecialValueText("Any")
        edit.setDate(_NO_DATE)
        edit.setToolTip(tip)
        return edit

    def _boxes(self, title: str, boxes: dict) -> QGroupBox:
        group = QGroupBox(title.replace("&", ""))
        column = QVBoxLayout(group)
        column.setSpacing(2)
        for box in boxes.values():
            box.setChecked(True)
            column.addWidget(box)
        return group

    # -- the filter -------------------------------------------------------------------

    @property
    def time_format(self) -> TimeFormat:
        return self._times or TimeFormat(ZoneChoice.UTC)

    def set_time_format(self, times: TimeFormat) -> None:
        """Count days in ``times``' zone (a preset's dates follow). The window
        applies the new :meth:`current_filter` itself, at once."""
        self._times = times
        self._explain_days()
        if self.preset.currentData() != "custom":
            self._show_preset_dates()

    def _explain_days(self) -> None:
        choice = self.time_format.choice
        days = {
            ZoneChoice.ORGANIZATION: "days of each run's organization's time zone",
            ZoneChoice.COMPUTER: f"days of this computer's time zone ({self.time_format.computer_zone})",
            ZoneChoice.UTC: "UTC days",
        }[choice]
        self.preset.setToolTip(f"Created: date/time stamp of enrollment activity ({days})")
        self.created_from.setToolTip(f"First created date to show ({days})")
        self.created_to.setToolTip(f"Last created date to show ({days}), included")

    def current_filter(self) -> RunFilter:
        purposes = frozenset(p for p, box in self.purposes.items() if box.isChecked())
        statuses = frozenset(s for s, box in self.statuses.items() if box.isChecked())
        return RunFilter(
            created_from=_date_of(self.created_from),
            created_to=_date_of(self.created_to),
            organization_id=self.organization.currentData() or None,
            campaign_id=self.campaign.currentData() or None,
            purposes=None if len(purposes) == len(RunPurpose) else purposes,
            statuses=None if len(statuses) == len(RunStatus) else statuses,
            day_zone=self.time_format.day_zone(),
        )

    def apply_now(self) -> None:
        """Skip the pause (Enter in the dock, and the tests)."""
        self._debounce.stop()
        self.filterChanged.emit(self.current_filter())

    def reset(self) -> None:
        """Every filter back to showing every run, the campaign included."""
        self._restoring = True
        self.preset.setCurrentIndex(self.preset.findData("all"))
        self._show_preset_dates()
        self._wanted_organization = self._wanted_campaign = 0
        self.organization.setCurrentIndex(0)
        self._fill_campaigns(0)
        for box in (*self.purposes.values(), *self.statuses.values()):
            box.setChecked(True)
        self._restoring = False
        self._changed()

    def show_day_and_status(self, day: dt.date, status: RunStatus) -> None:
        """Only the runs created on ``day`` with ``status`` (a click on a bar of
        Trends); the organization, campaign and purposes stay as they are."""
        self._restoring = True
        self.preset.setCurrentIndex(self.preset.findData("custom"))
        self.created_from.setDate(QDate(day))
        self.created_to.setDate(QDate(day))
        for s, box in self.statuses.items():
            box.setChecked(s is status)
        self._restoring = False
        self.apply_now()

    def _changed(self) -> None:
        if not self._restoring:
            self._debounce.start()

    def _preset_chosen(self) -> None:
        if self.preset.currentData() != "custom":
            self._show_preset_dates()
        self._changed()

    def _show_preset_dates(self) -> None:
        first, last = preset_range(self.preset.currentData(), self.time_format.today())
        was = self._restoring
        self._restoring = True
        self.created_from.setDate(QDate(first) if first else _NO_DATE)
        self.created_to.setDate(QDate(last) if last else _NO_DATE)
        self._restoring = was

    def _dates_edited(self) -> None:
        if self._restoring:
            return
        self._restoring = True
        self.preset.setCurrentIndex(self.preset.findData("custom"))
        self._restoring = False
        self._changed()

    def _organization_chosen(self) -> None:
        self._fill_campaigns()
        self._changed()

    # -- organizations and campaigns ----------------------------------------------------

    def load_choices(self, db: Database) -> None:
        """Read the organizations and campaigns (off the interface thread)."""

        def read(_state):
            with db.read() as conn:
                return choice_queries.organizations(conn), choice_queries.campaign_choices(conn)

        self._tasks.run(read, self._choices_read, self.choicesFailed.emit, name="filter choices")

    def _choices_read(self, result) -> None:
        organizations, campaigns = result
        wanted_org = self.organization.currentData() or self._wanted_organization
        wanted_campaign = self.campaign.currentData() or self._wanted_campaign
        self._restoring = True
        self._campaigns = campaigns
        self.organization.clear()
        self.organization.addItem("All organizations", 0)
        for org_id, name in organizations:
            self.organization.addItem(name, org_id)
        self.organization.setCurrentIndex(max(0, self.organization.findData(wanted_org)))
        self._fill_campaigns(wanted_campaign)
        self._wanted_organization = self._wanted_campaign = 0  # from now on, the combos say
        self._restoring = False
        before = self.current_filter()
        if before.organization_id != (wanted_org or None) or before.campaign_id != (wanted_campaign or None):
            self._changed()  # a remembered organization or campaign no longer exists

    def _fill_campaigns(self, wanted: int | None = None) -> None:
        wanted = self.campaign.currentData() if wanted is None else wanted
        org_id = self.organization.currentData() or None
        was = self._restoring
        self._restoring = True
        self.campaign.clear()
        self.campaign.addItem("All campaigns", 0)
        for c in self._campaigns:
            if org_id is None:
                self.campaign.addItem(f"{c.name} ({c.organization})", c.id)
            elif c.organization_id == org_id:
                self.campaign.addItem(c.name, c.id)
        self.campaign.setCurrentIndex(max(0, self.campaign.findData(wanted)))
        self._restoring = was

    # -- remembered across launches ---------------------------------------------------

    def save(self, settings: Settings) -> None:
        settings.set("filters/date_preset", self.preset.currentData())
        settings.set("filters/created_from", _iso(self.created_from))
        settings.set("filters/created_to", _iso(self.created_to))
        settings.set("filters/organization_id", int(self.organization.currentData() or self._wanted_organization))
        settings.set("filters/campaign_id", int(self.campaign.currentData() or self._wanted_campaign))
        settings.set("filters/purposes", [p.value for p, box in self.purposes.items() if not box.isChecked()])
        settings.set("filters/statuses", [s.value for s, box in self.statuses.items() if not box.isChecked()])

    def restore(self, settings: Settings) -> None:
        """Put the dock back as it was left; the organization and campaign are
        chosen once their lists are read."""
        self._restoring = True
        preset = settings.get("filters/date_preset")
        self.preset.setCurrentIndex(max(0, self.preset.findData(preset if preset in PRESETS else "all")))
        if self.preset.currentData() == "custom":
            self.created_from.setDate(_qdate(settings.get("filters/created_from")))
            self.created_to.setDate(_qdate(settings.get("filters/created_to")))
        else:
            self._show_preset_dates()
        self._wanted_organization = settings.get("filters/organization_id")
        self._wanted_campaign = settings.get("filters/campaign_id")
        unticked_purposes = set(settings.get("filters/purposes"))
        unticked_statuses = set(settings.get("filters/statuses"))
        for p, box in self.purposes.items():
            box.setChecked(p.value not in unticked_purposes)
        for s, box in self.statuses.items():
            box.setChecked(s.value not in unticked_statuses)
        self._restoring = False

    def remembered_filter(self) -> RunFilter:
        """The filter as restored, with the remembered organization and campaign,
        before their lists arrive (so the first query is already the right one)."""
        f = self.current_filter()
        return RunFilter(
            created_from=f.created_from,
            created_to=f.created_to,
            organization_id=self._wanted_organization or None,
            campaign_id=self._wanted_campaign or None,
            purposes=f.purposes,
            statuses=f.statuses,
            day_zone=f.day_zone,
        )


def _date_of(edit: QDateEdit) -> dt.date | None:
    date = edit.date()
    return None if date == _NO_DATE else date.toPython()


def _iso(edit: QDateEdit) -> str:
    value = _date_of(edit)
    return value.isoformat() if value else ""


def _qdate(text: str) -> QDate:
    try:
        return QDate(dt.date.fromisoformat(text)) if text else _NO_DATE
    except ValueError:
        return _NO_DATE
