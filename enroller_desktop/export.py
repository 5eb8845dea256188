"""CSV export (RULES §8), shared by the command line and the window. No Qt.

A file is written beside its target under a temporary name and renamed over the
target only once it is whole, so a reader never sees half a file: a canceled or
failed export leaves nothing behind (and an existing file at the target stays as
it was). Text is UTF-8 with a byte-order mark, so spreadsheet programs read accents
right; a text cell that begins with ``=``, ``+``, ``-``, ``@``, tab or carriage
return gets a leading ``'``, so a spreadsheet never runs it as a formula.

Speed (issue 5: a million potentials at no less than half the speed of the
``sqlite3`` shell): rows come straight from the driver's cursor, the columns of
few values packed into one integer by SQL; every distinct value's text is worked
out and quoted once; lines are put together column by column a batch at a time;
past :data:`SPLIT_ROWS` rows of a finished run, a second process writes the
second half. The bytes are those csv.writer wrote (``tests/export_pinned``).
"""

from __future__ import annotations

import contextlib
import errno
import multiprocessing
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TextIO

from enroller_desktop import lifeline, run_detail, run_index, tables
from enroller_desktop.db import detail_queries, index_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.errors import UserError, one_line
from enroller_desktop.times import TimeFormat

ProgressCallback = Callable[[float, str], None]
BATCH_SIZE = 5000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: What makes csv.writer (default dialect, minimal quoting) quote a field.
_QUOTED = ',"\r\n'
_NEEDS_QUOTES = re.compile(f"[{_QUOTED}]")
#: What makes a free-text cell differ from its text: a formula start, or quoting.
_NOT_AS_IS = re.compile(f"\\A[{re.escape(''.join(FORMULA_STARTS))}]|[{_QUOTED}]")
#: Distinct values a column keeps the text of; past it the column starts afresh,
#: so a column of all-different values costs bounded memory.
_KEPT_TEXTS = 65_536


