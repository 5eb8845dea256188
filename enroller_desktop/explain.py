"""Answers to "why?" that need no run id known: a run's sole blockers, what
changed between two runs, a customer's story across campaigns, a preview of a
run. Plain Python over :mod:`enroller_desktop.db.explain_queries`; no Qt and no
printing: the command line prints what these return, the windows show it.
"""

from __future__ import annotations

import datetime as dt

from enroller_desktop import run_detail, tables
from enroller_desktop.db import customer_queries, detail_queries, explain_queries
from enroller_desktop.db.compare_listing import DifferenceListing
from enroller_desktop.db.engine import Database
from enroller_desktop.db.enums import Check, PotentialStatus, RunPurpose, RunStatus
from enroller_desktop.engine import consent, contact_rules
from enroller_desktop.errors import UserError

COUNT_FIELDS = ("query_param_customers", "potential_customers", "potential_events", "eligible", "success")


def has_potentials(purpose: RunPurpose, status: RunStatus) -> bool:
    """Whether a run's potentials say anything: Criterion Stats writes none, and a
    scheduled run has not looked yet."""
    return purpose is not RunPurpose.CRITERION_STATS and status is not RunStatus.SCHEDULED


def sole_blockers_of(db: Database, run_id: int) -> dict[str, int] | None:
    """The run's sole blockers keyed by condition, or None when the run has no
    potentials to count (see :func:`has_potentials`)."""
    with db.read() as conn:
        summary = detail_queries.run_summary(conn, run_id)
        if not has_potentials(summary.purpose, summary.status):
            return None
        return explain_queries.sole_blockers(conn, run_id).alone


def explain_run(db: Database, run_id: int) -> dict:
    """One run explained: its funnel counts and, for the run and each of its query
    params, how many potentials each condition alone holds back and how many it
    holds back among others. Raises ``RunNotFound`` for an unknown id."""
    with db.read() as conn:
        summary = detail_queries.run_summary(conn, run_id)
        counted = has_potentials(summary.purpose, summary.status)
        blockers = explain_queries.sole_blockers(conn, run_id) if counted else None
        params = explain_queries.query_param_blockers(conn, run_id) if counted else []
    return {
        "run_id": summary.id,
        "campaign_id": summary.campaign_id,
        "campaign": summary.campaign_name,
        "organization": summary.organization_name,
        "purpose": summary.purpose.value,
        "status": summary.status.value,
        "as_of": summary.as_of.isoformat() if summary.as_of else None,
        **{name: getattr(summary, name) for name in COUNT_FIELDS},
        "sole_blockers": blockers.alone if blockers else None,
        "failed_among_others": blockers.among_others if blockers else None,
        "query_params": [
            {"query_param_id": p.query_param_id, "process_order": p.process_order, "name": p.name,
             "sole_blockers": p.blockers.alone, "failed_among_others": p.blockers.among_others}
            for p in params
        ],
    }


def format_explained_run(explained: dict) -> str:
    """The text ``explain`` prints."""
    lines = [f"Run {explained['run_id']}: {explained['campaign']} ({explained['organization']}), "
             f"{RunPurpose(explained['purpose']).label}, {RunStatus(explained['status']).label}"]
    for name in COUNT_FIELDS:
        if explained[name] is not None:
            lines.append(f"  {name.replace('_', ' ').capitalize():<24}{explained[name]:>12,}")
    if explained["sole_blockers"] is None:
        lines.append("  No potentials to explain (a Criterion Stats or scheduled run)")
        return "\n".join(lines)
    lines.append(f"  {'Condition':<34}{'Fails alone':>12}{'Among others':>14}")
    for name in explain_queries.CONDITIONS:
        lines.append(f"  {explain_queries.CONDITION_TITLES[name]:<34}{explained['sole_blockers'][name]:>12,}"
                     f"{explained['failed_among_others'][name]:>14,}")
    for param in explained["query_params"]:
        alone = ", ".join(f"{name} {n:,}" for name, n in param["sole_blockers"].items() if n)
        lines.append(f"  {param['process_order']}. {param['name']}: alone {alone or 'none'}")
    return "\n".join(lines)


