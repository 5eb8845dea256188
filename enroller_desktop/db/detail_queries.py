"""Every query of the run detail window and of the CSV export of a run's tables.

Plain SQLAlchemy Core, no Qt. Each function takes a connection (or the Database)
and returns plain rows; the screens and the export turn them into text.
"""

from __future__ import annotations

import sqlalchemy as sa

from enroller_desktop.db.models import Campaign, EnrollerRun, Organization
from enroller_desktop.errors import UserError

runs = EnrollerRun.__table__
campaigns = Campaign.__table__
organizations = Organization.__table__


class RunNotFound(UserError):
    def __init__(self, run_id: int) -> None:
        super().__init__(f"No enroller run with id {run_id}")


def run_summary(conn: sa.Connection, run_id: int) -> sa.Row:
    """The run's row with its organization and campaign names; raises RunNotFound."""
    query = (
        sa.select(runs, organizations.c.name.label("organization_name"), campaigns.c.name.label("campaign_name"))
        .join(organizations, organizations.c.id == runs.c.organization_id)
        .join(campaigns, campaigns.c.id == runs.c.campaign_id)
        .where(runs.c.id == run_id)
    )
    row = conn.execute(query).one_or_none()
    if row is None:
        raise RunNotFound(run_id)
    return row
