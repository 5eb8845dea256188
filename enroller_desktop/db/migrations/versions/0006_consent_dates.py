"""Indexes of an organization's customers by last purchase and by last inquiry:
the consent forecast reads only the customers whose purchase or inquiry lies in
the few days that can end implied consent in its window (engine/consent_outlook.py),
a range of each index, instead of every customer of the organization.

Indexes only: customers belongs to other systems, and the database keeps an
index whoever writes the row.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_customers_organization_id_last_purchase_at": ["organization_id", "last_purchase_at"],
    "ix_customers_organization_id_last_inquiry_at": ["organization_id", "last_inquiry_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "customers", columns)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="customers")