# -- comparing two runs --------------------------------------------------------------

COMPARED_TITLES = {
    "valid_email": "Valid Email", "valid_phone": "Valid Phone", "valid_message": "Valid Message", "deleted": "Deleted",
    "unique_event": "Unique Event", "already_in_queue": "Already in Queue", "casl": "CASL", "opt_out_all": "Opt Out All",
    "marketing_exclusion": "Marketing Exclusion", "is_valid": "Is Valid",
}
CHANGE_TITLES = {"entered": "Entered", "left": "Left", "became_eligible": "Became eligible",
                 "lost_eligibility": "Lost eligibility", "checks_changed": "Checks changed"}
_RESULT_TEXT = {1: "Passed", 0: "Failed", None: "NA"}
_VALID_TEXT = {1: "Valid", 0: "Invalid", None: ""}
TRANSITION_TEXT = {t: " → ".join("NA" if word == "na" else word.capitalize() for word in t.split("_to_"))
                    for t in explain_queries.TRANSITIONS}


def changed_checks(change: str, *results) -> str:
    """The compared results that changed, in words ("CASL: Passed → Failed");
    ``results`` holds each result of :data:`explain_queries.COMPARED` in A then in B."""
    if change in ("entered", "left"):
        return ""
    words = []
    for index, name in enumerate(explain_queries.COMPARED):
        before, after = results[2 * index], results[2 * index + 1]
        if before != after:
            text = _VALID_TEXT if name == "is_valid" else _RESULT_TEXT
            words.append(f"{COMPARED_TITLES[name]}: {text[before]} → {text[after]}")
    return "; ".join(words)


def _difference_table() -> tables.Table:
    results = tuple(f"{side}_{name}" for name in explain_queries.COMPARED for side in ("a", "b"))
    return tables.Table("differences", "Differences", (
        tables.Column("first_name", "First Name", ("first_name",), free_text=True),
        tables.Column("last_name", "Last Name", ("last_name",), free_text=True),
        tables.Column("vehicle", "Vehicle", ("year", "make", "model"), tables.format_vehicle, free_text=True),
        tables.Column("change", "Change", ("change",), CHANGE_TITLES.__getitem__, kind="status", categorical=True),
        tables.Column("a_is_valid", "Is Valid in A", ("a_is_valid",), _VALID_TEXT.__getitem__, kind="status", categorical=True),
        tables.Column("b_is_valid", "Is Valid in B", ("b_is_valid",), _VALID_TEXT.__getitem__, kind="status", categorical=True),
        tables.Column("checks_changed", "Checks Changed", ("change", *results), changed_checks, categorical=True),
    ))


DIFFERENCES = _difference_table()


def comparison(db: Database, first: int, second: int) -> explain_queries.Comparison:
    """Compare two runs of one campaign, the older as A; refuses runs of two
    campaigns (``RunsNotComparable``) and unknown runs (``RunNotFound``)."""
    with db.read() as conn:
        run_a, run_b = explain_queries.run_pair(conn, first, second)
        return explain_queries.compare_runs(conn, run_a.id, run_b.id)


def previous_run(db: Database, run_id: int) -> int | None:
    """The completed run of the same campaign and purpose before ``run_id``, the
    one a run alone is compared with (``explain_queries.previous_run``)."""
    with db.read() as conn:
        return explain_queries.previous_run(conn, run_id)


def difference_source(run_a: int, run_b: int, kind: str | None = None) -> tables.TableSource:
    """The potentials whose outcome differs, as a table to show or export."""
    return tables.TableSource(DIFFERENCES, listing=DifferenceListing(run_id=run_b, run_a=run_a, kind=kind))


