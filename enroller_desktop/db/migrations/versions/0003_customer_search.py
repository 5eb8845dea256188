"""Expression indexes that make the customer search fast at a million customers,
and an index of the potentials by customer for the customer's story.

No column is added to customers: that table belongs to other systems, which
would not maintain a digits column; an expression index is kept by the database
itself whoever writes the row.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from alembic import op

from enroller_desktop.db.customer_queries import index_sql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, columns in index_sql(dialect):
        op.execute(f"CREATE INDEX {name} ON customers ({columns})")
    op.create_index("ix_enroller_run_customers_customer_id", "enroller_run_customers", ["customer_id", "run_id"])


def downgrade() -> None:
    op.drop_index("ix_enroller_run_customers_customer_id", table_name="enroller_run_customers")
    for name, _columns in index_sql(op.get_bind().dialect.name):
        op.execute(f"DROP INDEX {name}")
