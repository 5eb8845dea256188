"""The window's side of :mod:`enroller_desktop.times`: the user's locale and this
computer's zone read from Qt, the View menu's zone choice kept in the settings,
and a signal that tells every open window when the choice changes."""

from __future__ import annotations

from PySide6.QtCore import QLocale, QObject, QTimeZone, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from enroller_desktop.times import LocaleForm, TimeFormat, ZoneChoice, zone
from enroller_desktop.ui.settings import Settings


def locale_form(locale: QLocale | None = None) -> LocaleForm:
    """The short date-time form of ``locale`` (the user's by default). The C
    locale (no language chosen, as in a bare ``LANG=C`` session) gets the ISO-like
    default, not Qt's ``d MM yyyy``."""
    locale = locale or QLocale()
    if locale.language() == QLocale.Language.C:
        return LocaleForm()
    short, long = QLocale.FormatType.ShortFormat, QLocale.FormatType.LongFormat
    return LocaleForm(
        pattern=locale.dateTimeFormat(short),
        am=locale.amText(),
        pm=locale.pmText(),
        short_months=tuple(locale.monthName(month, short) for month in range(1, 13)),
        long_months=tuple(locale.monthName(month, long) for month in range(1, 13)),
        short_days=tuple(locale.dayName(day, short) for day in range(1, 8)),
        long_days=tuple(locale.dayName(day, long) for day in range(1, 8)),
    )


def computer_zone() -> str:
    """This computer's zone's IANA name (UTC when the system names none that the
    zone database knows)."""
    name = bytes(QTimeZone.systemTimeZoneId().data()).decode("ascii", "replace")
    return zone(name).key


def zone_choice(settings: Settings | None) -> ZoneChoice:
    if settings is None:
        return ZoneChoice.ORGANIZATION
    try:
        return ZoneChoice(settings.get("view/time_zone"))
    except ValueError:
        return ZoneChoice.ORGANIZATION


def current(settings: Settings | None, *, abbreviate: bool = False) -> TimeFormat:
    """How times are shown now, by the settings' choice (the organization's zone without settings)."""
    return TimeFormat(zone_choice(settings), locale_form(), computer_zone(), abbreviate)


def without_organization(settings: Settings | None = None) -> TimeFormat:
    """How a time that belongs to no organization is shown (a worker's heartbeat,
    the first of many waiting runs): on this computer's clock, unless the user
    chose UTC; always naming its zone."""
    chosen = current(settings)
    choice = ZoneChoice.UTC if chosen.choice is ZoneChoice.UTC else ZoneChoice.COMPUTER
    return TimeFormat(choice, chosen.form, chosen.computer_zone, abbreviate=True)


class _Changes(QObject):
    """Emits the new :class:`ZoneChoice` when the user picks another."""

    changed = Signal(object)


changes = _Changes()


def zone_menu(parent: QMenu, settings: Settings) -> QMenu:
    """View ▸ Time Zone: the three choices, one ticked, remembered in ``settings``."""
    menu = parent.addMenu("Time &Zone")
    group = QActionGroup(menu)
    group.setExclusive(True)
    chosen = zone_choice(settings)
    tips = {
        ZoneChoice.ORGANIZATION: "Each run's times on its dealership's clock (organizations.timezone)",
        ZoneChoice.COMPUTER: f"Every time on this computer's clock ({computer_zone()})",
        ZoneChoice.UTC: "Every time in UTC, as the database holds it",
    }
    for choice in ZoneChoice:
        action = QAction(choice.label, menu, checkable=True)
        action.setData(choice.value)
        action.setToolTip(tips[choice])
        action.setStatusTip(tips[choice])
        action.setChecked(choice is chosen)
        group.addAction(action)
        menu.addAction(action)

    def picked(action: QAction) -> None:
        settings.set("view/time_zone", action.data())
        changes.changed.emit(ZoneChoice(action.data()))

    group.triggered.connect(picked)
    menu.setToolTipsVisible(True)
    return menu

