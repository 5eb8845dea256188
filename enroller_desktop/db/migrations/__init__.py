"""Alembic migrations, driven from code: the program upgrades a database it opens
and refuses one whose schema is newer than itself."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from enroller_desktop.errors import DatabaseError

_HERE = Path(__file__).resolve().parent


def _config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(db) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def check_not_newer(db) -> None:
    """Refuse a database migrated by a newer program: we cannot know its rules."""
    current = current_revision(db)
    if current is None:
        return
    script = ScriptDirectory.from_config(_config())
    known = {rev.revision for rev in script.walk_revisions()}
    if current not in known:
        raise DatabaseError(
            f"This database was upgraded by a newer Enroller Desktop (schema {current}); "
            f"this program knows schemas up to {head_revision()}. Install the newer version to open it."
        )


def upgrade(db, revision: str = "head") -> None:
    check_not_newer(db)
    with db.engine.begin() as conn:
        command.upgrade(_config(conn), revision)


def downgrade(db, revision: str) -> None:
    with db.engine.begin() as conn:
        command.downgrade(_config(conn), revision)
