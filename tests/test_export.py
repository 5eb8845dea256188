"""CSV export (RULES §8): what the file holds, and that it appears whole or not at all."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from enroller_desktop import export, run_detail, tables
from enroller_desktop.db import detail_queries, export_rows
from enroller_desktop.db.detail_queries import PotentialFilter
from enroller_desktop.db.enums import Check, RunPurpose
from enroller_desktop.db.stages import FunnelBox, FunnelSlice
from enroller_desktop.engine.runs import CancelToken
from enroller_desktop.errors import UserError
from enroller_desktop.db.models import EnrollerRunCustomer
from tests.builders import T0, build_run

TABS = run_detail.TAB_NAMES
#: Exports of :func:`pinned_run` as they were written before the export read raw
#: driver rows: whatever makes the export faster must not change a byte of them.
PINNED = Path(__file__).parent / "export_pinned"


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def summary_of(db, run_id):
    with db.read() as conn:
        return detail_queries.run_summary(conn, run_id)


def shown_rows(db, source: tables.TableSource) -> list[list[str]]:
    """The rows a window shows for ``source``, read page by page as the window does."""
    with db.read() as conn:
        if source.listing is None:
            return [source.table.format(row) for row in source.read_all(conn)]
        rows, key = [], None
        while page := source.listing.page_after(conn, key, 3):
            rows += [source.table.format(row) for row in page]
            key = source.listing.key_of(page[-1])
        return rows


def unguarded(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


def pinned_run(db) -> int:
    """:func:`build_run`'s awkward run, where one validation time carries
    microseconds (shown cut to the second) and one is empty."""
    built = build_run(db, purpose=RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE)
    potentials = EnrollerRunCustomer.__table__
    with db.write() as conn:
        ids = conn.execute(sa.select(potentials.c.id).where(potentials.c.run_id == built.run_id).order_by(potentials.c.id)).scalars().all()
        conn.execute(sa.update(potentials).where(potentials.c.id == ids[1]).values(validated_at=T0 + dt.timedelta(seconds=59.999999)))
        conn.execute(sa.update(potentials).where(potentials.c.id == ids[2]).values(validated_at=None))
        conn.execute(sa.update(potentials).where(potentials.c.run_id == built.run_id).values(consent_basis="express", consent_evidence_at=T0 - dt.timedelta(days=90)))
        conn.execute(sa.update(potentials).where(potentials.c.id == ids[0]).values(
            consent_basis="implied_purchase", consent_evidence_at=T0 - dt.timedelta(days=400, microseconds=1), consent_lapses_on=(T0 + dt.timedelta(days=331)).date()))
    return built.run_id


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_exports_the_pinned_bytes(db, tmp_path, tab):
    run_id = pinned_run(db)
    out = tmp_path / f"{tab}.csv"
    export.export_run_tab(db, run_id, tab, out)
    assert out.read_bytes() == (PINNED / f"{tab}.csv").read_bytes()


def test_sorted_potentials_export_the_pinned_bytes(db, tmp_path):
    run_id = pinned_run(db)
    source = run_detail.run_tab_source(summary_of(db, run_id), "potentials", sort="validated_at", descending=True)
    out = tmp_path / "potentials-by-validation.csv"
    export.export_source(db, source, out)
    assert out.read_bytes() == (PINNED / "potentials-by-validation.csv").read_bytes()


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_reads_back_as_its_titles_and_shown_rows(db, tmp_path, tab):
    built = build_run(db, purpose=RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE)
    out = tmp_path / f"{tab}.csv"
    count = export.export_run_tab(db, built.run_id, tab, out)
    source = run_detail.run_tab_source(summary_of(db, built.run_id), tab)
    header, *rows = read_csv(out)
    assert header == source.table.titles
    assert [[unguarded(cell) for cell in row] for row in rows] == shown_rows(db, source)
    assert count == len(rows) > 0


def test_filtered_and_sorted_potentials_export_exactly_that_filter_in_that_order(db, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "BATCH_SIZE", 1)  # several batches, not only what one page holds
    built = build_run(db)
    summary = summary_of(db, built.run_id)
    source = run_detail.run_tab_source(
        summary, "potentials", filter=PotentialFilter(funnel=FunnelSlice(FunnelBox.POTENTIAL_EVENTS, fell_out=True)), sort="last_name", descending=True
    )
    out = tmp_path / "fell-out.csv"
    export.export_source(db, source, out)
    rows = read_csv(out)[1:]
    assert [[unguarded(cell) for cell in row] for row in rows] == shown_rows(db, source)
    assert [row[1] for row in rows] == ["Lee", "'\ttab"]


def test_file_begins_with_the_utf8_byte_order_mark(db, tmp_path):
    built = build_run(db)
    out = tmp_path / "potentials.csv"
    export.export_run_tab(db, built.run_id, "potentials", out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbfFirst Name,")


def test_text_cells_beginning_with_a_formula_character_get_a_quote(db, tmp_path):
    built = build_run(db)
    out = tmp_path / "potentials.csv"
    export.export_run_tab(db, built.run_id, "potentials", out)
    names = [(row[0], row[1]) for row in read_csv(out)[1:]]
    assert ("'=HYPERLINK(\"x\")", "'+1") in names
    assert ("'-minus", "'@at") in names
    assert ("line\nbreak", "'\ttab") in names
    assert ("'\rcarriage", "Lee") in names


def test_commas_quotes_newlines_and_accents_survive(db, tmp_path):
    built = build_run(db)
    out = tmp_path / "potentials.csv"
    export.export_run_tab(db, built.run_id, "potentials", out)
    rows = read_csv(out)[1:]
    assert rows[0][:3] == ["Zoë", "Ångström", "2020 Kia Niro, EV"]
    assert rows[1][:2] == ["Smith, John", 'O"Brien']
    assert rows[4][0] == "line\nbreak"


def test_an_unwritable_folder_gives_a_clear_message_and_no_file(db, tmp_path):
    built = build_run(db)
    if os.geteuid() == 0:  # root writes through permission bits; /sys refuses everyone
        folder = Path("/sys")
    else:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o500)
    with pytest.raises(UserError, match=r"no permission to write in /sys|no permission to write in .*locked"):
        export.export_run_tab(db, built.run_id, "potentials", folder / "potentials.csv")
    assert not (folder / "potentials.csv").exists()


def test_a_vanished_folder_gives_a_clear_message(db, tmp_path):
    built = build_run(db)
    folder = tmp_path / "gone"
    with pytest.raises(UserError, match="the folder .*gone does not exist"):
        export.export_run_tab(db, built.run_id, "potentials", folder / "potentials.csv")
    assert not folder.exists()


def test_a_folder_vanishing_during_the_export_leaves_no_file(db, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "BATCH_SIZE", 2)
    built = build_run(db)
    folder = tmp_path / "vanishing"
    folder.mkdir()

    def remove_the_folder(fraction, message):
        for leftover in folder.iterdir():
            leftover.unlink()
        if folder.exists():
            folder.rmdir()

    with pytest.raises(UserError, match="no longer exists"):
        export.export_run_tab(db, built.run_id, "potentials", folder / "potentials.csv", progress=remove_the_folder)
    assert not folder.exists()


def test_a_canceled_export_leaves_no_file_and_keeps_the_one_it_would_replace(db, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "BATCH_SIZE", 2)
    built = build_run(db)
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "potentials.csv"
    out.write_text("yesterday's export")
    token = CancelToken()

    def cancel_after_first_batch(fraction, message):
        token.cancel()

    with pytest.raises(export.ExportCanceled):
        export.export_run_tab(db, built.run_id, "potentials", out, progress=cancel_after_first_batch, cancel=token)
    assert out.read_text() == "yesterday's export"
    assert [path.name for path in folder.iterdir()] == ["potentials.csv"]


def test_a_missing_run_is_a_user_error(db, tmp_path):
    with pytest.raises(UserError, match="No enroller run with id 4242"):
        export.export_run_tab(db, 4242, "events", tmp_path / "events.csv")
    assert not (tmp_path / "events.csv").exists()


def test_failed_check_filter_exports_only_those_that_failed_it(db, tmp_path):
    built = build_run(db)
    source = run_detail.run_tab_source(summary_of(db, built.run_id), "potentials", filter=PotentialFilter(failed_check=Check.CASL))
    out = tmp_path / "casl.csv"
    export.export_source(db, source, out)
    rows = read_csv(out)[1:]
    casl = source.table.column_index("casl")
    assert [(row[0], row[casl]) for row in rows] == [("Ann", "Failed"), ("", "Failed")]


@pytest.mark.parametrize("tab", TABS)
def test_command_line_export_writes_each_tab(db_url, db, tmp_path, tab):
    built = build_run(db)
    out = tmp_path / f"{tab}.csv"
    done = subprocess.run(
        [sys.executable, "-m", "enroller_desktop", "--db", db_url, "export", str(built.run_id), "--tab", tab, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = read_csv(out)
    assert done.stdout.strip() == f"Wrote {len(rows) - 1} rows to {out}"
    assert rows[0] == run_detail.run_tab_source(summary_of(db, built.run_id), tab).table.titles


def test_command_line_export_of_a_missing_run_exits_2_with_one_line(db_url, db, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "enroller_desktop", "--db", db_url, "export", "99", "--tab", "summary", "--out", str(tmp_path / "x.csv")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "enroller-desktop: No enroller run with id 99"
    assert not (tmp_path / "x.csv").exists()


def test_texts_kept_per_value_are_forgotten_past_the_limit_without_changing_a_byte(db, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "_KEPT_TEXTS", 2)
    monkeypatch.setattr(export, "BATCH_SIZE", 3)
    run_id = pinned_run(db)
    for tab in ("potentials", "campaign-customers"):
        out = tmp_path / f"{tab}.csv"
        export.export_run_tab(db, run_id, tab, out)
        assert out.read_bytes() == (PINNED / f"{tab}.csv").read_bytes()


def test_a_check_value_the_program_does_not_know_stops_the_export_with_no_file(db, tmp_path):
    built = build_run(db)
    potentials = EnrollerRunCustomer.__table__
    with db.write() as conn:
        conn.execute(sa.update(potentials).where(potentials.c.last_name == "Zola").values(casl=7))
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(UserError, match="a row's casl holds a value this program does not know"):
        export.export_run_tab(db, built.run_id, "potentials", folder / "potentials.csv")
    assert list(folder.iterdir()) == []


def test_a_driver_error_while_exporting_is_raised_as_sqlalchemy_s(db):
    missing = sa.table("no_such_table", sa.column("id"))
    with pytest.raises(sa.exc.DBAPIError, match="no_such_table"):
        with db.read() as conn, export_rows.driver_rows(conn, sa.select(missing.c.id), 10):
            pass


def test_csv_fields_are_written_as_csv_writer_writes_them():
    texts = ["".join(chars) for length in range(4) for chars in itertools.product('a,"\r\n =\'é', repeat=length)]
    lines = io.StringIO(newline="")
    writer = csv.writer(lines)
    ours = []
    for row in zip(texts, reversed(texts)):
        writer.writerow(row)
        ours.append(",".join(map(export.csv_field, row)) + "\r\n")
    assert "".join(ours) == lines.getvalue()


# -- a large export split between two processes -----------------------------------

@pytest.fixture
def exports(tmp_path) -> Path:
    """A folder of its own (a SQLite test database lives in tmp_path)."""
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def _helpers() -> list[str]:
    import multiprocessing

    return [child.name for child in multiprocessing.active_children() if child.name == "export second half"]


@pytest.mark.parametrize("tab", ["potentials", "campaign-customers"])
def test_a_large_export_of_a_finished_run_split_between_two_processes_writes_the_same_bytes(db, exports, monkeypatch, tab):
    monkeypatch.setattr(export, "SPLIT_ROWS", 2)
    monkeypatch.setattr(export, "BATCH_SIZE", 2)
    run_id = pinned_run(db)
    seen = []
    out = exports / f"{tab}.csv"
    export.export_run_tab(db, run_id, tab, out, progress=lambda fraction, message: seen.extend(_helpers()))
    assert seen, "the second process never ran"
    assert out.read_bytes() == (PINNED / f"{tab}.csv").read_bytes()
    assert [path.name for path in exports.iterdir()] == [out.name]


def test_a_split_export_keeps_the_window_s_sort(db, exports, monkeypatch):
    monkeypatch.setattr(export, "SPLIT_ROWS", 2)
    run_id = pinned_run(db)
    source = run_detail.run_tab_source(summary_of(db, run_id), "potentials", sort="validated_at", descending=True)
    out = exports / "potentials-by-validation.csv"
    export.export_source(db, source, out)
    assert out.read_bytes() == (PINNED / "potentials-by-validation.csv").read_bytes()


def test_a_run_still_in_progress_is_exported_by_one_process(db, exports, monkeypatch):
    """Its rows may change between two transactions: one reads them all."""
    monkeypatch.setattr(export, "SPLIT_ROWS", 2)
    monkeypatch.setattr(export, "BATCH_SIZE", 2)
    built = build_run(db)
    with db.write() as conn:
        conn.execute(sa.text("UPDATE enroller_runs SET status = 'in_progress' WHERE id = :r"), {"r": built.run_id})
    seen = []
    export.export_run_tab(db, built.run_id, "potentials", exports / "p.csv", progress=lambda f, m: seen.extend(_helpers()))
    assert seen == []
    source = run_detail.run_tab_source(summary_of(db, built.run_id), "potentials")
    assert [[unguarded(c) for c in row] for row in read_csv(exports / "p.csv")[1:]] == shown_rows(db, source)


def test_a_canceled_split_export_leaves_no_file_and_no_second_process(db, exports, monkeypatch):
    monkeypatch.setattr(export, "SPLIT_ROWS", 2)
    monkeypatch.setattr(export, "BATCH_SIZE", 1)
    run_id = pinned_run(db)
    token = CancelToken()
    with pytest.raises(export.ExportCanceled):
        export.export_run_tab(db, run_id, "potentials", exports / "p.csv", progress=lambda f, m: token.cancel(), cancel=token)
    assert list(exports.iterdir()) == []
    assert _helpers() == []


def test_a_second_process_killed_mid_export_gives_a_clear_message_and_no_file(db, exports, monkeypatch):
    import multiprocessing
    import signal

    monkeypatch.setattr(export, "SPLIT_ROWS", 2)
    monkeypatch.setattr(export, "BATCH_SIZE", 1)
    run_id = pinned_run(db)

    def kill_the_helper(fraction, message):
        for child in multiprocessing.active_children():
            if child.name == "export second half":
                os.kill(child.pid, signal.SIGKILL)
                child.join()

    with pytest.raises(UserError, match="second half of the rows failed"):
        export.export_run_tab(db, run_id, "potentials", exports / "p.csv", progress=kill_the_helper)
    assert list(exports.iterdir()) == []
