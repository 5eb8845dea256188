"""Appending many rows fast, inside the caller's transaction.

PostgreSQL takes them through COPY, SQLite through one prepared INSERT run with
executemany. Rows are tuples of plain values (text, numbers, booleans, None) in
the order of the columns named; dates and times come already as text, which both
databases parse into their date and timestamp columns.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection


class BulkWriter:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._postgresql = conn.dialect.name == "postgresql"

    def write(self, table: sa.Table, columns: Sequence[str], rows: list[tuple]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self._postgresql:
            with self._conn.connection.driver_connection.cursor() as cursor:
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self._conn.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", rows)

    @contextlib.contextmanager
    def foreign_keys_checked_at_end(self, tables: Sequence[sa.Table]) -> Iterator[None]:
        """On PostgreSQL, drop the foreign keys of ``tables`` and add them back at
        the end, when one query checks every row at once.

        PostgreSQL checks a foreign key row by row, locking the referenced row each
        time: for a million customers that is most of the load's time. Its manual
        ("Populating a Database") advises this instead. The definitions are read
        back from the catalog, so they return exactly as they were; the ALTERs lock
        the tables until commit, so no other writer can slip a row past the check;
        and a failure rolls the drop back with everything else. SQLite's checks are
        cheap lookups and stay on.
        """
        if not self._postgresql:
            yield
            return
        names = [table.name for table in tables]
        foreign_keys = self._conn.execute(sa.text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = ANY(CAST(:names AS regclass[])) ORDER BY conrelid, conname"
        ), {"names": names}).all()
        for table, name, _ in foreign_keys:
            self._conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        yield
        for table, name, definition in foreign_keys:
            self._conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')

    def max_id(self, table: sa.Table) -> int:
        return self._conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()

    def finish(self, tables: Sequence[sa.Table]) -> None:
        """After rows written with explicit ids: move PostgreSQL's id sequences past
        them (SQLite's rowid needs nothing), and refresh the planner's statistics
        so that the first run over the new rows gets a good plan."""
        for table in tables:
            if self._postgresql and "id" in table.c:
                self._conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), max(id)) FROM {table.name}"
                )
            self._conn.exec_driver_sql(f"ANALYZE {table.name}")
