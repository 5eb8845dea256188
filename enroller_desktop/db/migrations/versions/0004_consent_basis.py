"""Our columns on the potentials: the CASL consent basis each run relied on, its
evidence and the date its implied consent lapses (engine/consent.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("enroller_run_customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_basis", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("consent_evidence_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("consent_lapses_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("enroller_run_customers", schema=None) as batch_op:
        batch_op.drop_column("consent_lapses_on")
        batch_op.drop_column("consent_evidence_at")
        batch_op.drop_column("consent_basis")