class ExportCanceled(Exception):
    """The user canceled the export; no file was written."""


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: A finished export gets the permissions of a file the user created (mkstemp's are private).
_FILE_MODE = 0o666 & ~_current_umask()


def guard_formula(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_field(text: str) -> str:
    """``text`` as :func:`csv.writer` writes a field of a line of several: in
    quotes, its quotes doubled, when it holds a comma, a quote or a line break;
    as it is otherwise. Lines are put together here rather than by csv.writer
    because most of a line is the same from row to row (see :class:`_LineWriter`)."""
    return '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text


def _field(text: str, guarded: bool) -> str:
    return csv_field(guard_formula(text) if guarded else text)


def _plain_field(value: str | None) -> str:
    """A cell whose text is its value (not :attr:`~tables.Cell.derived`)."""
    return "" if value is None else csv_field(value)


def _guarded_field(value: str | None) -> str:
    """A free-text cell whose text is its value, formula-guarded."""
    if value is None:
        return ""
    if _NOT_AS_IS.search(value) is None:  # nearly every name: one search instead of two
        return value
    return csv_field(guard_formula(value))


class _KeptTexts(dict):
    """Texts by value, each worked out on first sight by ``make``."""

    def __init__(self, make: Callable) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, value) -> str:
        if len(self) >= _KEPT_TEXTS:
            self.clear()
        text = self[value] = self.make(value)
        return text


class _LineWriter:
    """A table's rows as CSV lines, a batch at a time, built column by column.

    A line is its segments joined by commas. A cell that is not categorical is a
    segment of its own, worked out, guarded and quoted once per distinct value
    (a name, a time, a vehicle). A run of neighbouring categorical columns
    (statuses, checks) is one segment, its cells already joined, worked out once
    per distinct combination of their fields. The formula guard applies only to
    free-text columns: a closed set of shown values never starts with a formula
    character."""

    def __init__(self, reader: tables.TableReader) -> None:
        table = reader.table
        cells = {cell.index: cell for cell in reader.cells}
        runs: list[list[tables.Column]] = []
        self.segments: list[Callable[[Sequence, list], Iterable[str]]] = []
        for index, column in enumerate(table.columns):
            if not column.categorical:
                self.segments.append(_cell_segment(cells[index]))
            elif index and table.columns[index - 1].categorical:
                runs[-1].append(column)
            else:
                runs.append([column])
                self.segments.append(_run_segment(len(runs) - 1))
        self.category_key = reader.category_key

        def combination(key) -> tuple[str, ...]:
            texts = dict(zip(table.columns, reader.category_texts(key)))
            return tuple(",".join(_field(texts[column], column.free_text) for column in run) for run in runs)

        self.combinations = _KeptTexts(combination)

    def lines(self, batch: Sequence[Sequence]) -> str:
        combinations = list(map(self.combinations.__getitem__, map(self.category_key, batch))) if self.category_key else []
        return "\r\n".join(map(",".join, zip(*(segment(batch, combinations) for segment in self.segments)))) + "\r\n"


def _cell_segment(cell: tables.Cell) -> Callable[[Sequence, list], Iterable[str]]:
    guarded = cell.column.free_text
    if cell.derived:
        encode = _KeptTexts(lambda value: _field(cell.text(value), guarded)).__getitem__
    else:
        encode = _KeptTexts(_guarded_field if guarded else _plain_field).__getitem__
    values = cell.values
    return lambda batch, combinations: map(encode, map(values, batch))


def _run_segment(run: int) -> Callable[[Sequence, list], Iterable[str]]:
    texts = itemgetter(run)
    return lambda batch, combinations: map(texts, combinations)


def _csv_batches(table: tables.Table, rows: detail_queries.DriverRows) -> Iterator[tuple[int, str]]:
    """Each batch of ``rows`` as its count and its CSV lines."""
    writer = None
    for batch in rows.batches:
        writer = writer or _LineWriter(table.reader(rows.fields, rows.decoders, rows.packing))
        yield len(batch), writer.lines(batch)


@contextlib.contextmanager
def _whole_file(path: str | os.PathLike) -> Iterator[tuple[Path, TextIO]]:
    """A text file that appears at ``path`` only once the block ends without an
    error; until then it is written beside under a temporary name. Raises
    :class:`UserError` for a place that cannot be written."""
    target = Path(path).expanduser().absolute()
    folder = target.parent
    if target.is_dir():
        raise UserError(f"Cannot export to {target}: it is a folder; give a file name")
    if not folder.is_dir():
        raise UserError(f"Cannot export to {target}: the folder {folder} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise _unwritable(target, exc) from None
    try:
        with open(handle, "w", encoding="utf-8-sig", newline="") as out:
            yield target, out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, _FILE_MODE)
        os.replace(temporary, target)
    except BaseException as exc:
        _remove(temporary)
        if isinstance(exc, OSError):
            raise _unwritable(target, exc) from None
        raise


def write_csv(
    out: TextIO,
    titles: Sequence[str],
    batches: Iterable[tuple[int, str]],
    *,
    total: int | None = None,
    progress: ProgressCallback | None = None,
    cancel=None,
) -> int:
    """Write the line of ``titles``, then each batch's lines (a batch being its
    row count and its text); return the number of rows. ``cancel`` (anything
    with ``cancelled``) is polled between batches: :class:`ExportCanceled`."""
    out.write(",".join(map(csv_field, titles)) + "\r\n")
    written = 0
    for count, lines in batches:
        if cancel is not None and cancel.cancelled:
            raise ExportCanceled
        out.write(lines)
        written += count
        if progress is not None:
            progress(written / total if total else 0.0, f"{written:,} rows written")
    if cancel is not None and cancel.cancelled:
        raise ExportCanceled
    return written


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass  # the folder itself is gone, or the file never got there


def _unwritable(target: Path, exc: OSError) -> UserError:
    # A folder that still exists but refuses a new file (/proc, a read-only disk)
    # may answer "no such file": the folder is there, it cannot be written.
    if isinstance(exc, FileNotFoundError) and not target.parent.is_dir():
        return UserError(f"Cannot export to {target}: the folder {target.parent} no longer exists")
    if isinstance(exc, PermissionError):
        return UserError(f"Cannot export to {target}: no permission to write in {target.parent}")
    if exc.errno == errno.EROFS:
        return UserError(f"Cannot export to {target}: the folder {target.parent} is on a read-only disk")
    if isinstance(exc, FileNotFoundError):
        return UserError(f"Cannot export to {target}: the folder {target.parent} cannot be written")
    return UserError(f"Cannot export to {target}: {exc.strerror or exc}")


def export_source(
    db: Database,
    source: tables.TableSource,
    path: str | os.PathLike,
    *,
    progress: ProgressCallback | None = None,
    cancel=None,
) -> int:
    """Export every row of ``source`` (its whole filter and sort, not only what a
    window has loaded) as shown, in one read transaction. Raises
    :class:`UserError` for a place that cannot be written and
    :class:`ExportCanceled`; either way no file appears."""
    with _whole_file(path) as (target, out), db.read() as conn:
        total = source.count(conn)
        if _splittable(db, conn, source, total):
            written = _write_split(db, conn, source, out, target, total, progress=progress, cancel=cancel)
        else:
            with source.rows(conn, BATCH_SIZE) as rows:
                written = write_csv(out, source.table.titles, _csv_batches(source.table, rows), total=total, progress=progress, cancel=cancel)
    if progress is not None:
        progress(1.0, f"{written:,} rows written to {target.name}")
    return written


def export_query(
    db: Database,
    table: tables.Table,
    query,
    path: str | os.PathLike,
    *,
    count: Callable | None = None,
    progress: ProgressCallback | None = None,
    cancel=None,
) -> int:
    """Export every row of a SELECT ``query`` whose keys name ``table``'s fields,
    as ``table`` shows them, in one read transaction (``count(conn)``, when given,
    says how many rows for the progress). Raises :class:`UserError` for a place
    that cannot be written and :class:`ExportCanceled`; either way no file appears."""
    with _whole_file(path) as (target, out), db.read() as conn:
        total = count(conn) if count is not None else None
        with detail_queries.driver_rows(conn, query, BATCH_SIZE) as rows:
            written = write_csv(out, table.titles, _csv_batches(table, rows), total=total, progress=progress, cancel=cancel)
    if progress is not None:
        progress(1.0, f"{written:,} rows written to {target.name}")
    return written


# -- a large export split between two processes ---------------------------------------
#
# Reading a million rows and making their lines costs this process about 3 s of
# interpreter work; the sqlite3 shell does the whole in under 2. With a second
# core, a second process writes the second half of the rows to a part file while
# this one writes the first half, and the part is appended once both are done.
# Only for a finished run: its rows no longer change, so the second process,
# reading in a transaction of its own, sees the same rows in the same order.

#: Rows from which a finished run's table is exported by two processes.
SPLIT_ROWS = 200_000


def _splittable(db: Database, conn, source: tables.TableSource, total: int | None) -> bool:
    if source.listing is None or source.tab is None or total is None or total < SPLIT_ROWS:
        return False
    if (os.cpu_count() or 1) < 2 or (db.is_sqlite and db.engine.url.database in (None, "", ":memory:")):
        return False
    status = detail_queries.run_summary(conn, source.listing.run_id).status
    return status.finished


def _write_split(db: Database, conn, source: tables.TableSource, out: TextIO, target: Path, total: int,
                 *, progress: ProgressCallback | None, cancel) -> int:
    """Write ``source``'s rows to ``out``: the first half from here, the second half
    by a spawned process into a part file beside ``target``, appended at the end."""
    first = total // 2
    context = multiprocessing.get_context("spawn")
    done_there = context.Value("q", 0, lock=False)
    receiver, sender = context.Pipe(duplex=False)
    handle, part = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part2")
    os.close(handle)
    url = db.engine.url.render_as_string(hide_password=False)
    helper = context.Process(
        target=_write_part, name="export second half", daemon=True,
        args=(os.getpid(), url, source.tab, source.listing, first, total - first, part, tuple(source.table.titles), done_there, sender,
              source.times),
    )

    def both(fraction: float, _message: str) -> None:
        done = round(fraction * total) + done_there.value
        progress(done / total, f"{done:,} rows written")

    try:
        with lifeline.spawning():
            helper.start()
        sender.close()
        table = source.table
        with source.listing.driver_rows(conn, BATCH_SIZE, table.fields, pack=table.category_fields, limit=first) as rows:
            written = write_csv(out, table.titles, _csv_batches(table, rows), total=total,
                                progress=both if progress else None, cancel=cancel)
        while helper.is_alive():
            helper.join(0.05)
            if cancel is not None and cancel.cancelled:
                raise ExportCanceled
            if progress is not None:
                both(written / total, "")
        try:
            outcome = receiver.recv() if receiver.poll() else None
        except EOFError:  # it died before a word
            outcome = None
        if outcome is None:
            outcome = ("error", f"it stopped (exit code {helper.exitcode})")
        if outcome[0] != "ok":
            raise UserError(f"Cannot export to {target}: the process writing the second half of the rows failed: {outcome[1]}")
        out.flush()
        with open(part, "rb") as second_half:
            shutil.copyfileobj(second_half, out.buffer, 1 << 20)
        return written + outcome[1]
    finally:
        if helper.is_alive():
            helper.terminate()
            helper.join()
        receiver.close()
        _remove(part)


def _write_part(parent_pid: int, url: str, tab: str, listing: detail_queries.Listing, offset: int, limit: int, part: str,
                titles: tuple[str, ...], done, sender, times=None) -> None:
    """In the second process: rows ``offset`` to ``offset + limit`` of the run tab
    ``tab`` under ``listing``, as CSV lines (no byte-order mark) into ``part``.
    Sends ("ok", rows) or ("error", message) back; ``done`` counts the rows.
    Ends with the first process, even one killed outright (:mod:`enroller_desktop.lifeline`)."""
    from enroller_desktop.db.engine import open_database

    lifeline.bind_to_parent(parent_pid)
    try:
        db = open_database(url, upgrade=False)
        with db.read() as conn:
            summary = detail_queries.run_summary(conn, listing.run_id)
            table = run_detail.run_tab_source(summary, tab, times=times).table
            if tuple(table.titles) != titles:
                raise UserError("the run's columns changed during the export")
            with listing.driver_rows(conn, BATCH_SIZE, table.fields, pack=table.category_fields, offset=offset, limit=limit) as rows, \
                    open(part, "w", encoding="utf-8", newline="") as out:
                for count, lines in _csv_batches(table, rows):
                    out.write(lines)
                    done.value += count
        db.dispose()
        sender.send(("ok", done.value))
    except BaseException as exc:  # noqa: BLE001 - whatever it is, the first process must hear of it
        sender.send(("error", one_line(exc)))
        raise SystemExit(1) from None
    finally:
        sender.close()


def export_run_tab(db: Database, run_id: int, tab: str, out: str | os.PathLike, *, progress: ProgressCallback | None = None, cancel=None) -> int:
    """The command line's ``export``: one whole tab of a run, unfiltered, in the
    window's default order. A missing run raises :class:`UserError`."""
    if tab not in run_detail.TAB_NAMES:
        raise UserError(f"Unknown tab {tab!r}: one of {', '.join(run_detail.TAB_NAMES)}")
    with db.read() as conn:
        summary = detail_queries.run_summary(conn, run_id)
    return export_source(db, run_detail.run_tab_source(summary, tab), out, progress=progress, cancel=cancel)


def export_runs(
    db: Database,
    run_filter: index_queries.RunFilter,
    run_sort: index_queries.RunSort,
    columns: Sequence[run_index.IndexColumn],
    path: str | os.PathLike,
    *,
    progress: ProgressCallback | None = None,
    cancel=None,
    times: TimeFormat | None = None,
) -> int:
    """The main window's runs table: every run of ``run_filter`` in ``run_sort``
    (not only the rows the window has loaded), the ``columns`` the user sees in
    the order they see them, as shown, except that times are ISO 8601 UTC unless
    ``times`` (the user's "times as shown") is given, and counts plain digits (RULES §8). Read in one transaction by keyset pages up
    to the newest run when the export starts, so a run created meanwhile neither
    shifts a page nor half-appears. Raises :class:`UserError` for a place that
    cannot be written and :class:`ExportCanceled`; either way no file appears."""
    columns = tuple(columns)
    with _whole_file(path) as (target, out), db.read() as conn:
        watermark = index_queries.max_run_id(conn)
        total = index_queries.count_runs(conn, run_filter, watermark=watermark)
        batches = _run_batches(conn, run_filter, run_sort, columns, watermark, times)
        written = write_csv(out, [column.title for column in columns], batches, total=total, progress=progress, cancel=cancel)
    if progress is not None:
        progress(1.0, f"{written:,} rows written to {target.name}")
    return written


def _run_batches(conn, run_filter: index_queries.RunFilter, run_sort: index_queries.RunSort, columns: tuple[run_index.IndexColumn, ...], watermark: int,
                 times: TimeFormat | None) -> Iterator[tuple[int, str]]:
    guarded = [column.free_text for column in columns]
    texts = run_index.csv_texts(columns, times)
    after = None
    while True:
        size = BATCH_SIZE
        runs = index_queries.page(conn, run_filter, run_sort, limit=size, after=after, watermark=watermark)
        if runs:
            lines = (",".join(map(_field, texts(run), guarded)) for run in runs)
            yield len(runs), "\r\n".join(lines) + "\r\n"
        if len(runs) < size:
            return
        after = runs[-1].sort_key
