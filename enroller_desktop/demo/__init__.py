"""Demo data: a dealership's data as messy as the real thing, loaded fast, the
same for a seed on a given day.

Five organizations in Canada and the United States, fourteen campaigns over every
mix of channels (one with none), their query params in the JSON criteria of RULES
§4, customers with their tags and vehicles, and the enrollments the
downstream calling, email and texting systems have already moved along: every
status and purpose, some expired for each reason, with attempts, dispositions
and appointments.

:func:`load_data` writes the data; :func:`load_demo` then has the real engine
make a run history over it (``demo.history``). The enrollments written here
predate the runs and carry no ``run_id``.
Loading into a database that has data adds a second set beside it, with ids
after the existing ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from enroller_desktop.db import models
from enroller_desktop.db.engine import Database
from enroller_desktop.demo import generate
from enroller_desktop.demo.bulk import BulkWriter
from enroller_desktop.demo.generate import DemoGenerator, FirstIds

Progress = Callable[[float, str], None]

_ORGANIZATIONS = models.Organization.__table__
_CAMPAIGNS = models.Campaign.__table__
_EXCLUDED_TAGS = models.CampaignExcludedTag.__table__
_QUERY_PARAMS = models.QueryParam.__table__
_CUSTOMERS = models.Customer.__table__
_CUSTOMER_TAGS = models.CustomerTag.__table__
_VEHICLES = models.Vehicle.__table__
_CAMPAIGN_CUSTOMERS = models.CampaignCustomer.__table__


@dataclass
class DemoCounts:
    organizations: int = 0
    campaigns: int = 0
    query_params: int = 0
    customers: int = 0
    customer_tags: int = 0
    vehicles: int = 0
    campaign_customers: int = 0

    def summary(self) -> str:
        return (
            f"Loaded {self.customers:,} customers, {self.vehicles:,} vehicles, {self.campaigns:,} campaigns "
            f"({self.query_params:,} query params) in {self.organizations:,} organizations, "
            f"and {self.campaign_customers:,} campaign customers"
        )


def is_empty(db: Database) -> bool:
    """True when the database holds no organization, so a demo may be loaded."""
    with db.read() as conn:
        return not conn.execute(sa.select(sa.exists().select_from(_ORGANIZATIONS))).scalar_one()


def load_data(
    db: Database,
    *,
    customers: int = 20_000,
    seed: int = 1,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> DemoCounts:
    """Write the demo's organizations, campaigns, customers, vehicles and campaign
    customers in one transaction: all of it or, on failure, nothing.

    ``today`` (default: the current UTC date) is the day every demo date is
    counted from.
    """
    today = today or dt.datetime.now(dt.timezone.utc).date()
    counts = DemoCounts()
    with db.write() as conn:
        writer = BulkWriter(conn)
        first_ids = FirstIds(*(writer.max_id(t) for t in (
            _ORGANIZATIONS, _CAMPAIGNS, _QUERY_PARAMS, _CUSTOMERS, _VEHICLES, _CAMPAIGN_CUSTOMERS
        )))
        demo = DemoGenerator(seed=seed, today=today, first_ids=first_ids)

        organizations = demo.organizations()
        campaigns, excluded_tags, query_params = demo.campaigns()
        writer.write(_ORGANIZATIONS, generate.ORGANIZATION_COLUMNS, organizations)
        writer.write(_CAMPAIGNS, generate.CAMPAIGN_COLUMNS, campaigns)
        writer.write(_EXCLUDED_TAGS, generate.EXCLUDED_TAG_COLUMNS, excluded_tags)
        writer.write(_QUERY_PARAMS, generate.QUERY_PARAM_COLUMNS, query_params)
        counts.organizations, counts.campaigns, counts.query_params = len(organizations), len(campaigns), len(query_params)

        with writer.foreign_keys_checked_at_end((_CUSTOMERS, _CUSTOMER_TAGS, _VEHICLES, _CAMPAIGN_CUSTOMERS)):
            for chunk in demo.customers(customers):
                writer.write(_CUSTOMERS, generate.CUSTOMER_COLUMNS, chunk.customers)
                writer.write(_CUSTOMER_TAGS, generate.CUSTOMER_TAG_COLUMNS, chunk.customer_tags)
                writer.write(_VEHICLES, generate.VEHICLE_COLUMNS, chunk.vehicles)
                writer.write(_CAMPAIGN_CUSTOMERS, generate.CAMPAIGN_CUSTOMER_COLUMNS, chunk.campaign_customers)
                counts.customers += len(chunk.customers)
                counts.customer_tags += len(chunk.customer_tags)
                counts.vehicles += len(chunk.vehicles)
                counts.campaign_customers += len(chunk.campaign_customers)
                if progress:
                    progress(counts.customers / customers, f"{counts.customers:,} of {customers:,} customers")
            if progress:
                progress(1.0, "Checking the links between customers, vehicles and campaigns")

        if progress:
            progress(1.0, "Updating the database's statistics")
        writer.finish((
            _ORGANIZATIONS, _CAMPAIGNS, _EXCLUDED_TAGS, _QUERY_PARAMS, _CUSTOMERS, _CUSTOMER_TAGS, _VEHICLES, _CAMPAIGN_CUSTOMERS
        ))
    return counts


def load_demo(
    db: Database,
    *,
    customers: int = 20_000,
    seed: int = 1,
    progress: Progress | None = None,
    today: dt.date | None = None,
    runs: bool = True,
) -> str:
    """Load the demo data set, then (``runs``) its run history made by the engine;
    return a one-line summary of what was loaded."""
    from enroller_desktop.demo.history import make_history

    today = today or dt.datetime.now(dt.timezone.utc).date()
    with db.read() as conn:
        first_campaign_id = (conn.execute(sa.select(sa.func.max(_CAMPAIGNS.c.id))).scalar() or 0) + 1
    data_share = 0.5 if runs else 1.0

    def data_progress(fraction: float, message: str) -> None:
        if progress:
            progress(fraction * data_share, message)

    counts = load_data(db, customers=customers, seed=seed, today=today, progress=data_progress)
    summary = f"{counts.summary()} (seed {seed})"
    if not runs:
        return summary

    def history_progress(fraction: float, message: str) -> None:
        if progress:
            progress(data_share + fraction * (1 - data_share), message)

    made = make_history(db, first_campaign_id=first_campaign_id, customers=customers, seed=seed, today=today,
                        progress=history_progress)
    return f"{summary}; {made:,} runs executed by the engine"
