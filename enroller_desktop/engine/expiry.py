"""Expiry (RULES §5): what a Campaign Evaluation and Expire run does after enrolling.

Every active enrollment of the campaign (``expired_at`` empty, status not
completed — so enrollments in ``error`` too) expires when one of the reasons
holds; the first that holds is recorded.

Which moment: the enrollments are written as they are when the run expires them
(in its enrolling transaction, so a completion another system committed
meanwhile is never overwritten), but a run given ``judged`` (its snapshot's
active enrollments, ``engine.snapshot``) expires only those: an enrollment
committed after the run's snapshot was never judged by it and is left for the
next run. "Still a candidate" is this run's candidates, which are of the snapshot.
"""

from __future__ import annotations

import datetime as dt
import operator

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from enroller_desktop.db.enums import CampaignCustomerStatus, Expiration
from enroller_desktop.engine.funnel import ENROLLMENTS, POTENTIALS, FunnelContext, vehicle_key
from enroller_desktop.engine.sql_time import compare_moments, start_of_day, time_literal


def expire(conn: Connection, ctx: FunnelContext, *, ends_on: dt.date | None, expire_after_days: int | None,
           judged: sa.Table | None = None) -> int:
    """Expire what no longer holds (among the ids of ``judged``, when given);
    returns how many enrollments expired."""
    cc, p = ENROLLMENTS, POTENTIALS
    campaign_ended = ends_on is not None and ctx.as_of_date > ends_on
    reasons: list[tuple[sa.ColumnElement[bool], str]] = []
    if campaign_ended:
        reasons.append((sa.true(), Expiration.CAMPAIGN_ENDED.value))
    if expire_after_days is not None:
        cutoff = start_of_day(ctx.as_of_date - dt.timedelta(days=expire_after_days))
        aged_out = compare_moments(ctx, cc.c.enrolled_at, operator.lt, cutoff)
        reasons.append((sa.and_(cc.c.enrolled_at.is_not(None), aged_out), Expiration.AGED_OUT.value))
    still_candidate = sa.exists().where(
        p.c.run_id == ctx.run_id,
        p.c.customer_id == cc.c.customer_id,
        vehicle_key(p.c.vehicle_id) == vehicle_key(cc.c.vehicle_id),
    )
    reasons.append((~still_candidate, Expiration.NO_LONGER_QUALIFIES.value))

    statement = (
        sa.update(cc)
        .values(expired_at=time_literal(ctx.as_of), expiration=sa.case(*reasons))
        .where(
            cc.c.campaign_id == ctx.campaign_id,
            cc.c.expired_at.is_(None),
            cc.c.status != CampaignCustomerStatus.COMPLETED.value,
            sa.or_(*(condition for condition, _ in reasons)),
        )
    )
    if judged is not None:
        statement = statement.where(cc.c.id.in_(sa.select(judged.c.id)))
    return conn.execute(statement).rowcount
