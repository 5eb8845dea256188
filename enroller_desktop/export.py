"""CSV export (SPEC 8), shared by the command line and the window. No Qt.

A file is written beside its target under a temporary name and renamed over the
target only once it is whole, so a reader never sees half a file: a canceled or
failed export leaves nothing behind (and an existing file at the target stays as
it was). Text is UTF-8 with a byte-order mark, so spreadsheet programs read accents
right; a text cell that begins with ``=``, ``+``, ``-``, ``@``, tab or carriage
return gets a leading ``'``, so a spreadsheet never runs it as a formula.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from enroller_desktop import run_tables
from enroller_desktop.db import detail_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.errors import UserError

ProgressCallback = Callable[[float, str], None]
BATCH_SIZE = 5000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def write_csv(
    path: str | os.PathLike,
    titles: Sequence[str],
    batches: Iterable[list[list[str]]],
    *,
    guarded_columns: Sequence[int] = (),
    total: int | None = None,
    progress: ProgressCallback | None = None,
    cancel=None,
) -> int:
    """Write ``titles`` then every row of ``batches`` (lists of text cells) to
    ``path``; return the number of rows. ``cancel`` (anything with ``cancelled``)
    is polled between batches. Raises :class:`UserError` for a place that cannot be
    written and :class:`ExportCanceled`; either way no file appears."""
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
    written = 0
    try:
        with open(handle, "w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(titles)
            for batch in batches:
                if cancel is not None and cancel.cancelled:
                    raise ExportCanceled
                for index in guarded_columns:
                    for row in batch:
                        row[index] = guard_formula(row[index])
                writer.writerows(batch)
                written += len(batch)
                if progress is not None:
                    progress(written / total if total else 0.0, f"{written:,} rows written")
            if cancel is not None and cancel.cancelled:
                raise ExportCanceled
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, _FILE_MODE)
        os.replace(temporary, target)
    except BaseException as exc:
        _remove(temporary)
        if isinstance(exc, OSError):
            raise _unwritable(target, exc) from None
        raise
    if progress is not None:
        progress(1.0, f"{written:,} rows written to {target.name}")
    return written


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass  # the folder itself is gone, or the file never got there


def _unwritable(target: Path, exc: OSError) -> UserError:
    if isinstance(exc, FileNotFoundError):
        return UserError(f"Cannot export to {target}: the folder {target.parent} no longer exists")
    if isinstance(exc, PermissionError):
        return UserError(f"Cannot export to {target}: no permission to write in {target.parent}")
    return UserError(f"Cannot export to {target}: {exc.strerror or exc}")


def export_source(
    db: Database,
    source: run_tables.TableSource,
    path: str | os.PathLike,
    *,
    progress: ProgressCallback | None = None,
    cancel=None,
) -> int:
    """Export every row of ``source`` (its whole filter and sort, not only what a
    window has loaded) as shown, in one read transaction."""
    with db.read() as conn:
        total = source.count(conn)
        return write_csv(
            path,
            source.table.titles,
            source.batches(conn, BATCH_SIZE),
            guarded_columns=source.table.free_text_columns,
            total=total,
            progress=progress,
            cancel=cancel,
        )


def export_run_tab(db: Database, run_id: int, tab: str, out: str | os.PathLike, *, progress: ProgressCallback | None = None, cancel=None) -> int:
    """The command line's ``export``: one whole tab of a run, unfiltered, in the
    window's default order. A missing run raises :class:`UserError`."""
    if tab not in run_tables.TAB_NAMES:
        raise UserError(f"Unknown tab {tab!r}: one of {', '.join(run_tables.TAB_NAMES)}")
    with db.read() as conn:
        summary = detail_queries.run_summary(conn, run_id)
    return export_source(db, run_tables.run_tab_source(summary, tab), out, progress=progress, cancel=cancel)
