"""File ▸ Export Runs (RULES §8): every run of the current filter and sort, the
visible columns as shown, a whole file or none."""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

from enroller_desktop import export
from enroller_desktop.db.enums import RunStatus
from enroller_desktop.db.models import Organization
from enroller_desktop.ui.main_window import MainWindow
from enroller_desktop.run_index import COLUMN_OF_KEY, COLUMNS, VIEW_COLUMN

from .answering import saving
from tests.builders import NOW, add_organizations, add_run, add_runs
from tests.pictures import area_of, filled_share, shoot
from tests.polling import read_to_the_end
from .test_main_window import change_filter, click_header, make_settings, open_window


@pytest.fixture
def window(qtbot, db, tmp_path):
    ids = add_organizations(db)
    add_runs(db, ids, 450)
    w = open_window(qtbot, db, make_settings(tmp_path))
    yield w
    w.close()


def export_to(qtbot, window: MainWindow, out: Path, *, by_keyboard: bool = True, times_as_shown: bool | None = None):
    """Export the runs, saved as ``out`` in the Export dialog with "Times as shown" as asked."""
    with qtbot.waitSignal(window.export_status.finished, timeout=20_000) as finished, \
            saving(qtbot, out, times_as_shown=times_as_shown):
        if by_keyboard:
            qtbot.keyClick(window.view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        else:
            window.export_action.trigger()
    return finished.args[0]


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def every_shown_row(qtbot, window: MainWindow, columns: list[int]) -> list[list[str]]:
    """What a user scrolling to the bottom sees, page by page, in ``columns``."""
    model = window.model
    read_to_the_end(qtbot, model)
    return [[model.index(row, c).data() or "" for c in columns] for row in range(model.rowCount())]


def test_ctrl_e_exports_every_run_of_the_filter_and_sort_as_shown(qtbot, window, tmp_path):
    dock = window.filter_dock
    change_filter(qtbot, window, lambda: dock.statuses[RunStatus.SCHEDULED].setChecked(False))
    with qtbot.waitSignal(window.model.reloaded, timeout=10_000):
        click_header(qtbot, window, COLUMN_OF_KEY["campaign"])
    assert window.model.run_sort.key == "campaign"
    assert window.model.run_at(window.model.rowCount() - 1) is None  # not loaded: the export reads it itself

    written = export_to(qtbot, window, tmp_path / "runs.csv", times_as_shown=True)

    header, *rows = read_csv(tmp_path / "runs.csv")
    view_header = window.view.horizontalHeader()
    data_columns = [c for c in range(window.model.columnCount()) if c != VIEW_COLUMN and not view_header.isSectionHidden(c)]
    assert header == [COLUMNS[c].title for c in data_columns]
    # As shown, but counts as plain digits (RULES §8).
    shown = [[text.replace(",", "") if COLUMNS[c].kind == "count" else text for c, text in zip(data_columns, row)]
             for row in every_shown_row(qtbot, window, data_columns)]
    assert rows == shown
    assert written == len(rows) == window.model.rowCount()
    assert "Scheduled" not in {row[header.index("Status")] for row in rows}


def test_the_export_has_the_columns_the_user_sees_in_their_order(qtbot, window, tmp_path):
    header_view = window.view.horizontalHeader()
    header_view.setSectionHidden(COLUMN_OF_KEY["potential_events"], True)
    header_view.setSectionHidden(COLUMN_OF_KEY["run_id"], False)  # hidden until chosen
    header_view.moveSection(header_view.visualIndex(COLUMN_OF_KEY["status"]), 1)

    export_to(qtbot, window, tmp_path / "runs.csv", by_keyboard=False)

    header = read_csv(tmp_path / "runs.csv")[0]
    assert header[:2] == ["Status", "Created"]
    shown = [c for c in range(window.model.columnCount()) if c != VIEW_COLUMN and not header_view.isSectionHidden(c)]
    assert "Potential Events" not in header and len(header) == len(shown)
    assert "Scheduled For" not in header


def test_times_are_iso_8601_utc_and_counts_plain_digits_by_default(qtbot, window, tmp_path):
    with saving(qtbot, tmp_path / "runs.csv") as offered, qtbot.waitSignal(window.export_status.finished, timeout=20_000):
        window.export_runs()
    assert offered[0][1:] == (False, True)  # "Times as shown" offered, unticked
    header, *rows = read_csv(tmp_path / "runs.csv")
    newest = dict(zip(header, rows[0]))
    assert newest["Created"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    counts = [row[header.index("Query Param Customers")] for row in rows]
    # 2378, never "2,378" (a French-Canadian spreadsheet reads that as 2.378).
    assert all(count == "" or count.isdigit() for count in counts)
    assert any(int(count) >= 1000 for count in counts if count)
    raw = (tmp_path / "runs.csv").read_text(encoding="utf-8-sig")
    assert not any(f'"{int(count):,}"' in raw for count in counts if count and int(count) >= 1000)


def test_a_name_that_looks_like_a_formula_is_exported_as_text(qtbot, db, tmp_path):
    ids = add_organizations(db)
    with db.write() as conn:
        conn.execute(sa.update(Organization.__table__).where(Organization.id == ids["Maple Motors"]).values(name='=HYPERLINK("x"), "Ünïcode"'))
    add_run(db, ids, created_at=NOW)
    window = open_window(qtbot, db, make_settings(tmp_path))
    export_to(qtbot, window, tmp_path / "runs.csv")
    window.close()

    raw = (tmp_path / "runs.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header, row = read_csv(tmp_path / "runs.csv")
    assert row[header.index("Organization")] == '\'=HYPERLINK("x"), "Ünïcode"'


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create a file in (root ignores permissions:
    it gets a read-only file system's folder)."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o500)
        return folder
    try:
        handle, name = tempfile.mkstemp(dir="/sys")
    except PermissionError:
        return Path("/sys")
    os.close(handle)
    os.unlink(name)
    pytest.skip("no folder here refuses a file")


def test_an_unwritable_folder_gives_a_clear_message_and_no_file(qtbot, window, tmp_path, monkeypatch):
    folder = unwritable_folder(tmp_path)
    before = set(os.listdir(folder))
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: None)  # no modal box in a test
    with qtbot.waitSignal(window.export_status.failed, timeout=10_000) as failed, saving(qtbot, folder / "runs.csv"):
        window.export_runs()
    assert failed.args[0] == f"Cannot export to {folder / 'runs.csv'}: no permission to write in {folder}"
    assert set(os.listdir(folder)) == before
    qtbot.waitUntil(lambda: window.export_action.isEnabled(), timeout=10_000)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc, a folder that takes no file")
def test_a_folder_that_exists_but_takes_no_file_says_it_cannot_be_written(qtbot, window, monkeypatch):
    """/proc exists and refuses every new file, to root too, answering "no such file"."""
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: None)
    with qtbot.waitSignal(window.export_status.failed, timeout=10_000) as failed, saving(qtbot, "/proc/runs.csv"):
        window.export_runs()
    assert failed.args[0] == "Cannot export to /proc/runs.csv: the folder /proc cannot be written"
    assert not Path("/proc/runs.csv").exists()


def test_a_folder_that_does_not_exist_gives_a_clear_message(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: None)
    with qtbot.waitSignal(window.export_status.failed, timeout=10_000) as failed, saving(qtbot, tmp_path / "gone" / "runs.csv"):
        window.export_runs()
    assert "does not exist" in failed.args[0]
    assert not (tmp_path / "gone").exists()


def test_cancel_stops_the_export_and_leaves_no_file(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "BATCH_SIZE", 1)
    folder = tmp_path / "exports"
    folder.mkdir()
    window.export_status.progress.valueChanged.connect(lambda value: window.export_status.cancel_button.click())
    with qtbot.waitSignal(window.export_status.finished, timeout=10_000) as finished, saving(qtbot, folder / "runs.csv"):
        window.export_runs()
    assert finished.args == [None]
    assert list(folder.iterdir()) == []
    qtbot.waitUntil(lambda: window.export_action.isEnabled(), timeout=10_000)  # Export is offered again


def test_a_second_export_while_one_runs_is_refused_before_asking_where(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "BATCH_SIZE", 1)
    folder = tmp_path / "exports"
    folder.mkdir()
    with qtbot.waitSignal(window.export_status.progress.valueChanged, timeout=10_000), saving(qtbot, folder / "runs.csv"):
        window.export_runs()
    assert not window.export_action.isEnabled()  # Ctrl+E is not offered meanwhile
    opened = []

    def close_any_dialog() -> None:
        if (dialog := QApplication.activeModalWidget()) is not None:
            opened.append(dialog.windowTitle())
            dialog.reject()

    watch = QTimer(interval=20, timeout=close_any_dialog)
    watch.start()
    window.export_runs()  # and asked for all the same (a menu opened before), it says why
    watch.stop()
    assert opened == []
    assert window.statusBar().currentMessage().startswith("An export is already running")
    with qtbot.waitSignal(window.export_status.finished, timeout=20_000):
        window.export_status.cancel()


def test_a_screenshot_of_the_export_in_progress(qtbot, sqlite_db, tmp_path, monkeypatch):
    ids = add_organizations(sqlite_db)
    add_runs(sqlite_db, ids, 60)
    window = open_window(qtbot, sqlite_db, make_settings(tmp_path))
    monkeypatch.setattr(export, "BATCH_SIZE", 20)
    status = window.export_status
    seen = []

    def shoot_once(value: int) -> None:
        if value > 0 and not seen:
            picture = shoot(window, tmp_path / "main_window_exporting.png")
            seen.append((value / status.progress.maximum(), area_of(status.progress, window), picture))

    status.progress.valueChanged.connect(shoot_once)
    export_to(qtbot, window, tmp_path / "runs.csv")
    window.close()
    (part, bar, picture), = seen
    # The bar in the status bar is filled in the highlight as far as the part done.
    done = filled_share(picture, bar, status.progress.palette().color(QPalette.ColorRole.Highlight))
    assert done == pytest.approx(part, abs=0.08), (part, done)