def format_comparison(compared: explain_queries.Comparison) -> str:
    """The text ``compare`` prints: the counts, then each result that changed."""
    lines = [f"Run {compared.run_a} (A, older) → run {compared.run_b} (B)"]
    for key in ("entered", "left", "became_eligible", "lost_eligibility"):
        lines.append(f"  {CHANGE_TITLES[key]:<22}{getattr(compared, key):>12,}")
    for name, transitions in compared.checks.items():
        changed = ", ".join(f"{TRANSITION_TEXT[t]} {n:,}" for t, n in transitions.items() if n)
        if changed:
            lines.append(f"  {COMPARED_TITLES[name]:<22}{changed}")
    return "\n".join(lines)


# -- a customer's story ----------------------------------------------------------------

FLAG_TITLES = {"deleted": "Deleted", "opt_out_all": "Opt out all", "do_not_call": "Do not call",
               "email_opt_out": "Email opt-out", "sms_opt_out": "SMS opt-out"}


def _date(value) -> str:
    return value.astimezone(dt.timezone.utc).date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()


def casl_standing(customer, now: dt.datetime) -> list[str]:
    """The customer's CASL consent at ``now``, in words, by the engine's rule (RULES §3):
    withdrawn unless a later express consent; express; implied by a purchase within
    730 days or an inquiry within 183 days of today's date."""
    def counts(value) -> bool:
        return value is not None and value <= now

    express, withdrawn = customer.casl_express_consent_at, customer.casl_withdrawn_at
    if counts(withdrawn) and not (counts(express) and express > withdrawn):
        return [f"withdrawn on {_date(withdrawn)}"]
    standing = []
    if counts(express):
        standing.append(f"express since {_date(express)}")
    today = now.date()
    for value, days, what in ((customer.last_purchase_at, consent.CASL_PURCHASE_DAYS, "purchase"),
                              (customer.last_inquiry_at, consent.CASL_INQUIRY_DAYS, "inquiry")):
        if counts(value) and value.astimezone(dt.timezone.utc).date() >= today - dt.timedelta(days=days):
            until = value.astimezone(dt.timezone.utc).date() + dt.timedelta(days=days)
            standing.append(f"implied by the {what} of {_date(value)} until {until.isoformat()}")
    return standing or ["none"]


def contact_verdicts(customer) -> dict[str, str]:
    """Each channel's verdict by the engine's contact rules (RULES §3)."""
    country = customer.country
    email_ok = customer.email is not None and contact_rules.email_is_valid(customer.email)
    phones = [contact_rules.phone_verdict(v, country) for v in (customer.phone, customer.mobile) if v is not None]
    mobile = contact_rules.phone_verdict(customer.mobile, country) if customer.mobile is not None else (False, False)

    def verdict(ok: bool, opted_out: bool, missing: bool) -> str:
        return "opted out" if opted_out else "missing" if missing else "valid" if ok else "invalid"

    return {
        "email": verdict(email_ok, customer.email_opt_out, customer.email is None),
        "phone": verdict(any(valid for valid, _ in phones), customer.do_not_call, not phones),
        "sms": verdict(mobile[0] and mobile[1], customer.sms_opt_out, customer.mobile is None),
    }


def _vehicle_words(row) -> str:
    return tables.format_vehicle(row.year, row.make, row.model) or ("no vehicle" if row.vehicle_id is None else f"vehicle {row.vehicle_id}")


def _outcome(potentials) -> str:
    if any(p.status is PotentialStatus.SUCCESS for p in potentials):
        return "enrolled"
    return "eligible" if any(p.is_valid for p in potentials) else "not eligible"


