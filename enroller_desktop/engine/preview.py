"""Preview: what a Default run of a campaign would do now, without writing anything.

The campaign-simulation funnel of :mod:`enroller_desktop.engine.funnel`, run by the
engine's own functions inside one transaction that is rolled back: the candidates
are inserted under a run id no run has (the potentials table has no foreign key),
the contact verdicts a run would compute are judged by the engine's own path
(:func:`contacts.ensure_verdicts`, in worker processes when there are many) and
stored in the same transaction, the stages and the sole blockers are counted,
and everything is undone. No run row, no potential, no verdict, no enrollment remains.

Readings: the numbers are those of a Campaign Simulation at the same as-of time
(Success is the eligible count, as for a simulation: nothing is enrolled). On
SQLite the preview holds the write lock while it computes, as a run would; a run
started meanwhile waits for it (the engine's lock wait) or the preview is canceled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from enroller_desktop.db import explain_queries
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import RunPurpose
from enroller_desktop.db.models import Campaign, CampaignExcludedTag, Organization, QueryParam
from enroller_desktop.engine import contact_rules, contacts, criteria, funnel, snapshot
from enroller_desktop.engine.runs import not_applicable_reason, utcnow
from enroller_desktop.errors import UserError

PREVIEW_RUN_ID = -1  # no run has it; the rows under it never outlive the transaction


class PreviewCanceled(Exception):
    pass


@dataclass(frozen=True)
class Preview:
    campaign_id: int
    as_of: dt.datetime
    counts: dict[str, int]  # the funnel's five counts
    sole_blockers: dict[str, int]
    not_applicable: str | None = None


def _check(cancel) -> None:
    if cancel is not None and cancel.cancelled:
        raise PreviewCanceled


def preview_run(db: Database, campaign_id: int, *, as_of: dt.datetime | None = None, progress=None, cancel=None) -> Preview:
    as_of = as_of or utcnow()
    report = progress or (lambda fraction, message: None)
    with db.engine.connect() as conn:
        transaction = conn.begin()
        try:
            return _compute(conn, db, campaign_id, as_of, report, cancel)
        finally:
            transaction.rollback()


def _compute(conn, db: Database, campaign_id: int, as_of: dt.datetime, report, cancel) -> Preview:
    campaign = conn.execute(sa.select(Campaign.__table__).where(Campaign.id == campaign_id)).one_or_none()
    if campaign is None:
        raise UserError(f"No campaign with id {campaign_id}")
    country = conn.execute(sa.select(Organization.country).where(Organization.id == campaign.organization_id)).scalar_one()
    params = conn.execute(sa.select(QueryParam.__table__).where(QueryParam.campaign_id == campaign_id, QueryParam.active == sa.true())
                          .order_by(QueryParam.process_order, QueryParam.id)).all()
    has_excluded = conn.execute(sa.select(sa.exists().where(CampaignExcludedTag.campaign_id == campaign_id))).scalar()
    ctx = funnel.FunnelContext(
        run_id=PREVIEW_RUN_ID, campaign_id=campaign_id, organization_id=campaign.organization_id,
        country=(country or "").upper(), as_of=as_of, customer_id=None, uses_email=bool(campaign.uses_email),
        uses_phone=bool(campaign.uses_phone), uses_sms=bool(campaign.uses_sms),
        marketing_exclusion_days=campaign.marketing_exclusion_days, has_excluded_tags=bool(has_excluded), dialect=db.dialect)
    reason = not_applicable_reason(campaign, params, ctx.as_of_date, RunPurpose.CAMPAIGN_SIMULATION, None, None)
    if reason:
        return Preview(campaign_id, as_of, {}, {}, not_applicable=reason)
    parsed = []
    for row in params:
        try:
            parsed.append((row, criteria.parse(row.criterion), criteria.validate_event_key(row.event_key)))
        except criteria.CriterionError as exc:
            raise UserError(f"Query param '{row.name}' (id {row.id}) has an invalid criterion: {exc}") from None
    validated_at = utcnow()
    # The candidates go where a run's go before it publishes them: a temporary
    # table carrying the contact values (engine.snapshot), here inside the
    # transaction that is rolled back.
    candidates, _enrollments = snapshot.candidate_tables()
    candidates.metadata.create_all(conn, tables=[candidates])
    id_ranges = funnel.customer_batches(conn, ctx)
    for index, (row, node, event_key) in enumerate(parsed):
        for done, ids in enumerate(id_ranges):
            _check(cancel)
            report(0.8 * (index + done / len(id_ranges)) / len(parsed), f"Query param {index + 1} of {len(parsed)}: {row.name}")
            funnel.insert_candidates(conn, ctx, query_param_id=row.id, node=node,
                                     event_key_field=event_key, first=index == 0, validated_at=validated_at, ids=ids,
                                     into=candidates, carry=snapshot.CARRIED)
    _check(cancel)
    report(0.8, "Validating contact details")
    if ctx.uses_any_channel:
        _judge_missing(conn, db, ctx, candidates, report, cancel)
        _check(cancel)
        funnel.repair_channel_checks(conn, ctx, validated_at, candidates)
    columns = snapshot.published_columns(candidates, ctx.dialect)
    conn.execute(funnel.POTENTIALS.insert().from_select(list(columns), sa.select(*columns.values())))
    _check(cancel)
    report(0.95, "Counting the funnel")
    counts = funnel.count_stages(conn, PREVIEW_RUN_ID)
    counts["success"] = counts["eligible"]
    blockers = explain_queries.sole_blockers(conn, PREVIEW_RUN_ID).alone
    report(1.0, "Preview ready")
    return Preview(campaign_id, as_of, counts, blockers)


def _judge_missing(conn, db: Database, ctx: funnel.FunnelContext, candidates: sa.Table, report, cancel) -> None:
    """The verdicts a run would compute first, judged by the engine's own path
    (:func:`contacts.ensure_verdicts`: in worker processes when there are many) and
    stored in this transaction only."""
    emails, phones = funnel.values_awaiting_verdicts(ctx, candidates)
    values = (tuple(conn.scalars(contacts.unjudged_among(contact_rules.EMAIL, "", emails))),
              tuple(conn.scalars(contacts.unjudged_among(contact_rules.PHONE, ctx.country, phones))))
    contacts.ensure_verdicts(
        db, country=ctx.country, values=values, cancel=cancel,
        progress=lambda fraction, message: report(0.8 + 0.15 * fraction, message),
        store=lambda kind, country, chunk, verdicts: contacts.store_verdicts(conn, kind, country, chunk, verdicts))
