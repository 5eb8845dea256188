"""Light and dark: the palette follows the system's colour scheme, and icons are
drawn in the palette's text colour.

Qt 6 already gives a dark palette where the platform says how (Windows 11,
macOS, KDE, GNOME through its portal). Where the system asks for dark but the
platform's palette stays light (a bare X11 session, some GNOME set-ups), this
module puts a dark Fusion palette in, and takes it out again when the system
turns back to light. ``--palette light|dark`` forces one or the other.

The action icons are monochrome SVGs under ``resources/icons`` written with
``currentColor``; they are rendered here in the palette's text colour, so they
read on a dark toolbar as well as on a light one. Widgets that draw their own
colours ask :func:`is_dark`.

Every colour the interface chooses itself is here, each with its light and dark
tone: the run statuses' badges (the index, the workers dock, Trends), the tones
of outcomes in the tables (:class:`Tones`), the alarm red of a message, and the
accent blue of the view icon and the charts.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QByteArray, QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication, QStyleFactory

from enroller_desktop.db.enums import RunStatus
from enroller_desktop.resources import APP_ICON_SIZES, action_icon, app_icon_png

PALETTE_CHOICES = ("system", "light", "dark")
ICON_SIZES = (16, 20, 24, 32, 48)

Role = QPalette.ColorRole
Group = QPalette.ColorGroup


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette if palette is not None else QGuiApplication.palette()
    return palette.color(Role.Window).lightness() < 128


def dark_palette() -> QPalette:
    """A dark palette for Fusion, with text at least 7:1 against its background."""
    p = QPalette()
    colours = {
        Role.Window: "#1f2125",
        Role.WindowText: "#e8eaed",
        Role.Base: "#16181b",
        Role.AlternateBase: "#1d2024",
        Role.ToolTipBase: "#2b2e33",
        Role.ToolTipText: "#e8eaed",
        Role.PlaceholderText: "#8b9098",
        Role.Text: "#e8eaed",
        Role.Button: "#2b2e33",
        Role.ButtonText: "#e8eaed",
        Role.BrightText: "#ffffff",
        Role.Light: "#3a3e44",
        Role.Midlight: "#32363b",
        Role.Mid: "#25282c",
        Role.Dark: "#111315",
        Role.Shadow: "#000000",
        Role.Highlight: "#2f6fd0",
        Role.HighlightedText: "#ffffff",
        Role.Link: "#78b0ff",
        Role.LinkVisited: "#b79cff",
        Role.Accent: "#2f6fd0",
    }
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    for role, colour in {Role.WindowText: "#7d828a", Role.Text: "#7d828a", Role.ButtonText: "#7d828a",
                         Role.Base: "#1b1d21", Role.Button: "#25282c", Role.HighlightedText: "#c0c4ca"}.items():
        p.setColor(Group.Disabled, role, QColor(colour))
    return p


def light_palette() -> QPalette:
    """Fusion's own light palette, whatever the system's scheme."""
    p = QPalette(QColor("#efefef"), QColor("#efefef"))
    p.setColor(Role.Highlight, QColor("#1d6fd8"))
    p.setColor(Role.Accent, QColor("#1d6fd8"))
    p.setColor(Role.PlaceholderText, QColor("#6b7280"))
    return p


class Appearance(QObject):
    """Keeps the application's palette in step with ``choice`` and the system."""

    def __init__(self, app: QApplication, choice: str = "system") -> None:
        super().__init__(app)
        if choice not in PALETTE_CHOICES:
            raise ValueError(f"palette must be one of {', '.join(PALETTE_CHOICES)}")
        self._app = app
        self._native_style = app.style().name()
        self._ours = False  # our palette is in, not the platform's
        self.choice = choice
        app.styleHints().colorSchemeChanged.connect(self.apply)
        self.apply()

    def wanted(self) -> str:
        """light or dark, or "" to leave the platform's palette as it is."""
        if self.choice != "system":
            return self.choice
        scheme = self._app.styleHints().colorScheme()
        if scheme == Qt.ColorScheme.Dark:
            return "dark"
        if scheme == Qt.ColorScheme.Light:
            return "light"
        return ""

    def set_choice(self, choice: str) -> None:
        if choice not in PALETTE_CHOICES:
            raise ValueError(f"palette must be one of {', '.join(PALETTE_CHOICES)}")
        self.choice = choice
        self.apply()

    def apply(self, *_args) -> None:
        wanted = self.wanted()
        if self._ours:
            self._give_back()
        if wanted == "" or (self.choice == "system" and (wanted == "dark") == is_dark(self._app.palette())):
            return  # the platform already shows what the system asks for
        # Fusion honours a palette on every platform; native styles may not.
        self._app.setStyle(QStyleFactory.create("Fusion"))
        self._app.setPalette(dark_palette() if wanted == "dark" else light_palette())
        self._ours = True

    def _give_back(self) -> None:
        self._app.setStyle(QStyleFactory.create(self._native_style))
        self._app.setPalette(QPalette())  # nothing resolved: the platform's palette again
        self._ours = False


