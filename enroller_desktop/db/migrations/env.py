"""Alembic environment: always given a connection by enroller_desktop.db.migrations."""

from alembic import context

from enroller_desktop.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations through enroller_desktop.db.migrations (enroller-desktop init-db)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
