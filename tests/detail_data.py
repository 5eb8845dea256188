"""A run with its events, query params, potentials and campaign customers, written
row by row (Core inserts), for the run window and export tests that need exact,
awkward values: names with commas, quotes, newlines, accents and formula starts.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa

from enroller_desktop.db import models as m
from enroller_desktop.db.enums import (
    CampaignCustomerPurpose,
    CampaignCustomerStatus,
    EventLevel,
    Expiration,
    PotentialStatus,
    RunPurpose,
    RunStatus,
    RunStep,
)

T0 = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.timezone.utc)

#: (first, last, checks in Check order: valid_email, valid_phone, valid_message,
#: deleted, unique_event, already_in_queue, casl, opt_out_all, marketing_exclusion, status)
PEOPLE = [
    ("Zoë", "Ångström", (1, 1, None, 1, 1, 1, 1, 1, 1), PotentialStatus.SUCCESS),
    ("Smith, John", 'O"Brien', (1, 0, None, 1, 1, 1, 1, 1, 1), PotentialStatus.SUCCESS),
    ("=HYPERLINK(\"x\")", "+1", (0, 0, None, 1, 1, 1, 1, 1, 1), PotentialStatus.PENDING),
    ("-minus", "@at", (1, 1, None, 0, 1, 1, 1, 1, 1), PotentialStatus.PENDING),
    ("line\nbreak", "\ttab", (1, 1, None, 1, 0, 1, 1, 1, 1), PotentialStatus.PENDING),
    ("\rcarriage", "Lee", (1, 1, None, 1, 1, 0, 1, 1, 1), PotentialStatus.PENDING),
    ("Ann", "lee", (1, 1, None, 1, 1, 1, 0, 1, 1), PotentialStatus.PENDING),
    ("Émile", "Zola", (1, 1, None, 1, 1, 1, 1, 0, 0), PotentialStatus.PENDING),
    ("Bob", None, (1, 1, None, 1, 1, 1, 1, 1, 1), PotentialStatus.ERROR),
    (None, "Nobody", (0, 0, None, 0, 0, 0, 0, 0, 0), PotentialStatus.PENDING),
]
CHECK_FIELDS = ("valid_email", "valid_phone", "valid_message", "deleted", "unique_event", "already_in_queue", "casl", "opt_out_all", "marketing_exclusion")


@dataclass
class BuiltRun:
    run_id: int
    campaign_id: int
    organization_id: int
    customer_ids: list[int]


def build_run(db, *, purpose: RunPurpose = RunPurpose.DEFAULT, status: RunStatus = RunStatus.COMPLETED, people=PEOPLE) -> BuiltRun:
    with db.write() as conn:
        org = conn.execute(sa.insert(m.Organization).values(name="Maple, \"Motors\"", country="CA", timezone="America/Toronto").returning(m.Organization.id)).scalar_one()
        campaign = conn.execute(
            sa.insert(m.Campaign).values(organization_id=org, name="Lease — maturité", uses_email=True, uses_phone=True).returning(m.Campaign.id)
        ).scalar_one()
        params = [
            conn.execute(
                sa.insert(m.QueryParam)
                .values(campaign_id=campaign, process_order=order, name=name, criterion=json.dumps(criterion), event_key="vehicle.lease_end_date")
                .returning(m.QueryParam.id)
            ).scalar_one()
            for order, name, criterion in (
                (1, "Lease ends soon", {"field": "vehicle.lease_end_date", "op": "within_next_days", "value": 90}),
                (2, "=Old buyers", {"field": "customer.last_purchase_at", "op": "older_than_days", "value": 365}),
            )
        ]
        finished = status in (RunStatus.COMPLETED, RunStatus.ERROR, RunStatus.CANCELED)
        run = conn.execute(
            sa.insert(m.EnrollerRun)
            .values(
                organization_id=org,
                campaign_id=campaign,
                purpose=purpose,
                status=status,
                step=RunStep.CAMPAIGN_CUSTOMERS,
                as_of=T0,
                created_at=T0,
                in_progress_at=T0 + dt.timedelta(seconds=1),
                completed_at=T0 + dt.timedelta(seconds=73.5) if finished else None,
                query_param_customers=len(people),
                potential_customers=7,
                potential_events=5,
                eligible=3,
                success=2,
                expired=1 if purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE else None,
                error_message="The database stopped answering" if status is RunStatus.ERROR else None,
            )
            .returning(m.EnrollerRun.id)
        ).scalar_one()
        for order, param in enumerate(params, start=1):
            conn.execute(
                sa.insert(m.EnrollerRunQueryParam).values(
                    run_id=run,
                    query_param_id=param,
                    process_order=order,
                    status=RunStatus.COMPLETED,
                    total_customers=7 * order,
                    query_attempts=order,
                    average_potential_duration_ms=1.25 * order,
                    created_at=T0,
                    in_progress_at=T0 + dt.timedelta(seconds=order),
                    completed_at=T0 + dt.timedelta(seconds=order * 3),
                )
            )
        for index, (stage, level, message) in enumerate(
            (
                (RunStep.MAIN, EventLevel.INFO, "Run started"),
                (RunStep.CRITERIONS, EventLevel.INFO, "Query param 1 matched 7 candidates"),
                (RunStep.CRITERIONS, EventLevel.WARNING, "Query param 2 retried, \"lock\""),
                (RunStep.CUSTOMER_VALIDATION, EventLevel.ERROR, "-Validation failed, twice"),
                (RunStep.CAMPAIGN_CUSTOMERS, EventLevel.INFO, "Enrolled 2"),
            )
        ):
            conn.execute(
                sa.insert(m.EnrollerRunEvent).values(
                    run_id=run, stage=stage, level=level, message=message, row_count=index * 10 or None, created_at=T0 + dt.timedelta(seconds=index), duration_ms=index * 1500.0
                )
            )
        customer_ids = []
        for index, (first, last, checks, potential_status) in enumerate(people):
            customer = conn.execute(
                sa.insert(m.Customer).values(organization_id=org, first_name=first, last_name=last, created_at=T0).returning(m.Customer.id)
            ).scalar_one()
            customer_ids.append(customer)
            vehicle = None
            if index % 3 != 2:
                vehicle = conn.execute(
                    sa.insert(m.Vehicle).values(customer_id=customer, year=2020 + index, make="Kia", model="Niro, EV").returning(m.Vehicle.id)
                ).scalar_one()
            eligible = all(checks[i] in (1, None) for i in (3, 4, 5, 6, 7, 8)) and any(checks[i] == 1 for i in (0, 1, 2))
            conn.execute(
                sa.insert(m.EnrollerRunCustomer).values(
                    run_id=run,
                    customer_id=customer,
                    vehicle_id=vehicle,
                    query_param_id=params[index % 2],
                    first_name=first,
                    last_name=last,
                    status=potential_status,
                    is_valid=eligible,
                    validated_at=T0 + dt.timedelta(seconds=30),
                    **dict(zip(CHECK_FIELDS, checks)),
                )
            )
            if potential_status is PotentialStatus.SUCCESS:
                conn.execute(
                    sa.insert(m.CampaignCustomer).values(
                        campaign_id=campaign,
                        customer_id=customer,
                        vehicle_id=vehicle,
                        event_key="2026-05-01",
                        run_id=run,
                        purpose=CampaignCustomerPurpose.RETURN_CALL if index else CampaignCustomerPurpose.DEFAULT,
                        status=CampaignCustomerStatus.ASSIGNED if index else CampaignCustomerStatus.QUEUED,
                        enrolled_at=T0,
                        last_attempt_at=T0 + dt.timedelta(days=1) if index else None,
                        last_attempt_disposition="=cmd|' /C calc'!A0" if index else None,
                        appointment_at=T0 + dt.timedelta(days=3) if index else None,
                    )
                )
        if purpose is RunPurpose.CAMPAIGN_EVALUATION_AND_EXPIRE:
            conn.execute(
                sa.insert(m.CampaignCustomer).values(
                    campaign_id=campaign,
                    customer_id=customer_ids[-1],
                    event_key="old",
                    run_id=None,
                    status=CampaignCustomerStatus.QUEUED,
                    enrolled_at=T0 - dt.timedelta(days=400),
                    expiration=Expiration.AGED_OUT,
                    expired_at=T0,
                )
            )
    return BuiltRun(run, campaign, org, customer_ids)


# -- runs executed by the real engine on a small campaign -----------------------------


def build_campaign(db) -> int:
    """A Canadian campaign over every channel with forty customers whose contact
    data, consent, deletions and earlier enrollments make every check both pass
    and fail somewhere."""
    now = dt.datetime.now(dt.timezone.utc)
    with db.write() as conn:
        org = conn.execute(sa.insert(m.Organization).values(name="Lakeshore Auto", country="CA").returning(m.Organization.id)).scalar_one()
        campaign = conn.execute(
            sa.insert(m.Campaign)
            .values(organization_id=org, name="Service Due", uses_email=True, uses_phone=True, uses_sms=True, expire_after_days=30)
            .returning(m.Campaign.id)
        ).scalar_one()
        conn.execute(
            sa.insert(m.QueryParam),
            [
                {"campaign_id": campaign, "process_order": 1, "name": "Recent models", "criterion": json.dumps({"field": "vehicle.year", "op": "ge", "value": 2018}), "event_key": ""},
                {"campaign_id": campaign, "process_order": 2, "name": "Everyone", "criterion": json.dumps({"field": "customer.created_at", "op": "not_null"}), "event_key": ""},
            ],
        )
        for i in range(40):
            customer = conn.execute(
                sa.insert(m.Customer)
                .values(
                    organization_id=org,
                    first_name=f"Première{i}" if i % 9 == 0 else f"First{i}",
                    last_name=f"Last, {i}" if i % 10 == 0 else f"Last{i}",
                    email="not-an-email" if i % 5 == 0 else f"c{i}@example.com",
                    phone="123" if i % 4 == 0 else "4165550199",
                    mobile="6135550123" if i % 3 == 0 else None,
                    deleted=i % 11 == 0,
                    opt_out_all=i % 13 == 0,
                    casl_express_consent_at=now - dt.timedelta(days=10) if i % 2 == 0 else None,
                    last_purchase_at=now - dt.timedelta(days=100) if i % 3 == 1 else None,
                    created_at=now - dt.timedelta(days=500),
                )
                .returning(m.Customer.id)
            ).scalar_one()
            vehicles = [] if i % 7 == 0 else [2014 + i % 10] + ([2021] if i % 6 == 0 else [])
            vehicle_ids = [
                conn.execute(sa.insert(m.Vehicle).values(customer_id=customer, year=year, make="Honda", model="Civic").returning(m.Vehicle.id)).scalar_one()
                for year in vehicles
            ]
            if i % 8 == 0:
                conn.execute(
                    sa.insert(m.CampaignCustomer).values(
                        campaign_id=campaign,
                        customer_id=customer,
                        vehicle_id=vehicle_ids[0] if vehicle_ids else None,
                        event_key="",
                        status=CampaignCustomerStatus.QUEUED,
                        enrolled_at=now - dt.timedelta(days=100),
                    )
                )
    return campaign


def engine_run(db, purpose: RunPurpose) -> int:
    """A run of ``purpose`` executed by the engine over :func:`build_campaign`."""
    from enroller_desktop.engine.runs import create_run, execute_run

    campaign = build_campaign(db)
    customer = None
    if purpose is RunPurpose.CUSTOMER_EVALUATION:
        with db.read() as conn:
            customer = conn.execute(sa.select(m.Customer.id).where(m.Customer.last_name == "Last1").order_by(m.Customer.id.desc())).scalars().first()
    run_id = create_run(db, campaign_id=campaign, purpose=purpose, customer_id=customer)
    execute_run(db, run_id)
    return run_id