def icon(name: str) -> QIcon:
    """An action icon from ``resources/icons``, in the current palette's colours."""
    palette = QGuiApplication.palette()
    return _tinted(name, palette.color(Role.WindowText).name(), palette.color(Group.Disabled, Role.WindowText).name())


@functools.lru_cache(maxsize=64)
def _tinted(name: str, colour: str, disabled: str) -> QIcon:
    svg = action_icon(name).read_text(encoding="utf-8")
    result = QIcon()
    for mode, tint in ((QIcon.Mode.Normal, colour), (QIcon.Mode.Disabled, disabled)):
        renderer = QSvgRenderer(QByteArray(svg.replace("currentColor", tint).encode()))
        for size in ICON_SIZES:
            result.addPixmap(_render(renderer, size), mode)
    return result


def _render(renderer: QSvgRenderer, size: int) -> QPixmap:
    ratio = max(1.0, QGuiApplication.primaryScreen().devicePixelRatio() if QGuiApplication.primaryScreen() else 1.0)
    pixmap = QPixmap(round(size * ratio), round(size * ratio))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    pixmap.setDevicePixelRatio(ratio)
    return pixmap


@functools.cache
def app_icon() -> QIcon:
    """The application's icon at every size the desktops ask for."""
    result = QIcon()
    for size in APP_ICON_SIZES:
        result.addFile(str(app_icon_png(size)))
    return result


# -- the colours the interface chooses ------------------------------------------------

#: The view icon's, Trends' line's and the consent chart's blue.
ACCENT = "#1d6fd8"
#: The consent chart's bars of customers whose consent lapses.
AT_RISK = "#d97706"
#: A message that says something is wrong (light, dark palette).
ALARM = "#b91c1c"
ALARM_DARK = "#ff7b72"

STATUS_COLOURS: dict[RunStatus, tuple[str, str]] = {
    # background, text: readable on light and dark palettes alike
    RunStatus.SCHEDULED: ("#e3e8ef", "#334155"),
    RunStatus.IN_PROGRESS: ("#dbeafe", "#1e40af"),
    RunStatus.COMPLETED: ("#dcfce7", "#166534"),
    RunStatus.ERROR: ("#fee2e2", "#991b1b"),
    RunStatus.CANCELED: ("#fef3c7", "#92400e"),
    RunStatus.NOT_APPLICABLE: ("#f1f5f9", "#526176"),
}

#: The badges on a dark palette: deep tints with light text, the same hues.
STATUS_COLOURS_DARK: dict[RunStatus, tuple[str, str]] = {
    RunStatus.SCHEDULED: ("#334155", "#e2e8f0"),
    RunStatus.IN_PROGRESS: ("#1e3a8a", "#bfdbfe"),
    RunStatus.COMPLETED: ("#14532d", "#bbf7d0"),
    RunStatus.ERROR: ("#7f1d1d", "#fecaca"),
    RunStatus.CANCELED: ("#78350f", "#fde68a"),
    RunStatus.NOT_APPLICABLE: ("#1e293b", "#94a3b8"),
}

#: A scheduled run past its time: nobody has executed it yet.
OVERDUE_COLOURS = ("#ffedd5", "#9a3412")


def status_colours(palette: QPalette) -> dict[RunStatus, tuple[str, str]]:
    """The badges' (background, text) colours for ``palette``, light or dark."""
    return STATUS_COLOURS_DARK if is_dark(palette) else STATUS_COLOURS


def progress_fill(palette: QPalette) -> str:
    """The part done of a running run's badge."""
    return "#2563eb" if is_dark(palette) else "#93c5fd"


def alarm(palette: QPalette | None = None) -> str:
    """The red of a message that says something is wrong, on ``palette``."""
    return ALARM_DARK if is_dark(palette) else ALARM


class Tones:
    """The colours of outcomes, chosen for the current palette so that they read on
    a light and on a dark background."""

    def __init__(self, palette: QPalette | None = None) -> None:
        palette = palette or QGuiApplication.palette()
        dark = is_dark(palette)
        self.good = QColor("#5bd27a" if dark else "#1a7f37")
        self.bad = QColor("#ff7b72" if dark else "#c62828")
        self.warn = QColor("#e3b341" if dark else "#9a6700")
        self.muted = palette.color(QPalette.ColorRole.PlaceholderText)
        self.by_text = {
            "Passed": self.good,
            "Failed": self.bad,
            "NA": self.muted,
            "Success": self.good,
            "Valid": self.good,
            "Invalid": self.bad,
            "Error": self.bad,
            "Warning": self.warn,
        }
