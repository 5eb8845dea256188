"""After an export the status bar says how many rows went to which file, in the
singular for one, with a link that opens the file's folder."""

from __future__ import annotations

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from tests.builders import NOW, add_organizations, add_run, add_runs
from .test_main_window import make_settings, open_window
from .test_index_export import export_to


class _FolderOpener(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url)


def test_one_row_is_a_row_and_its_folder_opens_from_the_status_bar(qtbot, sqlite_db, tmp_path):
    add_run(sqlite_db, add_organizations(sqlite_db), created_at=NOW)
    window = open_window(qtbot, sqlite_db, make_settings(tmp_path))
    out = tmp_path / "one run.csv"
    assert export_to(qtbot, window, out) == 1
    label = window.export_status.done_label
    assert label.isVisible()
    assert f"Exported 1 row to {out}" in label.text() and "rows" not in label.text()
    opener = _FolderOpener()
    QDesktopServices.setUrlHandler("file", opener, "open")
    try:
        label.linkActivated.emit("folder")
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert opener.opened == [QUrl.fromLocalFile(str(tmp_path))]
    window.close()


def test_many_rows_are_rows(qtbot, sqlite_db, tmp_path):
    add_runs(sqlite_db, add_organizations(sqlite_db), 3)
    window = open_window(qtbot, sqlite_db, make_settings(tmp_path))
    out = tmp_path / "runs.csv"
    assert export_to(qtbot, window, out) == 3
    assert f"Exported 3 rows to {out}" in window.export_status.done_label.text()
    window.close()
