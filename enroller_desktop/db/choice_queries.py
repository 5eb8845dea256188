"""What the filters and dialogs offer to choose from: the organizations, their
campaigns, and the customers of an organization (New Run's customer picker).

Plain rows, no Qt; the window asks for them on the thread pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from enroller_desktop.db import folding
from enroller_desktop.db.models import Campaign, Customer, Organization

orgs = Organization.__table__
campaigns = Campaign.__table__
customers = Customer.__table__


def organization_timezones(conn: Connection) -> dict[int, str | None]:
    """Each organization's time zone, as stored."""
    return dict(conn.execute(sa.select(orgs.c.id, orgs.c.timezone)).all())


def organizations(conn: Connection) -> list[tuple[int, str]]:
    return [tuple(r) for r in conn.execute(sa.select(orgs.c.id, orgs.c.name).order_by(orgs.c.name, orgs.c.id))]


@dataclass(frozen=True)
class CampaignChoice:
    id: int
    name: str
    organization_id: int
    organization: str
    active: bool


def campaign_choices(conn: Connection, organization_id: int | None = None) -> list[CampaignChoice]:
    """Campaigns (of one organization, or all), by organization then name."""
    query = (
        sa.select(campaigns.c.id, campaigns.c.name, orgs.c.id, orgs.c.name, campaigns.c.active)
        .join(orgs, orgs.c.id == campaigns.c.organization_id)
        .order_by(orgs.c.name, campaigns.c.name, campaigns.c.id)
    )
    if organization_id is not None:
        query = query.where(campaigns.c.organization_id == organization_id)
    return [CampaignChoice(*r) for r in conn.execute(query)]


@dataclass(frozen=True)
class CustomerChoice:
    id: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    mobile: str | None

    @property
    def label(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p) or "(no name)"
        contact = " · ".join(p for p in (self.email, self.mobile or self.phone) if p)
        return f"{name} — {contact} (#{self.id})" if contact else f"{name} (#{self.id})"


def customer_choices(conn: Connection, organization_id: int, text: str, *, limit: int = 20) -> list[CustomerChoice]:
    """Customers of the organization whose name, email or phone contains ``text``
    (without regard to case or accents, see ``db.folding``). Digits typed for a
    phone match the stored number whatever its punctuation."""
    words = text.split()
    query = sa.select(
        customers.c.id,
        customers.c.first_name,
        customers.c.last_name,
        customers.c.email,
        customers.c.phone,
        customers.c.mobile,
    ).where(customers.c.organization_id == organization_id)
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.strip().lstrip("#").isdigit():
        by_id = customers.c.id == int(text.strip().lstrip("#"))
    else:
        by_id = sa.false()
    for word in words:
        query = query.where(
            sa.or_(
                by_id,
                folding.contains(customers.c.first_name, word),
                folding.contains(customers.c.last_name, word),
                folding.contains(customers.c.email, word),
                *(
                    [_digits_of(customers.c.phone).like(f"%{digits}%"), _digits_of(customers.c.mobile).like(f"%{digits}%")]
                    if len(digits) >= 3 and any(ch.isdigit() for ch in word)
                    else []
                ),
            )
        )
    query = query.order_by(customers.c.last_name, customers.c.first_name, customers.c.id).limit(limit)
    return [CustomerChoice(*r) for r in conn.execute(query)]


def _digits_of(column):
    stripped = column
    for ch in " -().+":
        stripped = sa.func.replace(stripped, ch, "")
    return stripped