def customer_story(db: Database, customer_id: int, now: dt.datetime | None = None) -> dict:
    """Everything the customer window and ``customer`` show of one customer."""
    now = now or dt.datetime.now(dt.timezone.utc)
    with db.read() as conn:
        customer = customer_queries.customer_row(conn, customer_id)
        tags = customer_queries.customer_tags(conn, customer_id)
        vehicles = customer_queries.customer_vehicles(conn, customer_id)
        campaigns = customer_queries.organization_campaigns(conn, customer.organization_id)
        active = customer_queries.active_enrollments(conn, customer_id)
        last = customer_queries.last_runs(conn, customer_id)
        considered = {run.id: customer_queries.run_potentials_of(conn, run.id, customer_id) for run in last.values()}
    rows = []
    for campaign in campaigns:
        run = last.get(campaign.id)
        potentials = considered.get(run.id, []) if run else []
        simulation = run is not None and run.purpose is RunPurpose.CAMPAIGN_SIMULATION
        rows.append({
            "campaign_id": campaign.id,
            "campaign": campaign.name,
            "enrolled": [
                {"status": e.status.value, "vehicle": _vehicle_words(e), "event_key": e.event_key,
                 "since": e.enrolled_at.isoformat() if e.enrolled_at else None}
                for e in active if e.campaign_id == campaign.id],
            "last_run_id": run.id if run else None,
            "last_run_at": (run.as_of or run.created_at).isoformat() if run else None,
            "last_outcome": _outcome(potentials) if run else None,
            "reasons": [
                {"vehicle": _vehicle_words(p),
                 "reason": run_detail.why_not_enrolled(p.status, tuple(p._mapping[c.value] for c in Check), simulation, run.status.finished)}
                for p in potentials],
        })
    return {
        "id": customer.id,
        "organization_id": customer.organization_id,
        "organization": customer.organization_name,
        "organization_timezone": customer.organization_timezone,  # as stored: may be empty or unknown
        "country": customer.country,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "phone": customer.phone,
        "mobile": customer.mobile,
        "verdicts": contact_verdicts(customer),
        "flags": [title for name, title in FLAG_TITLES.items() if customer._mapping[name]],
        "tags": tags,
        "vehicles": [{"id": v.id, "vehicle": _vehicle_words(v), "vin": v.vin} for v in vehicles],
        "casl": casl_standing(customer, now) if customer.country == "CA" else None,
        "campaigns": rows,
    }


def find_customers(db: Database, text: str, organization_id: int | None) -> list[customer_queries.Found]:
    """The customer search; without an organization, more than one organization in the
    database, and not an exact id, the search is refused (it would cross organizations)."""
    with db.read() as conn:
        if organization_id is None:
            choices = customer_queries.organization_choices(conn)
            if len(choices) == 1:
                organization_id = choices[0].id
            elif not text.strip().isdigit():
                names = "; ".join(f"{o.id} {o.name}" for o in choices)
                raise UserError(f"Name an organization with --organization (a search never crosses organizations): {names}")
        return customer_queries.search_customers(conn, text, organization_id)


def format_customer(story: dict) -> str:
    """The text ``customer`` prints."""
    name = " ".join(part for part in (story["first_name"], story["last_name"]) if part)
    lines = [f"Customer {story['id']}: {name} — {story['organization']} ({story['country']})",
             f"  Email {story['email'] or ''} [{story['verdicts']['email']}]  Phone {story['phone'] or ''} "
             f"[{story['verdicts']['phone']}]  Mobile {story['mobile'] or ''} [SMS {story['verdicts']['sms']}]",
             f"  Flags: {', '.join(story['flags']) or 'none'}   Tags: {', '.join(story['tags']) or 'none'}",
             f"  Vehicles: {', '.join(v['vehicle'] for v in story['vehicles']) or 'none'}"]
    if story["casl"] is not None:
        lines.append(f"  CASL today: {'; '.join(story['casl'])}")
    for row in story["campaigns"]:
        enrolled = "; ".join(f"{e['status']} {e['vehicle']} since {e['since']}" for e in row["enrolled"]) or "not enrolled"
        last = f"last run {row['last_run_id']} ({row['last_run_at']}): {row['last_outcome']}" if row["last_run_id"] else "no run considered them"
        lines.append(f"  {row['campaign']}: {enrolled}; {last}")
        for reason in row["reasons"]:
            lines.append(f"      {reason['vehicle']}: {reason['reason'] or 'enrolled'}")
    return "\n".join(lines)
