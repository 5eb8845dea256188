"""The Help menu: the old help page's column definitions, and About (versions, and where
the data, the settings and the logs live).

The definitions are the runs table's header tooltips (:data:`run_index.COLUMNS`),
quoted from the old help page once, shown here as a list a person can read through.
"""

from __future__ import annotations

import platform
import sqlite3
from html import escape

import sqlalchemy
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QSettings, Qt, QUrl, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTextBrowser, QVBoxLayout, QWidget

from enroller_desktop import __version__
from enroller_desktop.config import data_dir, log_dir
from enroller_desktop.db.engine import Database
from enroller_desktop.logs import LOG_FILE_NAME
from enroller_desktop.run_index import COLUMNS

VIEW_ICON_TITLE = "View icon"
#: What a column is called in a run's funnel, where the old help page's flowchart names it otherwise.
FUNNEL_NAMES = {"Eligible": "Valid Potentials", "Success": "Enrolled"}


def column_definitions() -> list[tuple[str, str]]:
    """(title, definition) of each runs column, in the old help page's order and words."""
    result = []
    for column in COLUMNS:
        title = column.title or VIEW_ICON_TITLE
        head, sep, rest = column.definition.partition(": ")
        result.append((title, rest if sep and head == title else column.definition))
    return result


class ColumnDefinitionsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Column definitions")
        self.setObjectName("columnDefinitions")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(640, 560)
        self.text = QTextBrowser()
        self.text.setAccessibleName("Column definitions")
        rows = "".join(
            f"<dt><b>{escape(title)}</b></dt><dd style='margin-bottom:8px'>{escape(definition)}"
            + (f"<br><i>In a run's funnel: the {FUNNEL_NAMES[title]} box.</i>" if title in FUNNEL_NAMES else "")
            + "</dd>"
            for title, definition in column_definitions()
        )
        self.text.setHtml(
            "<p>The Enroller Runs table, column by column, left to right. "
            "Times are shown on the clock View ▸ Time Zone chooses (each run's organization's by default); "
            "a time's tooltip gives it in UTC, as the database holds it.</p>" + f"<dl>{rows}</dl>"
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)


def database_version(db: Database) -> str:
    """The server's product and version, as the driver reported it on connecting
    (no query: a dead server must not stop the About box)."""
    if db.is_sqlite:
        return f"SQLite {sqlite3.sqlite_version}"
    info = db.engine.dialect.server_version_info
    name = {"postgresql": "PostgreSQL"}.get(db.dialect, db.dialect)
    return f"{name} {'.'.join(str(part) for part in info)}" if info else f"{name} (not connected yet)"


def version_lines(db: Database | None = None) -> list[str]:
    lines = [
        f"Enroller Desktop {__version__}",
        f"Python {platform.python_version()} on {platform.platform(terse=True)}",
        f"Qt {qVersion()}, PySide6 {pyside_version}",
        f"SQLAlchemy {sqlalchemy.__version__}",
    ]
    if db is not None:
        lines.append(f"Database: {database_version(db)}")
    return lines


def show_about(parent: QWidget, db: Database) -> QMessageBox:
    folders = [
        ("Database", db.display_url, None),
        ("Data folder", str(data_dir()), data_dir()),
        ("Log file", str(log_dir() / LOG_FILE_NAME), log_dir()),
        ("Settings", QSettings().fileName(), None),
    ]
    where = "".join(
        f"<tr><td>{name}</td><td>"
        + (f"<a href='{QUrl.fromLocalFile(str(folder)).toString()}'>{escape(text)}</a>" if folder else escape(text))
        + "</td></tr>"
        for name, text, folder in folders
    )
    versions = "<br>".join(escape(line) for line in version_lines(db)[1:])
    box = QMessageBox(parent)
    box.setWindowTitle("About Enroller Desktop")
    box.setIconPixmap(parent.windowIcon().pixmap(64, 64))
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setText(
        f"<h3>Enroller Desktop {__version__}</h3>"
        "<p>Launch, watch and explain the enroller runs of a dealership's campaigns.</p>"
        f"<p>{versions}</p><table cellspacing='4'>{where}</table><p>Times are shown on each organization's clock unless View ▸ Time Zone says otherwise; "
        "CSV files hold them in UTC unless \"Times as shown\" is ticked where the file is saved.</p>"
    )
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.setObjectName("aboutBox")
    box.open()
    return box

