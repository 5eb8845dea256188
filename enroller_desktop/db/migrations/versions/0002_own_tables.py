"""Our own table and column: the contact libraries' verdict on each distinct email and
phone value, and a run's cancel requested by another process.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('contact_verdicts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('mobile', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_verdicts'))
    )
    with op.batch_alter_table('contact_verdicts', schema=None) as batch_op:
        batch_op.create_index('ix_contact_verdicts_value', ['value'], unique=False, postgresql_using='hash')
    # One verdict per value: the funnel joins them to candidates. A B-tree cannot
    # hold PostgreSQL texts of any length, so there the key is the value's md5.
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE UNIQUE INDEX uq_contact_verdicts_value ON contact_verdicts (kind, country, md5(value))")
    else:
        op.create_index("uq_contact_verdicts_value", "contact_verdicts", ["kind", "country", "value"], unique=True)

    with op.batch_alter_table("enroller_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_requested_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_index("uq_contact_verdicts_value", table_name="contact_verdicts")
    with op.batch_alter_table("enroller_runs", schema=None) as batch_op:
        batch_op.drop_column("cancel_requested_at")
    with op.batch_alter_table("contact_verdicts", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_verdicts_value", postgresql_using="hash")
    op.drop_table("contact_verdicts")
