"""Read queries of the consent audit (issue 13): why each enrollment was allowed,
from what the run that enrolled it recorded.

The audit reads the potential the enrolling run wrote (its checks, the consent
basis, evidence and lapse date it decided on) and never today's customer row,
so a customer who later withdrew still shows the consent the run relied on.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from enroller_desktop.db.enums import Check
from enroller_desktop.db.models import Campaign, CampaignCustomer, EnrollerRun, EnrollerRunCustomer, Organization, Vehicle

potentials = EnrollerRunCustomer.__table__
campaign_customers = CampaignCustomer.__table__
runs = EnrollerRun.__table__
vehicles = Vehicle.__table__

_NO_VEHICLE = sa.literal_column("0")


def _enrolled_in(campaign_id: int, first_day: dt.date | None, last_day: dt.date | None) -> list:
    """The campaign's enrollments made by a run, enrolled between the two UTC dates (inclusive)."""
    cc = campaign_customers.c
    where = [cc.campaign_id == campaign_id, cc.run_id.is_not(None)]
    if first_day is not None:
        where.append(cc.enrolled_at >= dt.datetime.combine(first_day, dt.time.min, tzinfo=dt.timezone.utc))
    if last_day is not None:
        where.append(cc.enrolled_at < dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.timezone.utc))
    return where


def audit_query(campaign_id: int, first_day: dt.date | None = None, last_day: dt.date | None = None) -> sa.Select:
    """One row per enrollment of the campaign made by a run (enrolled between the
    dates, when given), in the order they were enrolled, with the enrolling run's
    potential of it: its checks and the consent it recorded."""
    cc, p, r, v = campaign_customers.c, potentials.c, runs.c, vehicles.c
    potential_of = sa.and_(
        p.run_id == cc.run_id,
        p.customer_id == cc.customer_id,
        sa.func.coalesce(p.vehicle_id, _NO_VEHICLE) == sa.func.coalesce(cc.vehicle_id, _NO_VEHICLE),
        p.event_key == sa.func.coalesce(cc.event_key, ""),
    )
    return (
        sa.select(
            cc.customer_id,
            p.first_name,
            p.last_name,
            cc.vehicle_id,
            v.vin,
            cc.event_key,
            cc.run_id,
            r.as_of,
            cc.enrolled_at,
            *(p[check.value] for check in Check),
            p.consent_basis,
            p.consent_evidence_at,
            p.consent_lapses_on,
        )
        .select_from(
            campaign_customers.join(runs, r.id == cc.run_id)
            .outerjoin(potentials, potential_of)
            .outerjoin(vehicles, v.id == cc.vehicle_id)
        )
        .where(*_enrolled_in(campaign_id, first_day, last_day))
        .order_by(cc.enrolled_at, cc.id)
    )


def count_audit(conn: Connection, campaign_id: int, first_day: dt.date | None = None, last_day: dt.date | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(campaign_customers).where(*_enrolled_in(campaign_id, first_day, last_day))
    return conn.execute(query).scalar_one()


def campaign_exists(conn: Connection, campaign_id: int) -> bool:
    return conn.execute(sa.select(Campaign.id).where(Campaign.id == campaign_id)).first() is not None


def canadian_organizations(conn: Connection) -> list[tuple[int, str]]:
    """The organizations CASL applies to (in CA), by name."""
    o = Organization.__table__.c
    return [tuple(row) for row in conn.execute(sa.select(o.id, o.name).where(o.country == "CA").order_by(o.name, o.id))]


def campaign_timezone(conn: Connection, campaign_id: int) -> str | None:
    """The zone of the campaign's organization, as stored (may be empty or unknown)."""
    o, c = Organization.__table__.c, Campaign.__table__.c
    return conn.execute(sa.select(o.timezone).join_from(Campaign.__table__, Organization.__table__, c.organization_id == o.id)
                        .where(c.id == campaign_id)).scalar()


def run_campaign(conn: Connection, run_id: int) -> int | None:
    """The campaign of a run (None when the run does not exist)."""
    return conn.execute(sa.select(runs.c.campaign_id).where(runs.c.id == run_id)).scalar()
