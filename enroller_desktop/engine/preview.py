"""Preview: what a Default run of a campaign would do now, without writing anything.

The campaign-simulation funnel of :mod:`enroller_desktop.engine.funnel`, run by the
engine's own functions inside one transaction that is rolled back: the candidates
are inserted under a run id no run has (the potentials table has no foreign key),
the contact verdicts a run would compute are computed and stored in the same
transaction, the stages and the sole blockers are counted, and everything is
undone. No run row, no potential, no verdict, no enrollment remains.

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
from enroller_desktop.db.models import Campaign, CampaignExcludedTag, ContactVerdict, Organization, QueryParam
from enroller_desktop.engine import contact_rules, contacts, criteria, funnel, snapshot
from enroller_desktop.engine.runs import _not_applicable_reason, utcnow
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
            return _compute(conn, campaign_id, as_of, report, cancel, db.dialect)
        finally:
            transaction.rollback()


def _compute(conn, campaign_id: int, as_of: dt.datetime, report, cancel, dialect: str) -> Preview:
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
        marketing_exclusion_days=campaign.marketing_exclusion_days, has_excluded_tags=bool(has_excluded), dialect=dialect)
    reason = _not_applicable_reason(campaign, params, ctx.as_of_date, RunPurpose.CAMPAIGN_SIMULATION, None, None)
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
    report(0.85, "Validating contact details")
    if ctx.uses_any_channel:
        _judge_missing(conn, ctx, candidates)
        funnel.repair_channel_checks(conn, ctx, validated_at, candidates)
    names = [c.name for c in funnel.POTENTIALS.c if c.name != "id"]
    conn.execute(funnel.POTENTIALS.insert().from_select(names, sa.select(*(candidates.c[n] for n in names))))
    _check(cancel)
    report(0.95, "Counting the funnel")
    counts = funnel.count_stages(conn, PREVIEW_RUN_ID)
    counts["success"] = counts["eligible"]
    blockers = explain_queries.sole_blockers(conn, PREVIEW_RUN_ID).alone
    report(1.0, "Preview ready")
    return Preview(campaign_id, as_of, counts, blockers)


def _judge_missing(conn, ctx: funnel.FunnelContext, candidates: sa.Table) -> None:
    """Store, in this transaction only, the verdicts a run would compute first."""
    emails, phones = funnel.values_awaiting_verdicts(ctx, candidates)
    for kind, country, values_of in ((contact_rules.EMAIL, "", emails), (contact_rules.PHONE, ctx.country, phones)):
        values = conn.execute(contacts.unjudged_among(kind, country, values_of)).scalars().all()
        if values:
            verdicts = contact_rules.judge(kind, country, values)
            conn.execute(sa.insert(ContactVerdict.__table__), [
                {"kind": kind, "country": country, "value": value, "valid": valid, "mobile": mobile}
                for value, (valid, mobile) in zip(values, verdicts)])
